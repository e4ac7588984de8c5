#include "query/logql/scan_pool.h"

#include <algorithm>
#include <atomic>

namespace otelbox::query::logql {

// One ForEach call. Helpers that dequeue it after the caller finished see `closed` and
// leave without touching fn (which lives on the caller's stack).
struct ScanPool::Job {
  const std::function<void(size_t, size_t)>* fn = nullptr;
  size_t n = 0;
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::condition_variable done;
  size_t active = 0;       // helpers inside fn; guarded by mu
  size_t next_worker = 1;  // worker ids handed to helpers (0 is the caller); guarded by mu
  bool closed = false;     // guarded by mu

  void Run(size_t worker) {
    for (size_t i; (i = next.fetch_add(1)) < n;) (*fn)(worker, i);
  }
};

ScanPool::ScanPool(size_t helpers) {
  threads_.reserve(helpers);
  for (size_t i = 0; i < helpers; ++i) threads_.emplace_back([this] { Loop(); });
}

ScanPool::~ScanPool() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

size_t ScanPool::DefaultHelpers() {
  size_t hw = std::thread::hardware_concurrency();
  if (hw <= 1) return 0;
  return std::min<size_t>(hw - 1, 3);
}

void ScanPool::Loop() {
  for (;;) {
    std::shared_ptr<Job> job;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [&] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    size_t worker;
    {
      std::lock_guard<std::mutex> l(job->mu);
      if (job->closed) continue;
      ++job->active;
      worker = job->next_worker++;
    }
    job->Run(worker);
    {
      std::lock_guard<std::mutex> l(job->mu);
      --job->active;
    }
    job->done.notify_all();
  }
}

void ScanPool::ForEachOn(ScanPool* pool, size_t n, const std::function<void(size_t, size_t)>& fn) {
  if (pool) {
    pool->ForEach(n, fn);
    return;
  }
  for (size_t i = 0; i < n; ++i) fn(0, i);
}

void ScanPool::ForEach(size_t n, const std::function<void(size_t, size_t)>& fn) {
  const size_t helpers = std::min(threads_.size(), n > 0 ? n - 1 : 0);
  if (helpers == 0) {
    for (size_t i = 0; i < n; ++i) fn(0, i);
    return;
  }
  auto job = std::make_shared<Job>();
  job->fn = &fn;
  job->n = n;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (size_t i = 0; i < helpers; ++i) queue_.push_back(job);
  }
  for (size_t i = 0; i < helpers; ++i) cv_.notify_one();
  job->Run(0);
  std::unique_lock<std::mutex> l(job->mu);
  job->closed = true;
  job->done.wait(l, [&] { return job->active == 0; });
}

}  // namespace otelbox::query::logql
