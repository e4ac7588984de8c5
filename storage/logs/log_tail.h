#pragma once
// Live tail: fans appended entries out to subscribers' bounded queues (LogTailer in
// storage/log_querier.h). Publishing never blocks on a subscriber: a full queue drops.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "storage/log_querier.h"

namespace otelbox::storage {

// Thread-safe.
class LogTailHub {
 public:
  std::shared_ptr<LogTailSubscription> Subscribe(std::string_view tenant, size_t max_queued,
                                                 std::function<void()> on_ready);
  // Cheap check so Append copies nothing when nobody tails.
  bool HasSubscribers() const { return count_.load(std::memory_order_relaxed) > 0; }
  // Queues copies of `entries` (one stream's, in append order) for `tenant`'s subscribers.
  void Publish(std::string_view tenant, const Labels& labels,
               std::span<const LogEntry* const> entries);
  // Closes every subscription (store shutdown).
  void CloseAll();

 private:
  class Subscription;
  mutable std::mutex mu_;
  std::vector<std::weak_ptr<Subscription>> subs_ ABSL_GUARDED_BY(mu_);
  std::atomic<int64_t> count_{0};
};

}  // namespace otelbox::storage
