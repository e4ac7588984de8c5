#pragma once
// Metrics on RocksDB: the MetricAppender and SeriesQuerier implementation.
//
// Write path: one WriteBatch per Append (series rows, postings, ONE head-log record with
// all samples, exemplars, metadata), written with the WAL on; then the samples enter the
// in-memory head (storage/metrics/head.h), so a sample is readable as soon as Append
// returns. A background flusher moves the head into chunk merge operands (one per series
// and 2 h window) every `head_flush_interval` or `head_flush_samples`; the chunk merge
// operator combines them. Read path: day-partitioned postings -> candidate ids -> labels
// (from the label index's memory, else `series_by_id` by batched MultiGet) re-checked
// against every matcher -> chunks + head; selects of few windows read each chunk key's
// merge operands, from memory for the two newest windows of a series (RecentChunks, kept
// by the head flush) or raw from RocksDB, and merge them (no re-encoding per read); longer
// ones scan the folded chunks. Only the samples in [start, end] are decoded into the
// result. Label names and values without match[] come from a per-day in-memory copy of
// the postings' names and values (DayLabelsCache), loaded on a day's first query.
//
// Durability: `sync_wal=false` (default) survives a kill -9 of the process (the WAL is in
// the OS page cache) but not a power loss; `sync_wal=true` fsyncs every Append.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "common/self_metrics.h"
#include "storage/appender.h"
#include "storage/db.h"
#include "storage/index/day_labels_cache.h"
#include "storage/metrics/head.h"
#include "storage/metrics/series_index.h"
#include "storage/querier.h"

namespace rocksdb {
class Iterator;
struct ReadOptions;
}  // namespace rocksdb

namespace otelbox::storage {

struct MetricStoreOptions {
  // Samples older than now - retention_ms are rejected on append and invisible to reads;
  // <= 0 disables retention. Should equal DatabaseOptions::metric_retention_ms (which
  // drives the compaction filters).
  int64_t retention_ms = 15LL * 24 * 3600 * 1000;
  // Thread-safe clock in ms since the epoch; null means the system clock.
  std::function<int64_t()> now_ms;
  // fsync the WAL on every Append (see the file comment).
  bool sync_wal = false;
  // The head is flushed into chunks when it holds this many samples (16 bytes each in
  // memory; a native histogram counts as as many samples as its memory would hold) or when
  // this much time passed since the last flush; a restart replays at most that much of the
  // head log.
  int64_t head_flush_samples = 2'000'000;
  std::chrono::milliseconds head_flush_interval{60'000};
};

// Thread-safe: any number of concurrent Appends and queries.
class MetricStore final : public MetricAppender, public SeriesQuerier {
 public:
  // `db` and `metrics` outlive the store. `metrics` may be null.
  static absl::StatusOr<std::unique_ptr<MetricStore>> Open(Database* db,
                                                           MetricStoreOptions options,
                                                           SelfMetrics* metrics);
  ~MetricStore() override;

  absl::StatusOr<AppendStats> Append(std::string_view tenant, const MetricBatch& batch,
                                     RejectPolicy policy) override;

  absl::StatusOr<std::vector<SeriesData>> Select(std::string_view tenant,
                                                  const MatcherSet& matchers, int64_t start_ms,
                                                  int64_t end_ms) override;
  absl::StatusOr<std::vector<Labels>> Series(std::string_view tenant,
                                             const std::vector<MatcherSet>& sets,
                                             int64_t start_ms, int64_t end_ms,
                                             size_t limit) override;
  absl::StatusOr<std::vector<std::string>> LabelNames(std::string_view tenant,
                                                      const std::vector<MatcherSet>& sets,
                                                      int64_t start_ms, int64_t end_ms,
                                                      size_t limit) override;
  absl::StatusOr<std::vector<std::string>> LabelValues(std::string_view tenant,
                                                       std::string_view name,
                                                       const std::vector<MatcherSet>& sets,
                                                       int64_t start_ms, int64_t end_ms,
                                                       size_t limit) override;
  absl::StatusOr<std::vector<MetricMetadata>> Metadata(std::string_view tenant,
                                                       std::string_view metric,
                                                       size_t limit) override;
  absl::StatusOr<std::vector<SeriesExemplars>> Exemplars(std::string_view tenant,
                                                         const MatcherSet& matchers,
                                                         int64_t start_ms,
                                                         int64_t end_ms) override;

  // Compacts the expired key ranges so the retention filters reclaim space. Does nothing
  // when the retention cutoff has not crossed a day boundary since the last run (a full
  // pass rewrites the chunks family). Called hourly by the appliance; blocking.
  void EnforceRetention();

  // Moves the head into chunks now (the background flusher does this on its own).
  absl::Status FlushHead();

 private:
  struct GaugeState;
  MetricStore(Database* db, MetricStoreOptions options, SelfMetrics* metrics);

  int64_t NowMs() const;
  int64_t CutoffMs() const;  // INT64_MIN when retention is off
  // Matching series ids+labels over the day partitions of [start_ms, end_ms]. `matchers`
  // must contain a non-empty matcher.
  absl::Status MatchSeries(const rocksdb::ReadOptions& ro, std::string_view tenant,
                           const MatcherSet& matchers, int64_t start_ms, int64_t end_ms,
                           std::map<uint64_t, Labels>* out);
  // Union of MatchSeries over sets (all series when `sets` is empty).
  absl::Status MatchSets(const rocksdb::ReadOptions& ro, std::string_view tenant,
                         const std::vector<MatcherSet>& sets, int64_t start_ms,
                         int64_t end_ms, std::map<uint64_t, Labels>* out);

  Database* db_;
  MetricStoreOptions options_;
  void FlushLoop();

  // Visits the label names and values of `tenant`'s day partitions within [start_ms,
  // end_ms] (from the in-memory copy; a day is loaded on first use).
  absl::Status VisitDayLabels(const rocksdb::ReadOptions& ro, std::string_view tenant,
                              int64_t start_ms, int64_t end_ms,
                              absl::FunctionRef<void(const DayLabelsCache::NameValues&)> visit,
                              std::vector<int64_t>* unloaded_days);

  SeriesIndex index_;
  MetricHead head_;
  DayLabelsCache day_labels_;
  std::mutex flusher_mu_;
  std::condition_variable flusher_cv_;
  bool stopping_ ABSL_GUARDED_BY(flusher_mu_) = false;
  std::thread flusher_;
  std::shared_ptr<GaugeState> gauges_;
  Counter* samples_total_ = nullptr;
  Counter* series_created_total_ = nullptr;
  Counter* rejected_total_ = nullptr;
  Counter local_counters_[3];  // used when no SelfMetrics registry is given

  std::mutex metadata_mu_;
  // tenant + '\0' + family -> last written metadata.
  std::map<std::string, MetricMetadata> metadata_cache_ ABSL_GUARDED_BY(metadata_mu_);

  std::mutex retention_mu_;
  int64_t last_enforced_day_ ABSL_GUARDED_BY(retention_mu_);
};

}  // namespace otelbox::storage
