#pragma once
// LogStore internals shared by log_store.cc (open, append, flush) and log_store_read.cc
// (scans and index queries). Not a seam: only those two files include it.

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "common/self_metrics.h"
#include "storage/db.h"
#include "storage/index/label_index.h"
#include "storage/index/postings_reader.h"
#include "storage/logs/log_block.h"
#include "storage/logs/log_head.h"
#include "storage/logs/log_store.h"
#include "storage/logs/log_tail.h"

namespace rocksdb {
struct ReadOptions;
}  // namespace rocksdb

namespace otelbox::storage {

class LogStore::Impl {
 public:
  Impl(Database* db, LogStoreOptions options, SelfMetrics* metrics);
  ~Impl();

  absl::Status Open();  // index id limit, head replay, flusher start

  // --- log_store.cc
  absl::StatusOr<LogAppendStats> Append(std::string_view tenant, const LogBatch& batch);
  absl::Status FlushHead();
  void EnforceRetention();
  LogTailHub& tail() { return tail_; }

  // --- log_store_read.cc
  absl::StatusOr<std::vector<LogStreamRef>> SelectStreams(std::string_view tenant,
                                                          const LogMatcherSet& matchers,
                                                          int64_t start_ns, int64_t end_ns);
  absl::Status ScanStream(std::string_view tenant, uint64_t stream_id, int64_t start_ns,
                          int64_t end_ns, LogDirection direction, const LogScanOptions& options,
                          LogEntryVisitor visit);
  absl::StatusOr<std::vector<std::string>> LabelNames(std::string_view tenant,
                                                      const LogMatcherSet& matchers,
                                                      int64_t start_ns, int64_t end_ns);
  absl::StatusOr<std::vector<std::string>> LabelValues(std::string_view tenant,
                                                       std::string_view name,
                                                       const LogMatcherSet& matchers,
                                                       int64_t start_ns, int64_t end_ns);
  absl::StatusOr<std::vector<Labels>> Series(std::string_view tenant,
                                             const std::vector<LogMatcherSet>& sets,
                                             int64_t start_ns, int64_t end_ns);
  absl::StatusOr<LogIndexStats> IndexStats(std::string_view tenant, const LogMatcherSet& matchers,
                                           int64_t start_ns, int64_t end_ns);
  absl::StatusOr<std::vector<LogVolume>> Volume(std::string_view tenant,
                                                const LogMatcherSet& matchers, int64_t start_ns,
                                                int64_t end_ns,
                                                const std::vector<std::string>& by_labels,
                                                int64_t step_ns, size_t limit);

 private:
  // Oldest timestamp (ns) inside retention; kMinTimeNs when retention is off.
  int64_t CutoffNs() const;
  // Streams matching `matchers` (may be empty: all streams) in the day partitions of
  // [start_ns, end_ns).
  absl::Status MatchStreams(const rocksdb::ReadOptions& ro, std::string_view tenant,
                            const LogMatcherSet& matchers, int64_t start_ns, int64_t end_ns,
                            std::map<uint64_t, Labels>* out);
  // Block summaries of a stream overlapping [start_ns, end_ns), with their keys' seqs.
  struct BlockRef {
    int64_t min_t_ns;
    uint64_t seq;
    LogBlockSummary summary;
  };
  absl::Status ListBlocks(const rocksdb::ReadOptions& ro, std::string_view tenant, uint64_t id,
                          int64_t start_ns, int64_t end_ns, std::vector<BlockRef>* out);

  // Flushes one stream's head into blocks (all segments present at the start).
  absl::Status FlushStream(LogStreamHead* head);
  // Deletes the head records every stream has flushed.
  absl::Status TrimHeadLog();
  void FlushLoop();
  absl::Status Replay();

  Database* db_;
  LogStoreOptions options_;
  LabelIndex index_;
  PostingsReader postings_;
  LogHead head_;
  LogTailHub tail_;

  // Serialises sequence allocation, the WAL write and the head update of each Append, so
  // segments enter every stream's head in sequence order (the flush watermarks rely on it).
  std::mutex append_mu_;
  uint64_t next_seq_ ABSL_GUARDED_BY(append_mu_) = 1;
  std::atomic<int64_t> head_bytes_{0};

  std::mutex trim_mu_;  // one head-log trim at a time
  uint64_t trimmed_below_ ABSL_GUARDED_BY(trim_mu_) = 0;

  std::mutex flusher_mu_;
  std::condition_variable flusher_cv_;
  bool stopping_ ABSL_GUARDED_BY(flusher_mu_) = false;
  bool flush_wanted_ ABSL_GUARDED_BY(flusher_mu_) = false;
  std::thread flusher_;

  std::mutex retention_mu_;
  int64_t last_enforced_day_ ABSL_GUARDED_BY(retention_mu_);

  Counter local_counters_[4];
  Counter* entries_total_;
  Counter* bytes_total_;
  Counter* rejected_total_;
  Counter* streams_created_total_;
};

}  // namespace otelbox::storage
