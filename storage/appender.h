#pragma once
// The only write seam between ingest/ and storage/ (STYLE.md 3.6).

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "storage/model/sample.h"

namespace otelbox::storage {

// What to do with samples storage cannot take (older than retention).
enum class RejectPolicy {
  kRejectBatch,  // write nothing, return InvalidArgument (Prometheus remote_write)
  kDropSample,   // write the rest, count the dropped ones (OTLP partial success)
};

struct AppendStats {
  int64_t samples_written = 0;
  int64_t samples_rejected = 0;
  int64_t series_created = 0;
  std::string first_rejection;  // human-readable reason of the first rejected sample
};

class MetricAppender {
 public:
  virtual ~MetricAppender() = default;
  // Writes the batch in one atomic RocksDB write. Returns only once the write is in the
  // WAL: a sample is then durable and visible to every querier (read-after-write).
  // Duplicate samples (same series and timestamp) are idempotent; a later write of a
  // different value at the same timestamp replaces the earlier one. Out-of-order and
  // backfilled samples are accepted anywhere inside retention.
  // Thread-safe.
  virtual absl::StatusOr<AppendStats> Append(std::string_view tenant, const MetricBatch& batch,
                                             RejectPolicy policy) = 0;
};

}  // namespace otelbox::storage
