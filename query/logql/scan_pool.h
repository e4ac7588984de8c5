#pragma once
// A small bounded pool that scans a query's streams concurrently. One per Engine, sized to
// the cores (a 2-core machine gets one helper thread: the querying thread is the other).
//
// ForEach(n, fn) runs fn(worker, i) for every i in [0, n), each exactly once, on the calling
// thread plus whichever helpers are idle; it returns when all have finished. The caller
// always takes part, so a query makes progress even when every helper serves another query
// (no queueing deadlock, no unbounded threads). `worker` is in [0, max_workers()) and
// unique among the calls running at one time: callers keep per-worker scratch state
// (pipeline, labels builder, candidates) indexed by it. fn must not throw.
//
// Thread-safe: any number of queries may call ForEach at once.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace otelbox::query::logql {

class ScanPool {
 public:
  // `helpers` background threads (0: ForEach runs everything on the caller).
  explicit ScanPool(size_t helpers);
  ~ScanPool();
  ScanPool(const ScanPool&) = delete;
  ScanPool& operator=(const ScanPool&) = delete;

  // helpers + 1 (the caller).
  size_t max_workers() const { return threads_.size() + 1; }

  void ForEach(size_t n, const std::function<void(size_t worker, size_t i)>& fn);

  // ForEach on `pool`, or serially on the caller (worker 0) when pool is null.
  static void ForEachOn(ScanPool* pool, size_t n, const std::function<void(size_t, size_t)>& fn);
  static size_t MaxWorkers(const ScanPool* pool) { return pool ? pool->max_workers() : 1; }

  // Helpers for a machine: hardware threads - 1, at most 3 (streams of one query rarely
  // gain past 4 scanners; RocksDB's block cache and zstd are the shared limit).
  static size_t DefaultHelpers();

 private:
  struct Job;
  void Loop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> queue_;  // guarded by mu_
  bool stop_ = false;                       // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace otelbox::query::logql
