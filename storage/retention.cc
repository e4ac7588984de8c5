#include "storage/retention.h"

#include <chrono>
#include <limits>

#include "storage/keys.h"

namespace otelbox::storage {

RetentionClock::RetentionClock(std::function<int64_t()> now_ms, int64_t retention_ms)
    : now_ms_(std::move(now_ms)), retention_ms_(retention_ms) {}

int64_t RetentionClock::NowMs() const {
  if (now_ms_) return now_ms_();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t RetentionClock::CutoffMs() const {
  if (retention_ms_ <= 0) return std::numeric_limits<int64_t>::min();
  return NowMs() - retention_ms_;
}

namespace {

// Which key component decides expiry, and how long the key's data lives past it.
enum class Kind { kChunk, kPostings, kExemplar };

class RetentionFilter final : public rocksdb::CompactionFilter {
 public:
  RetentionFilter(const RetentionClock* clock, Kind kind) : clock_(clock), kind_(kind) {}

  const char* Name() const override {
    switch (kind_) {
      case Kind::kChunk: return "otelbox.ChunkRetention";
      case Kind::kPostings: return "otelbox.PostingsRetention";
      case Kind::kExemplar: return "otelbox.ExemplarRetention";
    }
    return "otelbox.Retention";
  }

  Decision FilterV2(int, const rocksdb::Slice& key, ValueType value_type,
                    const rocksdb::Slice&, std::string*, std::string*) const noexcept override {
    if (value_type != ValueType::kValue && value_type != ValueType::kMergeOperand) {
      return Decision::kKeep;
    }
    // A malformed key is kept: deleting what we cannot understand would hide the bug.
    int64_t end_ms;  // exclusive end of the data this key holds
    if (!DataEndMs(key.ToStringView(), &end_ms)) return Decision::kKeep;
    return end_ms <= clock_->CutoffMs() ? Decision::kRemove : Decision::kKeep;
  }

 private:
  bool DataEndMs(std::string_view key, int64_t* end_ms) const {
    std::string_view tenant;
    uint64_t id;
    int64_t t;
    switch (kind_) {
      case Kind::kChunk:
        if (!ParseChunkKey(key, &tenant, &id, &t)) return false;
        *end_ms = t > std::numeric_limits<int64_t>::max() - kChunkWindowMs ? t : t + kChunkWindowMs;
        return true;
      case Kind::kExemplar:
        if (!ParseExemplarKey(key, &tenant, &id, &t)) return false;
        *end_ms = t == std::numeric_limits<int64_t>::max() ? t : t + 1;
        return true;
      case Kind::kPostings: {
        PostingKeyParts parts;
        int depth = 0;
        if (!ParsePostingKey(key, &parts, &depth) || depth < 2) return false;
        if (parts.day >= std::numeric_limits<int64_t>::max() / kDayMs - 1 ||
            parts.day <= std::numeric_limits<int64_t>::min() / kDayMs + 1) {
          return false;
        }
        *end_ms = (parts.day + 1) * kDayMs;
        return true;
      }
    }
    return false;
  }

  const RetentionClock* clock_;
  Kind kind_;
};

}  // namespace

std::unique_ptr<rocksdb::CompactionFilter> NewChunkRetentionFilter(const RetentionClock* clock) {
  return std::make_unique<RetentionFilter>(clock, Kind::kChunk);
}
std::unique_ptr<rocksdb::CompactionFilter> NewPostingsRetentionFilter(const RetentionClock* clock) {
  return std::make_unique<RetentionFilter>(clock, Kind::kPostings);
}
std::unique_ptr<rocksdb::CompactionFilter> NewExemplarRetentionFilter(const RetentionClock* clock) {
  return std::make_unique<RetentionFilter>(clock, Kind::kExemplar);
}

}  // namespace otelbox::storage
