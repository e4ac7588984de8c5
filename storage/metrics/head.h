#pragma once
// The head: samples that are acknowledged (durable in the `head_log` family) but not yet
// merged into chunks. Ingest writes ONE head-log record per Append instead of one chunk
// merge operand per series, which keeps RocksDB's memtable work per request constant; a
// flush later turns the buffered samples into one merge operand per series and window and
// deletes the log records it covered, in one atomic WriteBatch.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "storage/metrics/recent_chunks.h"
#include "storage/metrics/sample_writes.h"
#include "storage/model/sample.h"

namespace rocksdb {
class WriteBatch;
}

namespace otelbox::storage {

class Database;

class MetricHead {
 public:
  // Samples of one series in one Append, each vector sorted by time (later duplicates
  // last). The histograms count as written after the floats: of a float and a histogram
  // with equal timestamps in one Append, the histogram stays.
  struct SeriesSamplesRef {
    uint64_t id;
    const std::vector<Sample>* samples;
    const std::vector<HistogramSample>* histograms = nullptr;  // may be null
  };

  explicit MetricHead(Database* db);

  // Replays the head log into memory (after a restart). Call once before use.
  absl::Status Recover();

  // Appends appliers must hold for the whole write + Apply, so that a flush never cuts
  // between a record's write and its samples reaching memory.
  std::shared_lock<std::shared_mutex> LockForAppend() { return std::shared_lock(cut_mu_); }

  // Adds the head-log record for `series` to `wb`. Requires LockForAppend().
  void AddRecord(std::string_view tenant, const std::vector<SeriesSamplesRef>& series,
                 rocksdb::WriteBatch* wb);
  // Makes the samples visible to readers, once the WriteBatch is durable.
  void Apply(std::string_view tenant, const std::vector<SeriesSamplesRef>& series);

  // Appends the head's samples of series `id` within [start_ms, end_ms] to `out`, in write
  // order (so that for equal timestamps the last one is the newest write).
  void Collect(uint64_t id, int64_t start_ms, int64_t end_ms, SampleWrites* out) const;

  // Moves everything buffered into chunk merge operands and deletes the covered log
  // records, atomically. Thread-safe; concurrent flushes serialize.
  absl::Status Flush(bool sync_wal);

  // The chunk operands of the series' newest windows, as flushes wrote them. Read it after
  // Collect: a sample leaves the head only once it is there (or in a window it does not
  // hold, which then comes from RocksDB).
  const RecentChunks& recent() const { return recent_; }

  // Buffered floats; a histogram counts as the number of float samples its memory would
  // hold (about 11 for one with no buckets, plus one per two buckets).
  int64_t buffered_samples() const { return buffered_samples_.load(std::memory_order_relaxed); }

 private:
  struct Buffer {
    std::string tenant;
    SampleWrites writes;
  };
  static constexpr int kShards = 64;
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<uint64_t, Buffer> active;    // written since the last flush cut
    std::unordered_map<uint64_t, Buffer> flushing;  // cut, being written to chunks
  };
  Shard& ShardOf(uint64_t id) { return shards_[id % kShards]; }
  const Shard& ShardOf(uint64_t id) const { return shards_[id % kShards]; }
  void ApplyOne(std::string_view tenant, uint64_t id, const std::vector<Sample>& floats,
                const std::vector<HistogramSample>* histograms);

  Database* db_;
  std::shared_mutex cut_mu_;  // shared: appenders; exclusive: the flush cut
  std::mutex flush_mu_;       // one flush at a time
  std::atomic<uint64_t> next_seq_{1};
  // Floats, plus histograms weighted by their memory in float-sample units (HeadWeight).
  std::atomic<int64_t> buffered_samples_{0};
  Shard shards_[kShards];
  RecentChunks recent_;  // written by Flush under flush_mu_
};

}  // namespace otelbox::storage
