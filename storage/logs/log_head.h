#pragma once
// The in-memory head of the log store: per stream, the entries not yet in blocks, as
// immutable segments (one per Append and stream) that point into the `log_head` record
// they were written with. Readers copy a stream's segment list (shared pointers) under
// its lock and read without it.

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "storage/log_querier.h"
#include "storage/model/log_entry.h"

namespace otelbox::storage {

struct LogHeadEntry {
  int64_t t_ns = 0;
  std::string_view line;
  uint32_t md_begin = 0;
  uint32_t md_count = 0;
};

// The entries of one stream from one record. Immutable once built.
struct LogHeadSegment {
  std::shared_ptr<const std::string> record;  // owns the bytes the views point into
  uint64_t seq = 0;
  std::vector<LogHeadEntry> entries;  // push order
  std::vector<LabelView> metadata;
  int64_t raw_bytes = 0;  // lines + metadata names and values
  std::chrono::steady_clock::time_point arrived;

  std::span<const LabelView> MetadataOf(const LogHeadEntry& e) const {
    return std::span<const LabelView>(metadata.data() + e.md_begin, e.md_count);
  }
};

// The entries of one Append for one stream, for encoding.
struct LogHeadStreamInput {
  uint64_t stream_id = 0;
  std::vector<const LogEntry*> entries;
};

// `log_head` record value: lp(tenant) varint(streams), per stream varint(id) varint(n),
// per entry varsint(t_ns) lp(line) varint(m) m x (lp(name) lp(value)).
std::string EncodeLogHeadRecord(std::string_view tenant, std::span<const LogHeadStreamInput> streams);

// What is stored under a record key: u8 codec (0 raw, 1 LZ4 block) varint(raw size) and
// the (compressed) record. LZ4 keeps the WAL and memtable bytes of the head small at a
// cost far below the zstd of the blocks.
std::string WrapLogHeadRecord(std::string_view record);
// DataLoss when malformed.
absl::StatusOr<std::string> UnwrapLogHeadRecord(std::string_view stored);

struct ParsedLogHeadRecord {
  std::string_view tenant;
  std::vector<std::pair<uint64_t, std::shared_ptr<LogHeadSegment>>> segments;  // by stream id
};
// DataLoss when malformed.
absl::StatusOr<ParsedLogHeadRecord> ParseLogHeadRecord(std::shared_ptr<const std::string> record,
                                                       uint64_t seq);

// One stream's head. Lock order: flush_mu, then the LogStore append lock, then mu.
struct LogStreamHead {
  LogStreamHead(std::string tenant, uint64_t id) : tenant(std::move(tenant)), id(id) {}
  const std::string tenant;
  const uint64_t id;
  std::mutex mu;
  std::vector<std::shared_ptr<const LogHeadSegment>> segments ABSL_GUARDED_BY(mu);
  int64_t raw_bytes ABSL_GUARDED_BY(mu) = 0;
  // Held for a whole flush of this stream: flushes of one stream run one after the other
  // (a second one flushes what the first left).
  std::mutex flush_mu;
};

// Stream id -> head. Ids are unique across tenants. Thread-safe.
class LogHead {
 public:
  // The head of `id`, created when missing.
  std::shared_ptr<LogStreamHead> GetOrCreate(std::string_view tenant, uint64_t id);
  // Null when the stream has no head.
  std::shared_ptr<LogStreamHead> Find(uint64_t id) const;
  std::vector<std::shared_ptr<LogStreamHead>> All() const;

 private:
  mutable std::mutex mu_;
  std::unordered_map<uint64_t, std::shared_ptr<LogStreamHead>> streams_ ABSL_GUARDED_BY(mu_);
};

}  // namespace otelbox::storage
