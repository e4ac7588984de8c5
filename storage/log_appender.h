#pragma once
// The write seam for logs between ingest/ and storage/ (STYLE.md 3.6), beside
// MetricAppender in appender.h.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/model/labels.h"
#include "storage/model/log_entry.h"

namespace otelbox::storage {

// Why entries of one pushed stream were not written. Enum values are not persisted.
enum class LogRejectReason {
  kTooOld,      // older than retention (Loki: "timestamp too old")
  kNoLabels,    // a stream needs at least one label (Loki: "error at least one label pair
                // is required per stream")
};

// The entries of one stream that were not written, with the reason. One per (stream,
// reason); the rest of the stream and of the batch was written.
struct LogStreamRejection {
  Labels labels;
  LogRejectReason reason = LogRejectReason::kTooOld;
  int64_t entries_rejected = 0;
  int64_t first_rejected_t_ns = 0;    // timestamp of the first rejected entry
  int64_t oldest_acceptable_t_ns = 0;  // kTooOld: the retention cutoff at append time
  // Loki's wording, e.g. "entry for stream '{app=\"api\"}' has timestamp too old:
  // 2024-01-01T00:00:00Z, oldest acceptable timestamp is: 2024-01-08T00:00:00Z".
  std::string message;
};

struct LogAppendStats {
  int64_t entries_written = 0;
  int64_t entries_rejected = 0;
  int64_t bytes_written = 0;    // raw line bytes of the written entries
  int64_t streams_created = 0;  // streams this batch created
  std::vector<LogStreamRejection> rejections;
};

class LogAppender {
 public:
  virtual ~LogAppender() = default;
  // Writes the batch in one atomic RocksDB write and returns once it is in the WAL (synced
  // when the store was opened with sync_wal): the written entries are durable and visible
  // to every LogQuerier and to live-tail subscribers at once (read-after-write).
  // Entries at any timestamp inside retention are accepted, in any order; entries with
  // equal timestamps in one stream are kept in push order (duplicates are kept, not
  // merged). Entries older than retention are rejected per stream (see stats) and the rest
  // is written: that is not an error. Errors (Status) mean nothing was written:
  // ResourceExhausted (the store is behind on compressing what it holds; retryable, answer
  // 429), Unavailable (shutting down), Internal/DataLoss (RocksDB).
  // Thread-safe.
  virtual absl::StatusOr<LogAppendStats> Append(std::string_view tenant,
                                                const LogBatch& batch) = 0;
};

}  // namespace otelbox::storage
