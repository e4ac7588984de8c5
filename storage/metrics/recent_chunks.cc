#include "storage/metrics/recent_chunks.h"

#include <algorithm>
#include <limits>
#include <memory>

#include "common/log.h"
#include "rocksdb/db.h"
#include "storage/db.h"
#include "storage/keys.h"
#include "storage/metrics/chunk_mixed.h"

namespace otelbox::storage {
namespace {

bool StartsWith(const rocksdb::Slice& s, std::string_view prefix) {
  return s.size() >= prefix.size() && std::string_view(s.data(), prefix.size()) == prefix;
}

// The window before `window_start_ms` (saturating at the smallest time).
int64_t PreviousWindow(int64_t window_start_ms) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  return window_start_ms < kMin + kChunkWindowMs ? kMin : window_start_ms - kChunkWindowMs;
}

}  // namespace

void RecentChunks::Prepare(const std::vector<Operand>& operands) {
  seeds_.clear();
  std::unique_ptr<rocksdb::Iterator> it;
  for (size_t i = 0; i < operands.size();) {
    const uint64_t id = operands[i].id;
    size_t end = i;
    while (end < operands.size() && operands[end].id == id) ++end;
    const Operand& newest = operands[end - 1];
    i = end;
    {
      const Shard& shard = ShardOf(id);
      std::lock_guard lock(shard.mu);
      if (shard.tails.contains(id)) continue;
    }
    // Keys of the two newest windows this flush writes, and any later ones already there
    // (a head flush is the only chunk writer, and flushes serialize: nothing changes them
    // before this flush's batch).
    if (it == nullptr) {
      it.reset(db_->db()->NewIterator(rocksdb::ReadOptions(), db_->cf(ColumnFamily::kChunks)));
    }
    Tail tail;
    tail.from_window_ms = PreviousWindow(newest.window_start_ms);
    const std::string prefix = ChunkSeriesPrefix(newest.tenant, id);
    bool ok = true;
    for (it->Seek(ChunkKey(newest.tenant, id, tail.from_window_ms));
         it->Valid() && StartsWith(it->key(), prefix); it->Next()) {
      std::string_view key_tenant;
      uint64_t key_id;
      int64_t window;
      if (!ParseChunkKey(it->key().ToStringView(), &key_tenant, &key_id, &window)) {
        LogError("corrupt chunk key of series " + std::to_string(id));
        ok = false;
        break;
      }
      tail.windows.push_back(Window{window, {std::string(it->value().ToStringView())}});
    }
    if (ok && !it->status().ok()) {
      LogError("reading chunks of series " + std::to_string(id) + ": " + it->status().ToString());
      it.reset();
      ok = false;
    }
    // A series that could not be read is not followed: queries read it from RocksDB.
    if (ok) seeds_.emplace(id, std::move(tail));
  }
}

void RecentChunks::Add(Tail* tail, Operand* op) {
  if (op->window_start_ms < tail->from_window_ms) return;  // a backfill: not kept
  auto w = std::lower_bound(tail->windows.begin(), tail->windows.end(), op->window_start_ms,
                            [](const Window& a, int64_t t) { return a.start_ms < t; });
  if (w == tail->windows.end() || w->start_ms != op->window_start_ms) {
    w = tail->windows.insert(w, Window{op->window_start_ms, {}});
  }
  w->chunks.push_back(std::move(op->chunk));
  if (w->chunks.size() > kFoldAt) {
    // What the merge operator would make of them; readers decode one chunk instead of many
    // small ones (a flush a minute adds one per series).
    std::vector<std::string_view> views(w->chunks.begin(), w->chunks.end());
    int corrupt = 0;
    std::string folded = MergeAnyChunks(views, &corrupt);
    if (corrupt == 0) w->chunks = {std::move(folded)};  // else keep them: readers log it
  }
  const int64_t keep_from = PreviousWindow(tail->windows.back().start_ms);
  if (keep_from > tail->from_window_ms) {
    tail->from_window_ms = keep_from;
    std::erase_if(tail->windows,
                  [&](const Window& x) { return x.start_ms < tail->from_window_ms; });
  }
}

void RecentChunks::Commit(std::vector<Operand>* operands) {
  int64_t newest_written = std::numeric_limits<int64_t>::min();
  for (size_t i = 0; i < operands->size();) {
    const uint64_t id = (*operands)[i].id;
    Shard& shard = ShardOf(id);
    std::lock_guard lock(shard.mu);
    Tail* tail = nullptr;
    if (auto t = shard.tails.find(id); t != shard.tails.end()) {
      tail = &t->second;
    } else if (auto s = seeds_.find(id); s != seeds_.end()) {
      tail = &shard.tails.emplace(id, std::move(s->second)).first->second;
    }
    for (; i < operands->size() && (*operands)[i].id == id; ++i) {
      Operand& op = (*operands)[i];
      newest_written = std::max(newest_written, op.window_start_ms);
      if (tail != nullptr) Add(tail, &op);
    }
  }
  seeds_.clear();
  // Series that stopped being written leave; the windows still being written stay.
  if (newest_written == std::numeric_limits<int64_t>::min()) return;
  const int64_t keep_from = PreviousWindow(newest_written);
  for (Shard& shard : shards_) {
    std::lock_guard lock(shard.mu);
    std::erase_if(shard.tails,
                  [&](const auto& entry) { return entry.second.windows.back().start_ms < keep_from; });
  }
}

bool RecentChunks::Read(uint64_t id, int64_t window_start_ms,
                        absl::FunctionRef<void(std::span<const std::string> chunks)> read) const {
  const Shard& shard = ShardOf(id);
  std::lock_guard lock(shard.mu);
  auto t = shard.tails.find(id);
  if (t == shard.tails.end() || window_start_ms < t->second.from_window_ms) return false;
  const std::vector<Window>& windows = t->second.windows;
  auto w = std::lower_bound(windows.begin(), windows.end(), window_start_ms,
                            [](const Window& a, int64_t x) { return a.start_ms < x; });
  if (w == windows.end() || w->start_ms != window_start_ms) {
    read({});
  } else {
    read(w->chunks);
  }
  return true;
}

}  // namespace otelbox::storage
