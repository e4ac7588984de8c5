#include "storage/index/label_index.h"

#include <algorithm>
#include <functional>

#include "rocksdb/db.h"
#include "storage/coding.h"
#include "storage/keys.h"

namespace otelbox::storage {

LabelIndex::LabelIndex(Database* db, LabelIndexFamilies families, bool sync_wal)
    : db_(db), families_(families), sync_wal_(sync_wal) {}

absl::Status LabelIndex::Open() {
  std::string value;
  auto s = db_->db()->Get(rocksdb::ReadOptions(), db_->cf(ColumnFamily::kMeta),
                          MetaKey(families_.id_limit), &value);
  std::lock_guard lock(alloc_mu_);
  if (s.IsNotFound()) {
    next_id_ = id_limit_ = 1;
    return absl::OkStatus();
  }
  if (!s.ok()) return ToAbslStatus(s, "reading id limit");
  std::string_view in = value;
  uint64_t limit;
  if (!GetFixed64BE(&in, &limit)) return absl::DataLossError("corrupt id limit record");
  // Ids between the last used one and the limit are skipped: at most kIdBlock per restart.
  next_id_ = id_limit_ = std::max<uint64_t>(limit, 1);
  return absl::OkStatus();
}

LabelIndex::Shard& LabelIndex::ShardFor(const std::string& key) {
  return shards_[std::hash<std::string>{}(key) % kShards];
}

absl::StatusOr<uint64_t> LabelIndex::AllocateId() {
  std::lock_guard lock(alloc_mu_);
  if (next_id_ >= id_limit_) {
    uint64_t limit = next_id_ + kIdBlock;
    std::string v;
    PutFixed64BE(&v, limit);
    rocksdb::WriteOptions wo;
    wo.sync = sync_wal_;
    auto s = db_->db()->Put(wo, db_->cf(ColumnFamily::kMeta), MetaKey(families_.id_limit), v);
    if (!s.ok()) return ToAbslStatus(s, "reserving ids");
    id_limit_ = limit;
  }
  return next_id_++;
}

void LabelIndex::FillMissingDays(const Entry& e, std::span<const int64_t> days,
                                  std::vector<int64_t>* missing) {
  for (int64_t d : days) {
    if (!std::binary_search(e.days.begin(), e.days.end(), d)) missing->push_back(d);
  }
}

absl::StatusOr<LabelIndex::Resolved> LabelIndex::Resolve(const std::string& key,
                                                           std::span<const int64_t> days) {
  Resolved r;
  Shard& shard = ShardFor(key);
  {
    std::lock_guard lock(shard.mu);
    auto it = shard.map.find(key);
    if (it != shard.map.end()) {
      r.id = it->second.id;
      r.needs_rows = !it->second.durable;
      FillMissingDays(it->second, days, &r.missing_days);
      return r;
    }
  }
  // Cache miss: the label set may exist on disk (written before a restart). Looked up without
  // the shard lock; the re-check below settles races.
  std::string value;
  uint64_t disk_id = 0;
  auto s = db_->db()->Get(rocksdb::ReadOptions(), db_->cf(families_.by_labels), key,
                          &value);
  if (s.ok()) {
    std::string_view in = value;
    if (!GetFixed64BE(&in, &disk_id) || disk_id == 0) {
      return absl::DataLossError("corrupt label index row");
    }
  } else if (!s.IsNotFound()) {
    return ToAbslStatus(s, "looking up label set");
  }

  std::lock_guard lock(shard.mu);
  auto it = shard.map.find(key);
  if (it == shard.map.end()) {
    Entry e;
    if (disk_id != 0) {
      e.id = disk_id;
      e.durable = true;
    } else {
      // Allocation happens under the shard lock: nobody else can create this key now.
      auto id = AllocateId();
      if (!id.ok()) return id.status();
      e.id = *id;
      e.durable = false;
      r.created = true;
    }
    it = shard.map.emplace(key, std::move(e)).first;
    size_.fetch_add(1, std::memory_order_relaxed);
    IdShard& ids = id_shards_[it->second.id % kShards];
    std::lock_guard id_lock(ids.mu);
    ids.keys.emplace(it->second.id, &it->first);
  }
  r.id = it->second.id;
  r.needs_rows = !it->second.durable;
  FillMissingDays(it->second, days, &r.missing_days);
  return r;
}

bool LabelIndex::CachedLabels(std::string_view tenant, uint64_t id, Labels* out) const {
  const IdShard& ids = id_shards_[id % kShards];
  std::string_view key;
  {
    std::lock_guard lock(ids.mu);
    auto it = ids.keys.find(id);
    if (it == ids.keys.end()) return false;
    key = *it->second;  // immutable while the index lives
  }
  std::string_view key_tenant;
  if (!GetLengthPrefixed(&key, &key_tenant) || key_tenant != tenant) return false;
  return GetLabels(&key, out);
}

void LabelIndex::MarkWritten(const std::string& key, std::span<const int64_t> days,
                              int64_t min_day) {
  Shard& shard = ShardFor(key);
  std::lock_guard lock(shard.mu);
  auto it = shard.map.find(key);
  if (it == shard.map.end()) return;
  Entry& e = it->second;
  e.durable = true;
  if (days.empty()) return;
  e.days.insert(e.days.end(), days.begin(), days.end());
  std::sort(e.days.begin(), e.days.end());
  e.days.erase(std::unique(e.days.begin(), e.days.end()), e.days.end());
  std::erase_if(e.days, [&](int64_t d) { return d < min_day; });
}

}  // namespace otelbox::storage
