#pragma once
// Retention of the trace column families by compaction filters (storage/retention.h does
// the same for metrics): a span group goes when its newest span start is past the cutoff,
// a search block when its hour is, a tag partition when its day is. Head-log records are
// never filtered (the store deletes them when it cuts blocks).

#include <memory>

#include "rocksdb/compaction_filter.h"
#include "storage/retention.h"

namespace otelbox::storage {

// The clock must outlive the filters (the Database owns both). Stateless, thread-safe.
std::unique_ptr<rocksdb::CompactionFilter> NewTraceRetentionFilter(const RetentionClock* clock);
std::unique_ptr<rocksdb::CompactionFilter> NewSpanSearchRetentionFilter(const RetentionClock* clock);
std::unique_ptr<rocksdb::CompactionFilter> NewTraceTagsRetentionFilter(const RetentionClock* clock);

// The cutoff in ns (0 when retention is off or the cutoff is before the epoch).
uint64_t TraceCutoffNs(const RetentionClock& clock);

}  // namespace otelbox::storage
