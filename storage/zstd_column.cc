#include "storage/zstd_column.h"

#include <zstd.h>

#include <cstring>

#include "storage/coding.h"

namespace otelbox::storage {

void PutColumn(std::string* dst, std::string_view raw, int level) {
  PutVarint64(dst, raw.size());
  if (level < 0) {
    PutVarint64(dst, raw.size());
    dst->append(raw);
    return;
  }
  if (raw.empty()) {
    PutVarint64(dst, 0);
    return;
  }
  std::string frame(ZSTD_compressBound(raw.size()), '\0');
  size_t n = ZSTD_compress(frame.data(), frame.size(), raw.data(), raw.size(), level);
  if (ZSTD_isError(n)) n = 0;  // cannot happen with a bound-sized buffer
  frame.resize(n);
  PutVarint64(dst, frame.size());
  dst->append(frame);
}

bool GetColumn(std::string_view* in, std::unique_ptr<char[]>* out, size_t* raw_size,
               bool want, bool zstd) {
  uint64_t raw, stored;
  if (!GetVarint64(in, &raw) || !GetVarint64(in, &stored) || stored > in->size()) return false;
  std::string_view frame = in->substr(0, stored);
  in->remove_prefix(stored);
  *raw_size = raw;
  if (!want) return true;
  if (raw > (uint64_t{1} << 32)) return false;
  out->reset(new char[raw == 0 ? 1 : raw]);
  if (raw == 0) return true;
  if (!zstd) {
    if (frame.size() != raw) return false;
    std::memcpy(out->get(), frame.data(), raw);
    return true;
  }
  size_t n = ZSTD_decompress(out->get(), raw, frame.data(), frame.size());
  return !ZSTD_isError(n) && n == raw;
}

}  // namespace otelbox::storage
