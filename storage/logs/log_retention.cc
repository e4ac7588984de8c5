#include "storage/logs/log_retention.h"

#include "storage/coding.h"
#include "storage/keys.h"
#include "storage/logs/log_keys.h"

namespace otelbox::storage {
namespace {

class LogBlockRetentionFilter final : public rocksdb::CompactionFilter {
 public:
  explicit LogBlockRetentionFilter(const RetentionClock* clock) : clock_(clock) {}
  const char* Name() const override { return "otelbox.LogBlockRetention"; }

  Decision FilterV2(int, const rocksdb::Slice& key, ValueType value_type,
                    const rocksdb::Slice& value, std::string*, std::string*) const noexcept override {
    if (value_type != ValueType::kValue) return Decision::kKeep;
    LogBlockKeyParts parts;
    // A malformed row is kept: deleting what we cannot understand would hide the bug.
    if (!ParseLogBlockKey(key.ToStringView(), &parts)) return Decision::kKeep;
    std::string_view in = value.ToStringView();
    int64_t max_t_ns;
    if (!GetOrderedInt64(&in, &max_t_ns)) return Decision::kKeep;
    const int64_t cutoff_ms = clock_->CutoffMs();
    // max_t_ns / 1e6 floors toward zero; entries at exactly the cutoff are kept.
    return FloorDiv(max_t_ns, 1'000'000) < cutoff_ms ? Decision::kRemove : Decision::kKeep;
  }

 private:
  const RetentionClock* clock_;
};

}  // namespace

std::unique_ptr<rocksdb::CompactionFilter> NewLogBlockRetentionFilter(const RetentionClock* clock) {
  return std::make_unique<LogBlockRetentionFilter>(clock);
}

}  // namespace otelbox::storage
