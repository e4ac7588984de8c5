#include "storage/traces/trace_retention.h"

#include <limits>

#include "storage/traces/span_codec.h"
#include "storage/traces/trace_keys.h"

namespace otelbox::storage {

uint64_t TraceCutoffNs(const RetentionClock& clock) {
  const int64_t ms = clock.CutoffMs();
  if (ms <= 0) return 0;
  return static_cast<uint64_t>(ms) * 1'000'000;
}

namespace {

enum class Kind { kTraces, kSpanSearch, kTags };

class TraceRetentionFilter final : public rocksdb::CompactionFilter {
 public:
  TraceRetentionFilter(const RetentionClock* clock, Kind kind) : clock_(clock), kind_(kind) {}

  const char* Name() const override {
    switch (kind_) {
      case Kind::kTraces: return "otelbox.TraceRetention";
      case Kind::kSpanSearch: return "otelbox.SpanSearchRetention";
      case Kind::kTags: return "otelbox.TraceTagsRetention";
    }
    return "otelbox.TraceRetention";
  }

  Decision FilterV2(int, const rocksdb::Slice& key, ValueType value_type,
                    const rocksdb::Slice& value, std::string*, std::string*) const noexcept override {
    if (value_type != ValueType::kValue) return Decision::kKeep;
    const uint64_t cutoff = TraceCutoffNs(*clock_);
    if (cutoff == 0) return Decision::kKeep;
    // A malformed key or value is kept: deleting what we cannot understand hides the bug.
    uint64_t end_ns = 0;  // exclusive end of the data the record holds
    switch (kind_) {
      case Kind::kTraces: {
        uint64_t max_start;
        if (!SpanGroupMaxStart(value.ToStringView(), &max_start)) return Decision::kKeep;
        end_ns = max_start + 1;
        break;
      }
      case Kind::kSpanSearch: {
        std::string_view tenant;
        uint64_t min_start, seq;
        if (!ParseSearchBlockKey(key.ToStringView(), &tenant, &min_start, &seq)) {
          return Decision::kKeep;
        }
        // Blocks hold one hour of start times: (hour of min_start) + 1h bounds them.
        end_ns = (min_start / kNsPerHour + 1) * kNsPerHour;
        break;
      }
      case Kind::kTags: {
        uint32_t day;
        TagScopeByte scope;
        std::string_view name, v;
        uint8_t type;
        if (!ParseTagKey(key.ToStringView(), &day, &scope, &name, &type, &v)) {
          return Decision::kKeep;
        }
        end_ns = (static_cast<uint64_t>(day) + 1) * kNsPerDay;
        break;
      }
    }
    return end_ns <= cutoff ? Decision::kRemove : Decision::kKeep;
  }

 private:
  const RetentionClock* clock_;
  Kind kind_;
};

}  // namespace

std::unique_ptr<rocksdb::CompactionFilter> NewTraceRetentionFilter(const RetentionClock* clock) {
  return std::make_unique<TraceRetentionFilter>(clock, Kind::kTraces);
}
std::unique_ptr<rocksdb::CompactionFilter> NewSpanSearchRetentionFilter(const RetentionClock* clock) {
  return std::make_unique<TraceRetentionFilter>(clock, Kind::kSpanSearch);
}
std::unique_ptr<rocksdb::CompactionFilter> NewTraceTagsRetentionFilter(const RetentionClock* clock) {
  return std::make_unique<TraceRetentionFilter>(clock, Kind::kTags);
}

}  // namespace otelbox::storage
