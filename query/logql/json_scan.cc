#include "query/logql/json_scan.h"

#include <cstring>

#include "common/utf8.h"

namespace otelbox::query::logql::internal {

namespace {

// End of a string starting at s[i] == '"': index of the closing quote, or npos. Jumps between
// quotes with memchr; a quote preceded by an odd run of backslashes is escaped.
size_t StringEnd(std::string_view s, size_t i) {
  const char* base = s.data();
  size_t k = i + 1;
  while (k < s.size()) {
    const void* q = std::memchr(base + k, '"', s.size() - k);
    if (q == nullptr) return std::string_view::npos;
    size_t pos = static_cast<size_t>(static_cast<const char*>(q) - base);
    size_t backslashes = 0;
    while (pos - backslashes > i + 1 && base[pos - backslashes - 1] == '\\') ++backslashes;
    if (backslashes % 2 == 0) return pos;
    k = pos + 1;
  }
  return std::string_view::npos;
}

// End (one past) of an array/object starting at s[i], skipping strings; npos if unbalanced.
size_t BlockEnd(std::string_view s, size_t i, char open, char close) {
  int depth = 0;
  for (size_t k = i; k < s.size(); ++k) {
    char c = s[k];
    if (c == '"') {
      k = StringEnd(s, k);
      if (k == std::string_view::npos) return k;
      continue;
    }
    if (c == open) {
      ++depth;
    } else if (c == close) {
      if (--depth == 0) return k + 1;
    }
  }
  return std::string_view::npos;
}

size_t TokenEnd(std::string_view s, size_t i) {
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == ',' || c == '}' || c == ']') {
      return i;
    }
  }
  return s.size();
}

int Hex4(std::string_view s, size_t i) {
  if (i + 4 > s.size()) return -1;
  int v = 0;
  for (size_t k = i; k < i + 4; ++k) {
    char c = s[k];
    int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10
            : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

}  // namespace

size_t JsonStringEnd(std::string_view s, size_t i) { return StringEnd(s, i); }

std::string_view JsonParseValue(std::string_view s, size_t* pos, JsonType* type,
                                std::string_view* value) {
  size_t i = JsonSkipSpace(s, *pos);
  if (i >= s.size()) return kMalformedJson;
  char c = s[i];
  switch (c) {
    case '"': {
      size_t e = StringEnd(s, i);
      if (e == std::string_view::npos) return kMalformedString;
      *type = JsonType::kString;
      *value = s.substr(i + 1, e - i - 1);
      *pos = e + 1;
      return {};
    }
    case '[': {
      size_t e = BlockEnd(s, i, '[', ']');
      if (e == std::string_view::npos) return kMalformedArray;
      *type = JsonType::kArray;
      *value = s.substr(i, e - i);
      *pos = e;
      return {};
    }
    case '{': {
      size_t e = BlockEnd(s, i, '{', '}');
      if (e == std::string_view::npos) return kMalformedObject;
      *type = JsonType::kObject;
      *value = s.substr(i, e - i);
      *pos = e;
      return {};
    }
    default: {
      size_t e = TokenEnd(s, i);
      if (e == i) return kUnknownValueType;
      std::string_view tok = s.substr(i, e - i);
      if (c == 't' || c == 'f') {
        if (tok != "true" && tok != "false") return kUnknownValueType;
        *type = JsonType::kBool;
      } else if (c == 'n') {
        if (tok != "null") return kUnknownValueType;
        *type = JsonType::kNull;
      } else if (c == '-' || (c >= '0' && c <= '9')) {
        *type = JsonType::kNumber;
      } else {
        return kUnknownValueType;
      }
      *value = tok;
      *pos = e;
      return {};
    }
  }
}

bool JsonUnescape(std::string_view raw, std::string* out) {
  out->clear();
  out->reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c != '\\') {
      out->push_back(c);
      continue;
    }
    if (++i >= raw.size()) return false;
    switch (raw[i]) {
      case '"': out->push_back('"'); break;
      case '\\': out->push_back('\\'); break;
      case '/': out->push_back('/'); break;
      case 'b': out->push_back('\b'); break;
      case 'f': out->push_back('\f'); break;
      case 'n': out->push_back('\n'); break;
      case 'r': out->push_back('\r'); break;
      case 't': out->push_back('\t'); break;
      case 'u': {
        int cp = Hex4(raw, i + 1);
        if (cp < 0) return false;
        i += 4;
        uint32_t r = static_cast<uint32_t>(cp);
        if (r >= 0xD800 && r < 0xDC00) {
          // High surrogate: pair with a following \uDC00-\uDFFF, else U+FFFD.
          if (i + 6 < raw.size() + 0 && raw[i + 1] == '\\' && raw[i + 2] == 'u') {
            int lo = Hex4(raw, i + 3);
            if (lo >= 0xDC00 && lo < 0xE000) {
              r = 0x10000 + ((r - 0xD800) << 10) + (static_cast<uint32_t>(lo) - 0xDC00);
              i += 6;
            } else {
              r = 0xFFFD;
            }
          } else {
            r = 0xFFFD;
          }
        } else if (r >= 0xDC00 && r < 0xE000) {
          r = 0xFFFD;
        }
        AppendUtf8(out, r);
        break;
      }
      default:
        return false;
    }
  }
  return true;
}

std::string_view ReplaceInvalidUtf8(std::string_view in, std::string* buf) {
  // Fast check: pure ASCII needs nothing.
  size_t i = 0;
  for (; i < in.size(); ++i) {
    if (static_cast<unsigned char>(in[i]) >= 0x80) break;
  }
  if (i == in.size()) return in;
  bool dirty = false;
  std::string out;
  out.reserve(in.size());
  out.append(in.substr(0, i));
  while (i < in.size()) {
    unsigned char c = static_cast<unsigned char>(in[i]);
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    size_t len = 0;
    uint32_t cp = 0;
    if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; }
    bool ok = len > 0 && i + len <= in.size();
    for (size_t k = 1; ok && k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(in[i + k]);
      if ((cc & 0xC0) != 0x80) ok = false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (ok) {
      // Reject overlongs, surrogates and out-of-range (as Go's DecodeRune does).
      if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
          (cp >= 0xD800 && cp <= 0xDFFF)) {
        ok = false;
      }
    }
    if (!ok || cp == 0xFFFD) {
      out.push_back(' ');
      dirty = true;
      i += ok ? len : 1;
      continue;
    }
    out.append(in.substr(i, len));
    i += len;
  }
  if (!dirty) return in;
  *buf = std::move(out);
  return *buf;
}

std::string_view JsonStringValue(std::string_view raw, std::string* buf) {
  if (raw.find('\\') == std::string_view::npos) {
    return ReplaceInvalidUtf8(raw, buf);
  }
  std::string decoded;
  if (!JsonUnescape(raw, &decoded)) return {};
  std::string clean;
  std::string_view v = ReplaceInvalidUtf8(decoded, &clean);
  if (v.data() == decoded.data()) {
    *buf = std::move(decoded);
  } else {
    *buf = std::move(clean);
  }
  return *buf;
}

}  // namespace otelbox::query::logql::internal
