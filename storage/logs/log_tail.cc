#include "storage/logs/log_tail.h"

#include <algorithm>

namespace otelbox::storage {

class LogTailHub::Subscription final : public LogTailSubscription {
 public:
  Subscription(std::string tenant, size_t max_queued, std::function<void()> on_ready)
      : tenant_(std::move(tenant)), max_queued_(std::max<size_t>(max_queued, 1)),
        on_ready_(std::move(on_ready)) {}

  const std::string& tenant() const { return tenant_; }

  std::vector<TailedEntry> Take(size_t max, absl::Duration timeout) override {
    std::unique_lock lock(mu_);
    if (queue_.empty() && !closed_) {
      cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                   [&] { return !queue_.empty() || closed_; });
    }
    std::vector<TailedEntry> out;
    size_t n = std::min(max == 0 ? queue_.size() : max, queue_.size());
    out.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      out.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    return out;
  }

  int64_t TakeDropped(std::vector<TailedEntry>* dropped) override {
    std::lock_guard lock(mu_);
    int64_t n = dropped_count_;
    dropped_count_ = 0;
    if (dropped) {
      for (auto& d : dropped_samples_) dropped->push_back(std::move(d));
    }
    dropped_samples_.clear();
    return n;
  }

  void Close() override {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
      queue_.clear();
    }
    cv_.notify_all();
  }

  bool closed() {
    std::lock_guard lock(mu_);
    return closed_;
  }

  void Push(const Labels& labels, std::span<const LogEntry* const> entries) {
    bool became_ready = false;
    {
      std::lock_guard lock(mu_);
      if (closed_) return;
      became_ready = queue_.empty();
      for (const LogEntry* e : entries) {
        if (queue_.size() >= max_queued_) {
          ++dropped_count_;
          // Loki reports dropped entries by labels and timestamp; a few are enough.
          if (dropped_samples_.size() < kMaxDroppedSamples) {
            dropped_samples_.push_back(TailedEntry{labels, LogEntry{e->t_ns, {}, {}}});
          }
          continue;
        }
        queue_.push_back(TailedEntry{labels, *e});
      }
      became_ready = became_ready && !queue_.empty();
    }
    if (became_ready) {
      cv_.notify_all();
      if (on_ready_) on_ready_();
    }
  }

 private:
  static constexpr size_t kMaxDroppedSamples = 100;
  const std::string tenant_;
  const size_t max_queued_;
  const std::function<void()> on_ready_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<TailedEntry> queue_ ABSL_GUARDED_BY(mu_);
  int64_t dropped_count_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<TailedEntry> dropped_samples_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

std::shared_ptr<LogTailSubscription> LogTailHub::Subscribe(std::string_view tenant,
                                                           size_t max_queued,
                                                           std::function<void()> on_ready) {
  auto sub = std::make_shared<Subscription>(std::string(tenant), max_queued, std::move(on_ready));
  std::lock_guard lock(mu_);
  std::erase_if(subs_, [](const std::weak_ptr<Subscription>& w) { return w.expired(); });
  subs_.push_back(sub);
  count_.store(static_cast<int64_t>(subs_.size()), std::memory_order_relaxed);
  return sub;
}

void LogTailHub::Publish(std::string_view tenant, const Labels& labels,
                         std::span<const LogEntry* const> entries) {
  if (entries.empty()) return;
  std::vector<std::shared_ptr<Subscription>> targets;
  {
    std::lock_guard lock(mu_);
    bool expired = false;
    for (const auto& w : subs_) {
      auto s = w.lock();
      if (!s) {
        expired = true;
        continue;
      }
      if (s->tenant() == tenant) targets.push_back(std::move(s));
    }
    if (expired) {
      std::erase_if(subs_, [](const std::weak_ptr<Subscription>& w) { return w.expired(); });
      count_.store(static_cast<int64_t>(subs_.size()), std::memory_order_relaxed);
    }
  }
  // Outside the hub lock: a subscriber's on_ready may take its own locks.
  for (const auto& s : targets) s->Push(labels, entries);
}

void LogTailHub::CloseAll() {
  std::vector<std::shared_ptr<Subscription>> all;
  {
    std::lock_guard lock(mu_);
    for (const auto& w : subs_) {
      if (auto s = w.lock()) all.push_back(std::move(s));
    }
  }
  for (const auto& s : all) s->Close();
}

}  // namespace otelbox::storage
