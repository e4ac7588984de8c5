#pragma once
// Label-set identity shared by metrics (series) and logs (streams): tenant + label set ->
// id, with an in-memory cache in front of the by-labels column family, and the memory of
// which day partitions already hold an id's postings. Which families and which meta
// record (the id limit) it uses is given by LabelIndexFamilies, so metrics and logs run
// the same code over their own families (storage/FORMAT.md).
//
// The cache never evicts (one entry per label set seen since start; a few hundred bytes
// each), which is what makes "one id per label set" hold without a lock around the disk
// lookup: an id allocated in this process is in the cache forever after.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "storage/db.h"
#include "storage/keys.h"
#include "storage/model/labels.h"

namespace otelbox::storage {

// The column families and meta record of one label index.
struct LabelIndexFamilies {
  ColumnFamily by_labels;  // lp(tenant) labels -> be64(id)
  ColumnFamily by_id;      // lp(tenant) be64(id) -> labels
  ColumnFamily postings;   // lp(tenant) ord64(day) lp(name) lp(value) be64(id) -> ""
  MetaRecord id_limit;     // be64: every allocated id is below it
};

inline constexpr LabelIndexFamilies kSeriesIndexFamilies{
    ColumnFamily::kSeries, ColumnFamily::kSeriesById, ColumnFamily::kPostings,
    MetaRecord::kSeriesIdLimit};
inline constexpr LabelIndexFamilies kLogStreamIndexFamilies{
    ColumnFamily::kLogStreams, ColumnFamily::kLogStreamsById, ColumnFamily::kLogPostings,
    MetaRecord::kLogStreamIdLimit};

class LabelIndex {
 public:
  // `db` outlives the index. `sync_wal` is used for id-reservation writes.
  LabelIndex(Database* db, LabelIndexFamilies families, bool sync_wal);

  // Reads the persisted id limit. Call once before Resolve.
  absl::Status Open();

  struct Resolved {
    uint64_t id = 0;
    // The rows (by_labels, by_id) are not known durable: the caller must put them into
    // its batch (idempotent if another writer does the same).
    bool needs_rows = false;
    bool created = false;  // this call allocated the id
    // Days of `days` whose postings are not known written.
    std::vector<int64_t> missing_days;
  };

  // Thread-safe. `key` is SeriesKey(tenant, labels). Two concurrent calls for the same key
  // always return the same id.
  absl::StatusOr<Resolved> Resolve(const std::string& key, std::span<const int64_t> days);

  // After the batch holding the rows/postings for `key` was written: the rows are durable
  // and `days` have postings. Days before `min_day` are forgotten.
  void MarkWritten(const std::string& key, std::span<const int64_t> days, int64_t min_day);

  // The label set of `id` when the cache holds it (every set ingested or looked up since
  // start): by-id rows never change once written, so queries need not read them. False
  // when not cached (or `id` belongs to another tenant). Ids are unique across tenants.
  // Thread-safe.
  bool CachedLabels(std::string_view tenant, uint64_t id, Labels* out) const;

  // Number of cached label sets.
  int64_t size() const { return size_.load(std::memory_order_relaxed); }

  const LabelIndexFamilies& families() const { return families_; }

 private:
  struct Entry {
    uint64_t id = 0;
    bool durable = false;
    std::vector<int64_t> days;  // sorted; days whose postings are written
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Entry> map ABSL_GUARDED_BY(mu);
  };
  static constexpr int kShards = 16;
  // id -> the key of its cache entry (SeriesKey: tenant + encoded labels). Map nodes are
  // stable and entries never leave the cache, so the pointer stays valid.
  struct IdShard {
    mutable std::mutex mu;
    std::unordered_map<uint64_t, const std::string*> keys ABSL_GUARDED_BY(mu);
  };
  // Ids are reserved in blocks: the limit is persisted (synchronously ordered in the WAL)
  // before any id below it is used, so a restart never reuses an id.
  static constexpr uint64_t kIdBlock = 1024;

  Shard& ShardFor(const std::string& key);
  absl::StatusOr<uint64_t> AllocateId();
  static void FillMissingDays(const Entry& e, std::span<const int64_t> days,
                              std::vector<int64_t>* missing);

  Database* db_;
  LabelIndexFamilies families_;
  bool sync_wal_;
  Shard shards_[kShards];
  IdShard id_shards_[kShards];
  std::atomic<int64_t> size_{0};
  std::mutex alloc_mu_;
  uint64_t next_id_ ABSL_GUARDED_BY(alloc_mu_) = 1;   // 0 is never an id
  uint64_t id_limit_ ABSL_GUARDED_BY(alloc_mu_) = 1;  // persisted; next_id_ < id_limit_ to use
};

}  // namespace otelbox::storage
