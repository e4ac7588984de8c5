#include "common/utf8.h"

namespace otelbox {

size_t DecodeUtf8(std::string_view s, size_t i, uint32_t* rune) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    *rune = c;
    return 1;
  }
  size_t n;
  uint32_t min;
  if ((c & 0xE0) == 0xC0) {
    n = 2, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4, min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  uint32_t r = c & (0x7F >> n);
  for (size_t k = 1; k < n; ++k) {
    const unsigned char d = static_cast<unsigned char>(s[i + k]);
    if ((d & 0xC0) != 0x80) return 0;
    r = (r << 6) | (d & 0x3F);
  }
  if (r < min || r > 0x10FFFF || (r >= 0xD800 && r < 0xE000)) return 0;
  *rune = r;
  return n;
}

bool IsValidUtf8(std::string_view s) {
  uint32_t rune;
  for (size_t i = 0; i < s.size();) {
    const size_t n = DecodeUtf8(s, i, &rune);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

void AppendUtf8(std::string* out, uint32_t rune) {
  if (rune > 0x10FFFF || (rune >= 0xD800 && rune <= 0xDFFF)) rune = 0xFFFD;
  if (rune < 0x80) {
    out->push_back(static_cast<char>(rune));
  } else if (rune < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (rune >> 6)));
    out->push_back(static_cast<char>(0x80 | (rune & 0x3F)));
  } else if (rune < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (rune >> 12)));
    out->push_back(static_cast<char>(0x80 | ((rune >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (rune & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (rune >> 18)));
    out->push_back(static_cast<char>(0x80 | ((rune >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((rune >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (rune & 0x3F)));
  }
}

}  // namespace otelbox
