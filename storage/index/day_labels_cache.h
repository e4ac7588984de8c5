#pragma once
// The label names and values of a label index's postings, per tenant and day partition, in
// memory: /api/v1/labels and /api/v1/label/<name>/values without match[] then cost no
// Seek per distinct value (Prometheus answers them from its in-memory head index).
//
// A day is loaded on its first query: the entry is registered first (from then on every
// Added() of that day goes into it), then the day's postings are scanned with a snapshot
// taken after the registration and merged in. A posting written before the registration
// is in the scan; one written after it reaches Added() (which the writer calls after its
// batch is durable), so a loaded day holds every name and value of its postings. Days
// that hold more than `max_pairs_per_day` distinct pairs are not kept (read from RocksDB).
//
// Thread-safe.

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "storage/model/labels.h"

namespace otelbox::storage {

class DayLabelsCache {
 public:
  // name -> values, both sorted.
  using NameValues = std::map<std::string, std::set<std::string, std::less<>>, std::less<>>;

  explicit DayLabelsCache(size_t max_pairs_per_day = 1 << 20) : max_pairs_(max_pairs_per_day) {}

  // The postings of `labels` for `days` were just written (the batch is durable).
  void Added(std::string_view tenant, const Labels& labels, std::span<const int64_t> days);

  // Calls `read` with the day's names and values under a lock and returns true when the
  // day is loaded; false otherwise (read RocksDB, or Load the day).
  bool Read(std::string_view tenant, int64_t day,
            absl::FunctionRef<void(const NameValues&)> read) const;

  // Loads a day that is not loaded nor being loaded: `scan(out)` reads the day's postings
  // (with a snapshot it takes itself, after this call started) and returns false on error
  // (the day stays unloaded). Returns whether the day is loaded afterwards.
  bool Load(std::string_view tenant, int64_t day, absl::FunctionRef<bool(NameValues*)> scan);

  // Forgets the days before `day` (retention).
  void DropBefore(int64_t day);

 private:
  enum class State { kLoading, kLoaded, kTooBig };
  struct Day {
    State state = State::kLoading;
    size_t pairs = 0;
    NameValues names;
  };
  using Key = std::pair<std::string, int64_t>;  // tenant, day
  // Adds one pair; an entry past the limit becomes kTooBig and is emptied.
  void AddPair(Day* d, std::string_view name, std::string_view value);

  const size_t max_pairs_;
  mutable std::shared_mutex mu_;
  std::map<Key, Day> days_ ABSL_GUARDED_BY(mu_);
};

}  // namespace otelbox::storage
