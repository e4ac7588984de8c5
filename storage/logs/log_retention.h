#pragma once
// Retention of `log_blocks`: index and data rows of a block whose newest entry is older
// than the log retention cutoff are dropped by compaction (their value starts with the
// block's max timestamp). `log_postings` use the shared postings filter (storage/retention.h).

#include <memory>

#include "rocksdb/compaction_filter.h"
#include "storage/retention.h"

namespace otelbox::storage {

// The clock must outlive the filter (the Database owns both). Stateless, thread-safe.
std::unique_ptr<rocksdb::CompactionFilter> NewLogBlockRetentionFilter(const RetentionClock* clock);

}  // namespace otelbox::storage
