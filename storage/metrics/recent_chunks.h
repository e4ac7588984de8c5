#pragma once
// The chunk merge operands of each series' two newest windows, kept in memory as head
// flushes write them, so that instant queries and recent panels read them without
// RocksDB lookups: finding a chunk key's operands in the memtable and the L0 files was a
// third of an instant query's time (bench/promql_bench), and it is what Prometheus keeps
// in memory too (its head chunks).
//
// What is kept per series is exact: for every window at or after the series'
// `from_window`, the kept chunks fold to the key's RocksDB value (no chunk: no key). It
// holds because the head flush is the only writer of chunk keys: a series the cache does
// not follow yet is seeded from RocksDB by the flush that first writes it (before its
// batch is written, under the flush lock), and every later flush appends its operands
// after its batch is durable and before the flushed samples leave the head, so a reader
// that reads the head first and then this cache misses nothing.
//
// Memory: two windows per series written to in the last two windows' time (a series
// whose newest window falls behind that is dropped and re-seeded if it comes back);
// operands are folded into one chunk once a window holds more than kFoldAt of them.

#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"

namespace otelbox::storage {

class Database;

class RecentChunks {
 public:
  // `db` outlives the cache.
  explicit RecentChunks(Database* db) : db_(db) {}

  // One chunk merge operand of a head flush.
  struct Operand {
    uint64_t id = 0;
    std::string_view tenant;  // valid until Commit/Abort returns
    int64_t window_start_ms = 0;
    std::string chunk;
  };

  // The head flush's side, called under its flush lock (one flush at a time).
  // Before the flush's batch is written: reads the existing windows of the series that
  // `operands` (grouped by series, windows ascending within a series) start the cache
  // following.
  // A series whose chunks cannot be read is logged and left out (read from RocksDB).
  void Prepare(const std::vector<Operand>& operands);
  // After the batch is durable, before the flushed samples leave the head: keeps the
  // operands (moved from).
  void Commit(std::vector<Operand>* operands);
  // The batch was not written: forgets what Prepare read.
  void Abort() { seeds_.clear(); }

  // Calls `read` with window `window_start_ms` of series `id` (its chunks oldest first; none
  // when the series has no samples there) under the cache's lock and returns true; false
  // when the cache does not hold that window (read RocksDB). Thread-safe.
  bool Read(uint64_t id, int64_t window_start_ms,
            absl::FunctionRef<void(std::span<const std::string> chunks)> read) const;

 private:
  static constexpr size_t kFoldAt = 8;
  static constexpr int kShards = 64;
  struct Window {
    int64_t start_ms = 0;
    std::vector<std::string> chunks;  // oldest first; a folded value is a chunk too
  };
  struct Tail {
    int64_t from_window_ms = 0;  // every window >= this is in `windows` or has no key
    std::vector<Window> windows;  // ascending, never empty
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<uint64_t, Tail> tails ABSL_GUARDED_BY(mu);
  };
  Shard& ShardOf(uint64_t id) { return shards_[id % kShards]; }
  const Shard& ShardOf(uint64_t id) const { return shards_[id % kShards]; }
  static void Add(Tail* tail, Operand* op);

  Database* db_;
  Shard shards_[kShards];
  std::unordered_map<uint64_t, Tail> seeds_;  // Prepare -> Commit; flush lock
};

}  // namespace otelbox::storage
