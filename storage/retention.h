#pragma once
// Retention by compaction filters: expired chunk windows, postings day partitions and
// exemplars are dropped whenever RocksDB compacts the files holding them. Reads clamp to
// the same cutoff, so expired data is logically gone before it is physically deleted.

#include <cstdint>
#include <functional>
#include <memory>

#include "rocksdb/compaction_filter.h"

namespace otelbox::storage {

// Thread-safe: the oldest timestamp (ms) still inside retention, or INT64_MIN when
// retention is off (retention_ms <= 0). `now_ms` must be thread-safe; null = system clock.
class RetentionClock {
 public:
  RetentionClock(std::function<int64_t()> now_ms, int64_t retention_ms);
  int64_t NowMs() const;
  int64_t CutoffMs() const;
  int64_t retention_ms() const { return retention_ms_; }

 private:
  std::function<int64_t()> now_ms_;
  int64_t retention_ms_;
};

// Filters for the `chunks`, `postings` and `exemplars` column families. The clock must
// outlive the filters (the Database owns both). Filters are stateless and thread-safe.
std::unique_ptr<rocksdb::CompactionFilter> NewChunkRetentionFilter(const RetentionClock* clock);
std::unique_ptr<rocksdb::CompactionFilter> NewPostingsRetentionFilter(const RetentionClock* clock);
std::unique_ptr<rocksdb::CompactionFilter> NewExemplarRetentionFilter(const RetentionClock* clock);

}  // namespace otelbox::storage
