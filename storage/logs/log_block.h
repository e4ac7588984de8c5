#pragma once
// One compressed block of a stream's entries (storage/FORMAT.md "Logs"): columnar inside
// (timestamps + line lengths, lines, structured metadata), each column a separate zstd
// frame so that a scan decompresses only the columns it reads.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "storage/log_querier.h"

namespace otelbox::storage {

// What the block-index row holds (also enough for index stats and volume).
struct LogBlockSummary {
  int64_t min_t_ns = 0;
  int64_t max_t_ns = 0;
  int64_t entries = 0;
  int64_t raw_bytes = 0;     // line + metadata name/value bytes
  int64_t stored_bytes = 0;  // encoded data row value
};

// `entries` sorted by t ascending (equal timestamps in push order), not empty. Returns the
// data row value; fills `summary`.
std::string EncodeLogBlock(std::span<const LogEntryView> entries, int zstd_level,
                           LogBlockSummary* summary);

std::string EncodeLogBlockIndex(const LogBlockSummary& summary);
bool DecodeLogBlockIndex(std::string_view value, LogBlockSummary* summary);

// A decoded data row. Views returned stay valid while the object lives.
class DecodedLogBlock {
 public:
  // DataLoss when the value is malformed. `metadata` false skips that column.
  absl::Status Decode(std::string_view value, bool metadata);

  size_t size() const { return t_ns_.size(); }
  int64_t t_ns(size_t i) const { return t_ns_[i]; }
  std::string_view line(size_t i) const {
    return std::string_view(lines_.get() + line_offsets_[i], line_offsets_[i + 1] - line_offsets_[i]);
  }
  std::span<const LabelView> metadata(size_t i) const {
    if (md_begin_.empty()) return {};
    return std::span<const LabelView>(md_.data() + md_begin_[i], md_begin_[i + 1] - md_begin_[i]);
  }
  // Raw bytes of entry i (line + metadata), for stats.
  int64_t entry_bytes(size_t i) const;
  // First index with t >= t_ns.
  size_t LowerBound(int64_t t_ns) const;
  // Indexes in [lo, hi) of the entries whose line contains `needle` (not empty), found
  // with one search over the concatenated lines.
  std::vector<uint32_t> EntriesContaining(size_t lo, size_t hi, std::string_view needle) const;
  // Line + metadata bytes of entries [lo, hi).
  int64_t RangeBytes(size_t lo, size_t hi) const;

 private:
  std::vector<int64_t> t_ns_;
  std::vector<uint32_t> line_offsets_;  // size() + 1
  std::unique_ptr<char[]> lines_;
  std::unique_ptr<char[]> md_bytes_;
  std::vector<LabelView> md_;
  std::vector<uint32_t> md_begin_;  // size() + 1, or empty without metadata
};

}  // namespace otelbox::storage
