#pragma once
// Traces on RocksDB: the SpanAppender and TraceQuerier implementation (FORMAT.md "traces").
//
// Write path: one WriteBatch per Append holding one `traces` row per trace of the batch
// (the span group: tenant|trace id|seq), one head-log record in `span_search` naming those
// rows, and the tag-index rows not written before; written with the WAL on. Then the
// groups enter the in-memory head, so spans are searchable as soon as Append returns.
// A background cutter turns the head into search blocks (per tenant and hour of span
// start) every `block_spans` spans or `block_interval`, deleting the head-log records in
// the same write. Restart replays the head log.
//
// Read path: trace by id = one prefix scan of `traces`. Search = the head, then the
// search blocks of the time range newest first, skipping blocks whose dictionary lacks a
// required string and rows the prefilter rejects; whole traces come from `traces`.
//
// Durability: as MetricStore (`sync_wal` fsyncs every Append).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "common/self_metrics.h"
#include "storage/db.h"
#include "storage/trace_appender.h"
#include "storage/trace_querier.h"

namespace otelbox::storage {

struct TraceStoreOptions {
  // Spans starting before now - retention_ms are rejected on append and hidden from reads;
  // <= 0 disables. Should equal DatabaseOptions::trace_retention_ms.
  int64_t retention_ms = 15LL * 24 * 3600 * 1000;
  std::function<int64_t()> now_ms;  // thread-safe; null = system clock
  bool sync_wal = false;
  // The head is cut into search blocks at this many spans or after this long.
  size_t block_spans = 20'000;
  std::chrono::milliseconds block_interval{5'000};
  // Tag index bounds: distinct values kept per (day, scope, name); longer values are not
  // indexed (their name is).
  size_t max_tag_values_per_name = 5'000;
  size_t max_tag_value_bytes = 256;
  // Searches with a tag filter but no time range look this far back.
  int64_t default_filtered_tag_lookback_ms = 24LL * 3600 * 1000;
};

// Thread-safe: any number of concurrent Appends and queries.
class TraceStore final : public SpanAppender, public TraceQuerier {
 public:
  // `db` and `metrics` (may be null) outlive the store. Replays the head log.
  static absl::StatusOr<std::unique_ptr<TraceStore>> Open(Database* db, TraceStoreOptions options,
                                                          SelfMetrics* metrics);
  ~TraceStore() override;

  absl::StatusOr<SpanAppendStats> Append(std::string_view tenant, SpanBatch batch) override;

  absl::StatusOr<std::vector<Span>> FindTrace(std::string_view tenant, const TraceId& trace_id,
                                              uint64_t start_ns = kMinSpanTimeNs,
                                              uint64_t end_ns = kMaxSpanTimeNs) override;
  absl::Status FetchTraces(std::string_view tenant, const TraceFetchRequest& request,
                           const TraceVisitor& visit, TraceFetchStats* stats) override;
  absl::StatusOr<ScopedTagNames> TagNames(std::string_view tenant,
                                          const TagRequest& request) override;
  absl::StatusOr<std::vector<TagValue>> TagValues(std::string_view tenant,
                                                  const TagRequest& request) override;

  // Cuts the whole head into search blocks now (the background cutter does it on its own).
  absl::Status CutBlocks();
  // Compacts the trace families so the retention filters reclaim space. Does nothing when
  // the cutoff has not crossed a day boundary since the last run. Blocking.
  void EnforceRetention();

  size_t head_spans() const;

 private:
  // The spans of one trace from one Append. Kept decoded: searches of the head and the
  // cut into search blocks read them without decoding the `traces` row again.
  struct HeadGroup {
    uint64_t seq = 0;
    TraceId trace_id{};
    uint64_t min_start_ns = UINT64_MAX;
    uint64_t max_start_ns = 0;
    size_t encoded_bytes = 0;  // of its `traces` row (search statistics)
    std::vector<Span> spans;
  };
  using HeadGroupPtr = std::shared_ptr<const HeadGroup>;
  struct TenantHead {
    std::vector<HeadGroupPtr> groups;  // ascending seq
    size_t spans = 0;
  };

  TraceStore(Database* db, TraceStoreOptions options, SelfMetrics* metrics);
  absl::Status ReplayHeadLog();
  void CutLoop();
  uint64_t NextSeq();
  uint64_t CutoffNs() const;
  uint64_t NowNs() const;
  // Adds the keys of the tag rows of `spans` not yet written to `keys`, and their
  // fingerprints (now remembered as written) to `fingerprints`.
  void CollectTags(std::string_view tenant, const std::vector<const Span*>& spans,
                   std::vector<std::string>* keys, std::vector<uint64_t>* fingerprints);
  // Span-scan variant of TagNames/TagValues when a filter is given.
  absl::Status ScanTags(std::string_view tenant, const TagRequest& request, ScopedTagNames* names,
                        std::vector<TagValue>* values);

  Database* db_;
  TraceStoreOptions options_;

  mutable std::mutex mu_;  // head, sealed and the cut's write (see CutBlocks)
  std::map<std::string, TenantHead, std::less<>> head_ ABSL_GUARDED_BY(mu_);
  // Being cut: still visible to searches until the blocks are written.
  std::map<std::string, TenantHead, std::less<>> sealed_ ABSL_GUARDED_BY(mu_);
  size_t head_spans_ ABSL_GUARDED_BY(mu_) = 0;
  std::chrono::steady_clock::time_point last_cut_ ABSL_GUARDED_BY(mu_);

  std::mutex seq_mu_;
  uint64_t last_seq_ ABSL_GUARDED_BY(seq_mu_) = 0;

  std::mutex tags_mu_;
  // Fingerprints of the tag rows written (or refused by the per-name cap).
  absl::flat_hash_set<uint64_t> tags_written_ ABSL_GUARDED_BY(tags_mu_);
  absl::flat_hash_map<std::string, size_t> tag_value_counts_ ABSL_GUARDED_BY(tags_mu_);
  // Fingerprints of the (tenant, day, scope, name) whose value count reached the cap.
  absl::flat_hash_set<uint64_t> capped_names_ ABSL_GUARDED_BY(tags_mu_);

  std::mutex cut_mu_;  // one cut at a time
  std::atomic<int64_t> last_retention_day_{-1};
  std::mutex cutter_mu_;
  std::condition_variable cutter_cv_;
  bool stopping_ ABSL_GUARDED_BY(cutter_mu_) = false;
  bool cut_requested_ ABSL_GUARDED_BY(cutter_mu_) = false;
  std::thread cutter_;

  Counter* spans_total_ = nullptr;
  Counter* rejected_total_ = nullptr;
  Counter* blocks_total_ = nullptr;
  // Mirrors head_spans_ for the self-metrics gauge, which may outlive the store.
  std::shared_ptr<std::atomic<int64_t>> head_gauge_ = std::make_shared<std::atomic<int64_t>>(0);
  Counter local_counters_[3];
};

}  // namespace otelbox::storage
