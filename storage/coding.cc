#include "storage/coding.h"

#include <bit>
#include <cstring>

namespace otelbox::storage {

void PutFixed32BE(std::string* dst, uint32_t v) {
  char buf[4];
  for (int i = 0; i < 4; ++i) buf[i] = static_cast<char>(v >> (24 - 8 * i));
  dst->append(buf, 4);
}

bool GetFixed32BE(std::string_view* in, uint32_t* v) {
  if (in->size() < 4) return false;
  uint32_t r = 0;
  for (int i = 0; i < 4; ++i) r = (r << 8) | static_cast<uint8_t>((*in)[i]);
  *v = r;
  in->remove_prefix(4);
  return true;
}

void PutFixed64BE(std::string* dst, uint64_t v) {
  char buf[8];
  for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>(v >> (56 - 8 * i));
  dst->append(buf, 8);
}

bool GetFixed64BE(std::string_view* in, uint64_t* v) {
  if (in->size() < 8) return false;
  uint64_t r = 0;
  for (int i = 0; i < 8; ++i) r = (r << 8) | static_cast<uint8_t>((*in)[i]);
  *v = r;
  in->remove_prefix(8);
  return true;
}

void PutOrderedInt64(std::string* dst, int64_t v) { PutFixed64BE(dst, EncodeOrderedInt64(v)); }

bool GetOrderedInt64(std::string_view* in, int64_t* v) {
  uint64_t u;
  if (!GetFixed64BE(in, &u)) return false;
  *v = DecodeOrderedInt64(u);
  return true;
}

void PutDouble(std::string* dst, double v) { PutFixed64BE(dst, std::bit_cast<uint64_t>(v)); }

bool GetDouble(std::string_view* in, double* v) {
  uint64_t u;
  if (!GetFixed64BE(in, &u)) return false;
  *v = std::bit_cast<double>(u);
  return true;
}

void PutLengthPrefixed(std::string* dst, std::string_view s) {
  PutVarint64(dst, s.size());
  dst->append(s);
}

bool GetLengthPrefixed(std::string_view* in, std::string_view* s) {
  uint64_t n;
  if (!GetVarint64(in, &n) || n > in->size()) return false;
  *s = in->substr(0, n);
  in->remove_prefix(n);
  return true;
}

void PutLabels(std::string* dst, const Labels& labels) {
  PutVarint64(dst, labels.size());
  for (const auto& l : labels) {
    PutLengthPrefixed(dst, l.name);
    PutLengthPrefixed(dst, l.value);
  }
}

bool GetLabels(std::string_view* in, Labels* labels) {
  uint64_t n;
  if (!GetVarint64(in, &n) || n > in->size()) return false;
  std::vector<Label> items;
  items.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view name, value;
    if (!GetLengthPrefixed(in, &name) || !GetLengthPrefixed(in, &value)) return false;
    items.push_back(Label{std::string(name), std::string(value)});
  }
  *labels = Labels(std::move(items));
  return true;
}

std::string PrefixSuccessor(std::string_view prefix) {
  std::string s(prefix);
  while (!s.empty()) {
    auto& c = reinterpret_cast<unsigned char&>(s.back());
    if (c != 0xff) {
      ++c;
      return s;
    }
    s.pop_back();
  }
  return s;
}

}  // namespace otelbox::storage
