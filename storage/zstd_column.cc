#include "storage/zstd_column.h"

#include <zstd.h>

#include <algorithm>
#include <cstring>

#include "storage/coding.h"

namespace otelbox::storage {
namespace {

// One context per thread: creating one per call costs more than compressing a small column.
ZSTD_CCtx* CompressionContext() {
  thread_local std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> ctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
  return ctx.get();
}
ZSTD_DCtx* DecompressionContext() {
  thread_local std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> ctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  return ctx.get();
}

}  // namespace

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
  thread_local std::unique_ptr<char[]> frame;
  thread_local size_t frame_capacity = 0;
  const size_t bound = ZSTD_compressBound(raw.size());
  if (bound > frame_capacity) {
    frame.reset(new char[bound]);
    frame_capacity = bound;
  }
  size_t n = ZSTD_compressCCtx(CompressionContext(), frame.get(), bound, raw.data(), raw.size(), level);
  if (ZSTD_isError(n)) n = 0;  // cannot happen with a bound-sized buffer
  PutVarint64(dst, n);
  dst->append(frame.get(), n);
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
  size_t n = ZSTD_decompressDCtx(DecompressionContext(), out->get(), raw, frame.data(), frame.size());
  return !ZSTD_isError(n) && n == raw;
}

bool ColumnBuffer::GetZstdColumn(std::string_view* in, std::string_view* column) {
  uint64_t raw, stored;
  if (!GetVarint64(in, &raw) || !GetVarint64(in, &stored) || stored > in->size()) return false;
  std::string_view frame = in->substr(0, stored);
  in->remove_prefix(stored);
  if (raw > (uint64_t{1} << 32)) return false;
  if (raw == 0) {
    *column = {};
    return true;
  }
  if (raw > capacity_) {
    capacity_ = std::max<size_t>(raw, capacity_ * 2);
    data_.reset(new char[capacity_]);
  }
  size_t n = ZSTD_decompressDCtx(DecompressionContext(), data_.get(), raw, frame.data(), frame.size());
  if (ZSTD_isError(n) || n != raw) return false;
  *column = std::string_view(data_.get(), raw);
  return true;
}

}  // namespace otelbox::storage
