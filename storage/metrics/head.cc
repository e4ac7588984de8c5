#include "storage/metrics/head.h"

#include <algorithm>
#include <limits>

#include "common/log.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "storage/coding.h"
#include "storage/db.h"
#include "storage/keys.h"
#include "storage/metrics/chunk_histogram.h"
#include "storage/metrics/chunk_mixed.h"

namespace otelbox::storage {
namespace {

uint64_t ZigZag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

// A histogram's share of the head's memory in units of one float sample (16 bytes), so
// that `head_flush_samples` bounds memory whatever the sample kind.
int64_t HeadWeight(const HistogramSample& h) {
  const size_t values = h.h.positive_buckets.size() + h.h.negative_buckets.size() +
                        h.h.positive_spans.size() + h.h.negative_spans.size() +
                        h.h.custom_values.size();
  return static_cast<int64_t>((sizeof(HistogramSample) + 8 * values) / sizeof(Sample));
}

int64_t HeadWeight(const SampleWrites& writes) {
  int64_t n = static_cast<int64_t>(writes.floats().size());
  for (const HistogramSample& h : writes.histograms()) n += HeadWeight(h);
  return n;
}

std::string SeqKey(uint64_t seq) {
  std::string k;
  PutFixed64BE(&k, seq);
  return k;
}

struct RecordSeries {
  uint64_t id = 0;
  std::vector<Sample> samples;
  std::vector<HistogramSample> histograms;
};

// Record value: tenant, then per series: id, count, count x (zigzag time delta, value
// bits); then, when the record has histograms, id 0 (never a series id) and per series:
// id, count, count x (zigzag time delta, histogram coded against the previous one).
bool DecodeRecord(std::string_view in, std::string_view* tenant, std::vector<RecordSeries>* out) {
  if (!GetLengthPrefixed(&in, tenant)) return false;
  bool histograms = false;
  while (!in.empty()) {
    uint64_t id = 0, n = 0;
    if (!GetVarint64(&in, &id)) return false;
    if (id == 0 && !histograms) {
      histograms = true;
      continue;
    }
    if (id == 0 || !GetVarint64(&in, &n) || n > in.size()) return false;
    RecordSeries& series = out->emplace_back();
    series.id = id;
    int64_t t = 0;
    if (!histograms) {
      series.samples.resize(n);
      for (auto& s : series.samples) {
        uint64_t delta = 0;
        if (!GetVarint64(&in, &delta) || !GetDouble(&in, &s.value)) return false;
        t += UnZigZag(delta);
        s.t_ms = t;
      }
    } else {
      series.histograms.resize(n);
      for (size_t i = 0; i < n; ++i) {
        HistogramSample& h = series.histograms[i];
        uint64_t delta = 0;
        if (!GetVarint64(&in, &delta) ||
            !GetHistogram(&in, &h.h, i ? &series.histograms[i - 1].h : nullptr)) {
          return false;
        }
        t += UnZigZag(delta);
        h.t_ms = t;
      }
    }
  }
  return true;
}

}  // namespace

MetricHead::MetricHead(Database* db) : db_(db), recent_(db) {}

absl::Status MetricHead::Recover() {
  std::unique_ptr<rocksdb::Iterator> it(
      db_->db()->NewIterator(rocksdb::ReadOptions(), db_->cf(ColumnFamily::kHeadLog)));
  uint64_t last_seq = 0;
  int64_t records = 0, corrupt = 0, floats = 0, histograms = 0;
  std::vector<RecordSeries> series;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string_view key = it->key().ToStringView();
    GetFixed64BE(&key, &last_seq);
    std::string_view tenant;
    series.clear();
    if (!DecodeRecord(it->value().ToStringView(), &tenant, &series)) {
      ++corrupt;  // DataLoss: log, count, keep serving what is readable
      continue;
    }
    // Floats before histograms, as Apply does.
    for (const RecordSeries& s : series) {
      ApplyOne(tenant, s.id, s.samples, &s.histograms);
      floats += static_cast<int64_t>(s.samples.size());
      histograms += static_cast<int64_t>(s.histograms.size());
    }
    ++records;
  }
  if (!it->status().ok()) return ToAbslStatus(it->status(), "replaying the head log");
  next_seq_ = last_seq + 1;
  if (records > 0 || corrupt > 0) {
    LogInfo("head: replayed " + std::to_string(records) + " log records, " +
            std::to_string(floats) + " samples" +
            (histograms ? ", " + std::to_string(histograms) + " histogram samples" : "") +
            (corrupt ? "; skipped " + std::to_string(corrupt) + " corrupt records" : ""));
  }
  return absl::OkStatus();
}

void MetricHead::AddRecord(std::string_view tenant, const std::vector<SeriesSamplesRef>& series,
                           rocksdb::WriteBatch* wb) {
  std::string value;
  size_t n = 0;
  bool histograms = false;
  for (const auto& s : series) {
    n += s.samples->size();
    histograms = histograms || (s.histograms != nullptr && !s.histograms->empty());
  }
  value.reserve(tenant.size() + 8 + series.size() * 4 + n * 12);
  PutLengthPrefixed(&value, tenant);
  for (const auto& s : series) {
    if (s.samples->empty()) continue;
    PutVarint64(&value, s.id);
    PutVarint64(&value, s.samples->size());
    int64_t prev = 0;
    for (const Sample& sample : *s.samples) {
      PutVarint64(&value, ZigZag(sample.t_ms - prev));
      PutDouble(&value, sample.value);
      prev = sample.t_ms;
    }
  }
  if (histograms) {
    PutVarint64(&value, 0);  // section marker: series ids are never 0
    for (const auto& s : series) {
      if (s.histograms == nullptr || s.histograms->empty()) continue;
      PutVarint64(&value, s.id);
      PutVarint64(&value, s.histograms->size());
      const HistogramSample* prev = nullptr;
      for (const HistogramSample& h : *s.histograms) {
        PutVarint64(&value, ZigZag(h.t_ms - (prev ? prev->t_ms : 0)));
        PutHistogram(&value, h.h, prev ? &prev->h : nullptr);
        prev = &h;
      }
    }
  }
  wb->Put(db_->cf(ColumnFamily::kHeadLog), SeqKey(next_seq_.fetch_add(1)), value);
}

void MetricHead::ApplyOne(std::string_view tenant, uint64_t id, const std::vector<Sample>& floats,
                          const std::vector<HistogramSample>* histograms) {
  Shard& shard = ShardOf(id);
  std::lock_guard lock(shard.mu);
  Buffer& buf = shard.active[id];
  if (buf.tenant.empty()) buf.tenant = tenant;
  buf.writes.AddFloats(floats.data(), floats.data() + floats.size());
  int64_t n = static_cast<int64_t>(floats.size());
  if (histograms != nullptr) {
    buf.writes.AddHistograms(histograms->data(), histograms->data() + histograms->size());
    for (const HistogramSample& h : *histograms) n += HeadWeight(h);
  }
  buffered_samples_.fetch_add(n, std::memory_order_relaxed);
}

void MetricHead::Apply(std::string_view tenant, const std::vector<SeriesSamplesRef>& series) {
  for (const auto& s : series) ApplyOne(tenant, s.id, *s.samples, s.histograms);
}

void MetricHead::Collect(uint64_t id, int64_t start_ms, int64_t end_ms, SampleWrites* out) const {
  const Shard& shard = ShardOf(id);
  std::lock_guard lock(shard.mu);
  for (const auto* map : {&shard.flushing, &shard.active}) {  // older first
    auto it = map->find(id);
    if (it == map->end()) continue;
    out->AppendInRange(it->second.writes, start_ms, end_ms);
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
  std::vector<RecentChunks::Operand> operands;  // grouped by series, windows ascending
  for (Shard& shard : shards_) {
    std::lock_guard lock(shard.mu);
    for (const auto& [id, buf] : shard.flushing) {
      // One sample per timestamp, the newest write winning, split by chunk window.
      const ResolvedSamples all = buf.writes.Resolve();
      size_t f = 0, h = 0;
      while (f < all.floats.size() || h < all.histograms.size()) {
        const int64_t window = ChunkWindowStart(
            h == all.histograms.size() ? all.floats[f].t_ms
            : f == all.floats.size()   ? all.histograms[h].t_ms
                                       : std::min(all.floats[f].t_ms, all.histograms[h].t_ms));
        ResolvedSamples part;
        for (; f < all.floats.size() && ChunkWindowStart(all.floats[f].t_ms) == window; ++f) {
          part.floats.push_back(all.floats[f]);
        }
        for (; h < all.histograms.size() && ChunkWindowStart(all.histograms[h].t_ms) == window; ++h) {
          part.histograms.push_back(all.histograms[h]);
        }
        RecentChunks::Operand& op = operands.emplace_back();
        op.id = id;
        op.tenant = buf.tenant;  // `flushing` keeps it until the end of this flush
        op.window_start_ms = window;
        op.chunk = EncodeAnyChunk(part);
        wb.Merge(chunks_cf, ChunkKey(buf.tenant, id, window), op.chunk);
      }
      flushed += HeadWeight(buf.writes);
    }
  }
  if (cut_seq > 1) {
    wb.DeleteRange(db_->cf(ColumnFamily::kHeadLog), SeqKey(0), SeqKey(cut_seq));
  }
  rocksdb::WriteOptions wo;
  wo.sync = sync_wal;
  recent_.Prepare(operands);
  rocksdb::Status s = wb.Count() > 0 ? db_->db()->Write(wo, &wb) : rocksdb::Status::OK();
  // The operands join the recent chunks before their samples leave the head (below).
  if (s.ok()) {
    recent_.Commit(&operands);
  } else {
    recent_.Abort();
  }
  for (Shard& shard : shards_) {
    std::lock_guard lock(shard.mu);
    if (!s.ok()) {
      // The log records are still there (the batch is atomic): keep the samples in memory,
      // older ones first, and try again at the next flush.
      for (auto& [id, buf] : shard.flushing) {
        Buffer& active = shard.active[id];
        buf.writes.AppendInRange(active.writes, std::numeric_limits<int64_t>::min(),
                                 std::numeric_limits<int64_t>::max());
        active.writes = std::move(buf.writes);
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
