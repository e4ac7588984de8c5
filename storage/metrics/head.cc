#include "storage/metrics/head.h"

#include <algorithm>

#include "common/log.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "storage/coding.h"
#include "storage/db.h"
#include "storage/keys.h"
#include "storage/metrics/chunk_xor.h"

namespace otelbox::storage {
namespace {

uint64_t ZigZag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

std::string SeqKey(uint64_t seq) {
  std::string k;
  PutFixed64BE(&k, seq);
  return k;
}

// Record value: tenant, then per series: id, count, count x (zigzag time delta, value bits).
bool DecodeRecord(std::string_view in, std::string_view* tenant,
                  std::vector<std::pair<uint64_t, std::vector<Sample>>>* out) {
  if (!GetLengthPrefixed(&in, tenant)) return false;
  while (!in.empty()) {
    uint64_t id = 0, n = 0;
    if (!GetVarint64(&in, &id) || !GetVarint64(&in, &n) || n > in.size()) return false;
    std::vector<Sample> samples(n);
    int64_t t = 0;
    for (auto& s : samples) {
      uint64_t delta = 0;
      if (!GetVarint64(&in, &delta) || !GetDouble(&in, &s.value)) return false;
      t += UnZigZag(delta);
      s.t_ms = t;
    }
    out->emplace_back(id, std::move(samples));
  }
  return true;
}

}  // namespace

MetricHead::MetricHead(Database* db) : db_(db) {}

absl::Status MetricHead::Recover() {
  std::unique_ptr<rocksdb::Iterator> it(
      db_->db()->NewIterator(rocksdb::ReadOptions(), db_->cf(ColumnFamily::kHeadLog)));
  uint64_t last_seq = 0;
  int64_t records = 0, corrupt = 0;
  std::vector<std::pair<uint64_t, std::vector<Sample>>> series;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string_view key = it->key().ToStringView();
    GetFixed64BE(&key, &last_seq);
    std::string_view tenant;
    series.clear();
    if (!DecodeRecord(it->value().ToStringView(), &tenant, &series)) {
      ++corrupt;  // DataLoss: log, count, keep serving what is readable
      continue;
    }
    for (const auto& [id, samples] : series) {
      ApplyOne(tenant, id, samples.data(), samples.data() + samples.size());
    }
    ++records;
  }
  if (!it->status().ok()) return ToAbslStatus(it->status(), "replaying the head log");
  next_seq_ = last_seq + 1;
  if (records > 0 || corrupt > 0) {
    LogInfo("head: replayed " + std::to_string(records) + " log records, " +
            std::to_string(buffered_samples()) + " samples" +
            (corrupt ? "; skipped " + std::to_string(corrupt) + " corrupt records" : ""));
  }
  return absl::OkStatus();
}

void MetricHead::AddRecord(std::string_view tenant, const std::vector<SeriesSamplesRef>& series,
                           rocksdb::WriteBatch* wb) {
  std::string value;
  size_t n = 0;
  for (const auto& s : series) n += s.samples->size();
  value.reserve(tenant.size() + 8 + series.size() * 4 + n * 12);
  PutLengthPrefixed(&value, tenant);
  for (const auto& s : series) {
    PutVarint64(&value, s.id);
    PutVarint64(&value, s.samples->size());
    int64_t prev = 0;
    for (const Sample& sample : *s.samples) {
      PutVarint64(&value, ZigZag(sample.t_ms - prev));
      PutDouble(&value, sample.value);
      prev = sample.t_ms;
    }
  }
  wb->Put(db_->cf(ColumnFamily::kHeadLog), SeqKey(next_seq_.fetch_add(1)), value);
}

void MetricHead::ApplyOne(std::string_view tenant, uint64_t id, const Sample* begin,
                          const Sample* end) {
  Shard& shard = ShardOf(id);
  std::lock_guard lock(shard.mu);
  Buffer& buf = shard.active[id];
  if (buf.tenant.empty()) buf.tenant = tenant;
  buf.samples.insert(buf.samples.end(), begin, end);
  buffered_samples_.fetch_add(end - begin, std::memory_order_relaxed);
}

void MetricHead::Apply(std::string_view tenant, const std::vector<SeriesSamplesRef>& series) {
  for (const auto& s : series) {
    ApplyOne(tenant, s.id, s.samples->data(), s.samples->data() + s.samples->size());
  }
}

void MetricHead::Collect(uint64_t id, int64_t start_ms, int64_t end_ms,
                         std::vector<Sample>* out) const {
  const Shard& shard = ShardOf(id);
  std::lock_guard lock(shard.mu);
  for (const auto* map : {&shard.flushing, &shard.active}) {  // older first
    auto it = map->find(id);
    if (it == map->end()) continue;
    for (const Sample& s : it->second.samples) {
      if (s.t_ms >= start_ms && s.t_ms <= end_ms) out->push_back(s);
    }
  }
}

absl::Status MetricHead::Flush(bool sync_wal) {
  std::lock_guard flush_lock(flush_mu_);
  uint64_t cut_seq = 0;
  {
    // Every record with a sequence number below cut_seq is written and applied: appenders
    // hold the shared side from AddRecord until Apply.
    std::unique_lock cut(cut_mu_);
    cut_seq = next_seq_.load();
    for (Shard& shard : shards_) {
      std::lock_guard lock(shard.mu);
      shard.flushing.swap(shard.active);
    }
  }
  rocksdb::WriteBatch wb;
  auto* chunks_cf = db_->cf(ColumnFamily::kChunks);
  int64_t flushed = 0;
  std::vector<Sample> samples;
  for (Shard& shard : shards_) {
    std::lock_guard lock(shard.mu);
    for (const auto& [id, buf] : shard.flushing) {
      samples = buf.samples;
      // Stable: for equal timestamps the newest write stays last, and EncodeSamples keeps
      // the last one.
      std::stable_sort(samples.begin(), samples.end(),
                       [](const Sample& a, const Sample& b) { return a.t_ms < b.t_ms; });
      for (size_t i = 0; i < samples.size();) {
        const int64_t window = ChunkWindowStart(samples[i].t_ms);
        size_t j = i;
        while (j < samples.size() && ChunkWindowStart(samples[j].t_ms) == window) ++j;
        wb.Merge(chunks_cf, ChunkKey(buf.tenant, id, window),
                 EncodeSamples(std::vector<Sample>(samples.begin() + i, samples.begin() + j)));
        i = j;
      }
      flushed += static_cast<int64_t>(buf.samples.size());
    }
  }
  if (cut_seq > 1) {
    wb.DeleteRange(db_->cf(ColumnFamily::kHeadLog), SeqKey(0), SeqKey(cut_seq));
  }
  rocksdb::WriteOptions wo;
  wo.sync = sync_wal;
  rocksdb::Status s = wb.Count() > 0 ? db_->db()->Write(wo, &wb) : rocksdb::Status::OK();
  for (Shard& shard : shards_) {
    std::lock_guard lock(shard.mu);
    if (!s.ok()) {
      // The log records are still there (the batch is atomic): keep the samples in memory,
      // older ones first, and try again at the next flush.
      for (auto& [id, buf] : shard.flushing) {
        Buffer& active = shard.active[id];
        buf.samples.insert(buf.samples.end(), active.samples.begin(), active.samples.end());
        active.samples = std::move(buf.samples);
        active.tenant = buf.tenant;
      }
    }
    shard.flushing.clear();
  }
  if (!s.ok()) return ToAbslStatus(s, "flushing the head into chunks");
  buffered_samples_.fetch_sub(flushed, std::memory_order_relaxed);
  return absl::OkStatus();
}

}  // namespace otelbox::storage
