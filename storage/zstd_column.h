#pragma once
// A length-framed column of bytes, zstd-compressed or stored raw: the unit of compression
// of log blocks and search blocks (FORMAT.md), which compress themselves so RocksDB stores
// and compacts them without compressing them again.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace otelbox::storage {

// varint raw_size, varint stored_size, stored bytes: a zstd frame at `level`, or the raw
// bytes when level < 0 (raw_size 0 has no bytes).
void PutColumn(std::string* dst, std::string_view raw, int level);

// Reads the next column; when `want`, decompresses it (`zstd`: the column is a frame) into
// a fresh buffer of its raw size. False on malformed input.
bool GetColumn(std::string_view* in, std::unique_ptr<char[]>* out, size_t* raw_size, bool want,
               bool zstd);

// A buffer kept across columns: readers that decompress one large column after another
// would otherwise fault in fresh pages for each (and serialise threads on the kernel's
// memory map lock doing so).
class ColumnBuffer {
 public:
  // Reads the next zstd column into the buffer; `column` views it until the next call.
  bool GetZstdColumn(std::string_view* in, std::string_view* column);

 private:
  std::unique_ptr<char[]> data_;
  size_t capacity_ = 0;
};

}  // namespace otelbox::storage
