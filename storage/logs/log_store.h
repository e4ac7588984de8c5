#pragma once
// Logs on RocksDB: the LogAppender, LogQuerier and LogTailer implementation
// (layout: storage/FORMAT.md "Logs").
//
// Write path: one WriteBatch per Append (stream rows, day postings via the shared label
// index, ONE `log_head` record with all entries), written with the WAL on; then the
// entries join their stream's in-memory head, so they are readable as soon as Append
// returns, and live-tail subscribers get copies. A background flusher compresses a
// stream's head into zstd blocks in `log_blocks` (columnar: timestamps, line lengths,
// lines, metadata) once it holds `block_target_bytes` of raw data or its oldest entry is
// `head_max_age` old, and later deletes the `log_head` records every stream has flushed.
// Read path: day-partitioned postings -> stream ids -> labels re-checked against every
// matcher; a scan merges the stream's blocks (found via small block-index rows) and head.
//
// Durability as MetricStore: `sync_wal=false` survives kill -9, `sync_wal=true` also a
// power loss. Restart replays the unflushed `log_head` records.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/self_metrics.h"
#include "storage/db.h"
#include "storage/log_appender.h"
#include "storage/log_querier.h"

namespace otelbox::storage {

struct LogStoreOptions {
  // Entries older than now - retention_ms are rejected on append and invisible to reads;
  // <= 0 disables retention. Should equal DatabaseOptions::log_retention_ms (which drives
  // the compaction filters).
  int64_t retention_ms = 15LL * 24 * 3600 * 1000;
  // Thread-safe clock in ms since the epoch; null means the system clock.
  std::function<int64_t()> now_ms;
  bool sync_wal = false;
  // A stream's head becomes a block at this much raw (line + metadata) data...
  int64_t block_target_bytes = 1 << 20;
  // ...or when its oldest entry has waited this long in the head.
  std::chrono::milliseconds head_max_age{5 * 60'000};
  // All heads together: above this, the largest heads are flushed early; above twice this
  // Append answers ResourceExhausted (ingest outran compression: back-pressure, not OOM).
  int64_t head_max_bytes = 256LL << 20;
  // zstd level of blocks.
  int compression_level = 1;
  // Run the background flusher (tests turn it off and call FlushHead).
  bool background_flush = true;
};

// Thread-safe: any number of concurrent Appends, scans and tail subscriptions.
class LogStore final : public LogAppender, public LogQuerier, public LogTailer {
 public:
  // `db` and `metrics` outlive the store; `metrics` may be null. Replays the head.
  static absl::StatusOr<std::unique_ptr<LogStore>> Open(Database* db, LogStoreOptions options,
                                                        SelfMetrics* metrics);
  ~LogStore() override;

  // LogAppender
  absl::StatusOr<LogAppendStats> Append(std::string_view tenant, const LogBatch& batch) override;

  // LogQuerier
  absl::StatusOr<std::vector<LogStreamRef>> SelectStreams(std::string_view tenant,
                                                          const LogMatcherSet& matchers,
                                                          int64_t start_ns,
                                                          int64_t end_ns) override;
  absl::Status ScanStream(std::string_view tenant, uint64_t stream_id, int64_t start_ns,
                          int64_t end_ns, LogDirection direction, const LogScanOptions& options,
                          LogEntryVisitor visit) override;
  absl::StatusOr<std::vector<std::string>> LabelNames(std::string_view tenant,
                                                      const LogMatcherSet& matchers,
                                                      int64_t start_ns, int64_t end_ns) override;
  absl::StatusOr<std::vector<std::string>> LabelValues(std::string_view tenant,
                                                       std::string_view name,
                                                       const LogMatcherSet& matchers,
                                                       int64_t start_ns, int64_t end_ns) override;
  absl::StatusOr<std::vector<Labels>> Series(std::string_view tenant,
                                             const std::vector<LogMatcherSet>& sets,
                                             int64_t start_ns, int64_t end_ns) override;
  absl::StatusOr<LogIndexStats> IndexStats(std::string_view tenant, const LogMatcherSet& matchers,
                                           int64_t start_ns, int64_t end_ns) override;
  absl::StatusOr<std::vector<LogVolume>> Volume(std::string_view tenant,
                                                const LogMatcherSet& matchers, int64_t start_ns,
                                                int64_t end_ns,
                                                const std::vector<std::string>& by_labels,
                                                int64_t step_ns, size_t limit) override;

  // LogTailer
  std::shared_ptr<LogTailSubscription> Subscribe(std::string_view tenant, size_t max_queued,
                                                 std::function<void()> on_ready) override;

  // Writes every stream's head into blocks now and trims the head log.
  absl::Status FlushHead();
  // Compacts the expired ranges so the retention filters reclaim space (hourly, blocking).
  void EnforceRetention();

 private:
  class Impl;
  explicit LogStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace otelbox::storage
