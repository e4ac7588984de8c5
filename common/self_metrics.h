#pragma once
// otelbox's own telemetry, rendered on /metrics in the Prometheus text format.
// One registry is built in appliance.cc and handed to every part that counts something.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace otelbox {

class Counter {
 public:
  void Add(int64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// Thread-safe. Counters live as long as the registry; returned pointers stay valid.
class SelfMetrics {
 public:
  // The counter for `name` with `labels` (a Prometheus label string like `path="/x"`, or "").
  // Calling again with the same arguments returns the same counter.
  Counter* GetCounter(const std::string& name, const std::string& help,
                      const std::string& labels = "");
  // A gauge whose value is read when /metrics is rendered.
  void AddGaugeFunc(const std::string& name, const std::string& help,
                    std::function<double()> read);

  std::string RenderText() const;

 private:
  struct Family {
    std::string help;
    std::string type;
    std::map<std::string, std::unique_ptr<Counter>> counters;  // by label string
    std::function<double()> gauge;
  };
  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
};

}  // namespace otelbox
