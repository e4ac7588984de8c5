#pragma once
// The write seam for traces between ingest/ and storage/ (STYLE.md 3.6), beside
// storage/appender.h (metrics).

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "storage/model/span.h"

namespace otelbox::storage {

struct SpanAppendStats {
  int64_t spans_written = 0;
  // Spans storage cannot take (start older than retention, or end before start by more
  // than the span itself can explain); reported to OTLP clients as partial success.
  int64_t spans_rejected = 0;
  std::string first_rejection;  // human-readable reason of the first rejected span
};

class SpanAppender {
 public:
  virtual ~SpanAppender() = default;
  // Writes the batch in one atomic RocksDB write. Returns only once the write is in the
  // WAL: every span is then durable and visible to every TraceQuerier call
  // (read-after-write), by trace id and in searches. Spans of one trace may arrive in
  // any number of batches, in any order and at any time; they form one trace. Spans may
  // start anywhere inside retention. A span written twice (same trace id, span id and
  // start) is stored once. Thread-safe.
  // The batch is taken by value: the store keeps the spans (move it in).
  virtual absl::StatusOr<SpanAppendStats> Append(std::string_view tenant, SpanBatch batch) = 0;
};

}  // namespace otelbox::storage
