#include "storage/metrics/metric_store.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <limits>
#include <iterator>
#include <set>
#include <span>
#include <thread>

#include "common/log.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "storage/coding.h"
#include "storage/index/postings_reader.h"
#include "storage/keys.h"
#include "storage/metrics/chunk_histogram.h"
#include "storage/metrics/chunk_mixed.h"
#include "storage/metrics/chunk_xor.h"
#include "storage/retention.h"

namespace otelbox::storage {
namespace {

constexpr int64_t kNoCutoff = std::numeric_limits<int64_t>::min();
// Selects spanning fewer chunk windows than this read each window's raw merge operands.
constexpr int64_t kOperandReadWindows = 3;
// Selects matching at least this many series read them on two threads: below it a
// thread's start costs more than it saves.
constexpr size_t kParallelSelectSeries = 512;

// RFC 3339 with milliseconds, UTC, as Prometheus prints timestamps in errors.
std::string FormatTime(int64_t t_ms) {
  int64_t secs = FloorDiv(t_ms, 1000);
  int ms = static_cast<int>(t_ms - secs * 1000);
  std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  if (gmtime_r(&tt, &tm) == nullptr) return std::to_string(t_ms);
  char buf[48];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", ms);
  return buf;
}

// Prometheus' model.Duration form for whole units: "15d", "6h", "90s", "250ms".
std::string FormatDuration(int64_t ms) {
  struct Unit { int64_t ms; const char* suffix; };
  static constexpr Unit kUnits[] = {{7LL * 24 * 3600 * 1000, "w"}, {24LL * 3600 * 1000, "d"},
                                    {3600 * 1000, "h"}, {60 * 1000, "m"}, {1000, "s"}};
  for (const Unit& u : kUnits) {
    if (ms % u.ms == 0 && ms >= u.ms) {
      if (u.ms == 7LL * 24 * 3600 * 1000) continue;  // Prometheus prints 14d, not 2w
      return std::to_string(ms / u.ms) + u.suffix;
    }
  }
  return std::to_string(ms) + "ms";
}

bool StartsWith(const rocksdb::Slice& s, std::string_view prefix) {
  return s.size() >= prefix.size() && std::string_view(s.data(), prefix.size()) == prefix;
}

std::string EncodeSeriesId(uint64_t id) {
  std::string v;
  PutFixed64BE(&v, id);
  return v;
}

std::string EncodeMetadataValue(const MetricMetadata& m) {
  std::string v(1, static_cast<char>(m.type));
  PutLengthPrefixed(&v, m.help);
  PutLengthPrefixed(&v, m.unit);
  return v;
}

bool DecodeMetadataValue(std::string_view in, MetricMetadata* m) {
  if (in.empty()) return false;
  m->type = static_cast<MetricType>(static_cast<uint8_t>(in[0]));
  in.remove_prefix(1);
  std::string_view help, unit;
  if (!GetLengthPrefixed(&in, &help) || !GetLengthPrefixed(&in, &unit)) return false;
  m->help = help;
  m->unit = unit;
  return true;
}

std::string EncodeExemplarValue(const Exemplar& e) {
  std::string v;
  PutLabels(&v, e.labels);
  PutDouble(&v, e.value);
  return v;
}

bool DecodeExemplarValue(std::string_view in, Exemplar* e) {
  return GetLabels(&in, &e->labels) && GetDouble(&in, &e->value);
}

// Releases a snapshot on scope exit: every query reads one consistent view.
class SnapshotGuard {
 public:
  explicit SnapshotGuard(rocksdb::DB* db) : db_(db), snap_(db->GetSnapshot()) {
    ro_.snapshot = snap_;
  }
  ~SnapshotGuard() { db_->ReleaseSnapshot(snap_); }
  const rocksdb::ReadOptions& ro() const { return ro_; }

 private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snap_;
  rocksdb::ReadOptions ro_;
};

// Merges `newer` (write order) into sorted `samples`; for equal timestamps the newest
// write wins, as in the chunk merge operator.
void MergeNewerSamples(std::vector<Sample>* samples, const std::vector<Sample>& newer) {
  // The common case, in-order appends: the head's samples ascend and follow the chunks'.
  bool ascending = samples->empty() || newer.empty() || newer.front().t_ms > samples->back().t_ms;
  for (size_t i = 1; ascending && i < newer.size(); ++i) {
    ascending = newer[i].t_ms > newer[i - 1].t_ms;
  }
  if (ascending) {
    samples->insert(samples->end(), newer.begin(), newer.end());
    return;
  }
  samples->insert(samples->end(), newer.begin(), newer.end());
  std::stable_sort(samples->begin(), samples->end(),
                   [](const Sample& a, const Sample& b) { return a.t_ms < b.t_ms; });
  std::vector<Sample> out;
  out.reserve(samples->size());
  for (const Sample& s : *samples) {
    if (!out.empty() && out.back().t_ms == s.t_ms) {
      out.back() = s;
    } else {
      out.push_back(s);
    }
  }
  *samples = std::move(out);
}

enum class OperandRead { kDone, kNotFound, kNotFloat };

// Buffers ReadFloatOperands reuses from one key to the next (one per reading thread).
struct OperandScratch {
  std::vector<rocksdb::PinnableSlice> operands = std::vector<rocksdb::PinnableSlice>(16);
  std::vector<Sample> part;
};

// Decodes a chunk key's merge operands (oldest first) over [start_ms, end_ms] and merges
// them into `out` as the merge operator would (the later operand wins equal timestamps),
// so the samples are the same, bit for bit. kNotFloat: some operand holds histograms;
// nothing was appended.
template <typename Chunk>
OperandRead DecodeFloatOperands(std::span<const Chunk> operands, int64_t start_ms,
                                int64_t end_ms, const Labels& labels, std::vector<Sample>* part,
                                std::vector<Sample>* out) {
  auto view = [](const Chunk& c) { return std::string_view(c.data(), c.size()); };
  for (const Chunk& c : operands) {
    if (!IsFloatChunk(view(c))) return OperandRead::kNotFloat;
  }
  for (const Chunk& c : operands) {
    part->clear();
    if (auto st = DecodeChunkRange(view(c), start_ms, end_ms, part); !st.ok()) {
      LogError("series " + labels.ToString() + ": " + std::string(st.message()));
    }
    MergeNewerSamples(out, *part);
  }
  return OperandRead::kDone;
}

// Reads one chunk key as its raw merge operands (oldest first; a folded base value comes
// first) instead of letting RocksDB fold them: folding decodes every operand and encodes
// the whole window again (twice: XOR and decimal) on each read, which was most of an
// instant query's time while recent head flushes' operands wait for compaction
// (bench/promql_bench). Float operands are decoded over [start_ms, end_ms] only and merged
// here as the merge operator would (the later operand wins equal timestamps), so the
// samples are the same, bit for bit. kNotFloat: some operand holds histograms; nothing was
// appended and the caller reads the folded value instead.
absl::StatusOr<OperandRead> ReadFloatOperands(rocksdb::DB* db, const rocksdb::ReadOptions& ro,
                                              rocksdb::ColumnFamilyHandle* cf,
                                              const std::string& key, int64_t start_ms,
                                              int64_t end_ms, const Labels& labels,
                                              OperandScratch* scratch, std::vector<Sample>* out) {
  int count = 0;
  std::vector<rocksdb::PinnableSlice>& operands = scratch->operands;
  for (rocksdb::PinnableSlice& o : operands) o.Reset();
  rocksdb::GetMergeOperandsOptions options;
  options.expected_max_number_of_operands = static_cast<int>(operands.size());
  rocksdb::Status s = db->GetMergeOperands(ro, cf, key, operands.data(), &options, &count);
  if (s.IsIncomplete() && count > options.expected_max_number_of_operands) {
    operands = std::vector<rocksdb::PinnableSlice>(static_cast<size_t>(count));
    options.expected_max_number_of_operands = count;
    s = db->GetMergeOperands(ro, cf, key, operands.data(), &options, &count);
  }
  if (s.IsNotFound()) return OperandRead::kNotFound;
  if (!s.ok()) return ToAbslStatus(s, "reading chunk operands");
  return DecodeFloatOperands(std::span<const rocksdb::PinnableSlice>(operands.data(), count),
                             start_ms, end_ms, labels, &scratch->part, out);
}

// HasNonEmptyMatcher, MatchesAll and the postings scans live in storage/index/
// postings_reader.h, shared with the log store.

}  // namespace

// Shared with the self-metrics gauges, which may be rendered after the store is gone.
struct MetricStore::GaugeState {
  std::mutex mu;
  MetricStore* store ABSL_GUARDED_BY(mu) = nullptr;
};

MetricStore::MetricStore(Database* db, MetricStoreOptions options, SelfMetrics* metrics)
    : db_(db),
      options_(std::move(options)),
      index_(db, options_.sync_wal),
      head_(db),
      gauges_(std::make_shared<GaugeState>()),
      last_enforced_day_(std::numeric_limits<int64_t>::min()) {
  if (metrics == nullptr) {  // no registry (tools): count into private counters
    samples_total_ = &local_counters_[0];
    series_created_total_ = &local_counters_[1];
    rejected_total_ = &local_counters_[2];
    return;
  }
  samples_total_ = metrics->GetCounter("otelbox_ingested_samples_total",
                                       "Samples written to storage.");
  series_created_total_ = metrics->GetCounter("otelbox_ingested_series_created_total",
                                              "Series created in storage.");
  rejected_total_ = metrics->GetCounter("otelbox_ingest_rejected_samples_total",
                                        "Samples rejected by storage (invalid or out of retention).");
  {
    std::lock_guard lock(gauges_->mu);
    gauges_->store = this;
  }
  auto read = [state = gauges_](auto f) {
    return [state, f]() -> double {
      std::lock_guard lock(state->mu);
      return state->store ? f(state->store) : 0.0;
    };
  };
  metrics->AddGaugeFunc("otelbox_head_samples", "Acknowledged samples not yet flushed into chunks.",
                        read([](MetricStore* s) { return double(s->head_.buffered_samples()); }));
  metrics->AddGaugeFunc("otelbox_series", "Series known to the in-memory series cache.",
                        read([](MetricStore* s) { return double(s->index_.size()); }));
  metrics->AddGaugeFunc("otelbox_storage_sst_bytes", "Bytes of live RocksDB SST files.",
                        read([](MetricStore* s) { return double(s->db_->LiveSstBytes()); }));
  metrics->AddGaugeFunc("otelbox_storage_memtable_bytes", "Bytes of RocksDB memtables.",
                        read([](MetricStore* s) { return double(s->db_->MemtableBytes()); }));
}

MetricStore::~MetricStore() {
  {
    std::lock_guard lock(flusher_mu_);
    stopping_ = true;
  }
  flusher_cv_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  // Not needed for durability (the head log is replayed on open), but it leaves a compact
  // store behind and makes the next start-up faster.
  if (auto s = head_.Flush(options_.sync_wal); !s.ok()) LogError(std::string(s.message()));
  std::lock_guard lock(gauges_->mu);
  gauges_->store = nullptr;
}

absl::Status MetricStore::FlushHead() { return head_.Flush(options_.sync_wal); }

void MetricStore::FlushLoop() {
  std::unique_lock lock(flusher_mu_);
  auto last_flush = std::chrono::steady_clock::now();
  while (!stopping_) {
    flusher_cv_.wait_for(lock, std::chrono::seconds(1));
    if (stopping_) break;
    const bool full = head_.buffered_samples() >= options_.head_flush_samples;
    const bool due = std::chrono::steady_clock::now() - last_flush >= options_.head_flush_interval;
    if (!full && !(due && head_.buffered_samples() > 0)) continue;
    lock.unlock();
    if (auto s = head_.Flush(options_.sync_wal); !s.ok()) LogError(std::string(s.message()));
    last_flush = std::chrono::steady_clock::now();
    lock.lock();
  }
}

absl::StatusOr<std::unique_ptr<MetricStore>> MetricStore::Open(Database* db,
                                                               MetricStoreOptions options,
                                                               SelfMetrics* metrics) {
  if (db == nullptr || db->db() == nullptr) return absl::FailedPreconditionError("database is not open");
  std::unique_ptr<MetricStore> store(new MetricStore(db, std::move(options), metrics));
  if (auto s = store->index_.Open(); !s.ok()) return s;
  if (auto s = store->head_.Recover(); !s.ok()) return s;
  // Metadata is small (one record per family): cache it so unchanged metadata is not
  // rewritten on every Append.
  std::unique_ptr<rocksdb::Iterator> it(
      db->db()->NewIterator(rocksdb::ReadOptions(), db->cf(ColumnFamily::kMeta)));
  const std::string prefix = MetaKey(MetaRecord::kMetadata);
  std::lock_guard lock(store->metadata_mu_);
  for (it->Seek(prefix); it->Valid() && StartsWith(it->key(), prefix); it->Next()) {
    std::string_view key = it->key().ToStringView().substr(prefix.size());
    std::string_view tenant;
    MetricMetadata m;
    if (!GetLengthPrefixed(&key, &tenant) || !DecodeMetadataValue(it->value().ToStringView(), &m)) {
      LogWarn("skipping corrupt metric metadata record");
      continue;
    }
    m.family = key;
    store->metadata_cache_[std::string(tenant) + '\0' + m.family] = std::move(m);
  }
  if (!it->status().ok()) return ToAbslStatus(it->status(), "loading metric metadata");
  MetricStore* raw = store.get();
  store->flusher_ = std::thread([raw] { raw->FlushLoop(); });
  return store;
}

int64_t MetricStore::NowMs() const {
  if (options_.now_ms) return options_.now_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t MetricStore::CutoffMs() const {
  if (options_.retention_ms <= 0) return kNoCutoff;
  return NowMs() - options_.retention_ms;
}

absl::StatusOr<AppendStats> MetricStore::Append(std::string_view tenant,
                                                const MetricBatch& batch,
                                                RejectPolicy policy) {
  AppendStats stats;
  const int64_t cutoff = CutoffMs();
  auto reject = [&](int64_t n, const std::string& reason) {
    stats.samples_rejected += n;
    if (stats.first_rejection.empty()) stats.first_rejection = reason;
  };

  // Pass 1: validate everything before touching the index, so kRejectBatch writes nothing.
  struct Planned {
    const SeriesSamples* in;
    std::vector<Sample> samples;
    std::vector<HistogramSample> histograms;
    std::vector<const Exemplar*> exemplars;
  };
  std::vector<Planned> plan;
  plan.reserve(batch.series.size());
  for (const SeriesSamples& s : batch.series) {
    std::string invalid;
    if (s.labels.empty()) {
      invalid = "invalid series: empty label set";
    } else if (!s.labels.Has(kMetricNameLabel)) {
      invalid = "invalid series " + s.labels.ToString() + ": missing metric name (__name__)";
    }
    if (!invalid.empty()) {
      if (policy == RejectPolicy::kRejectBatch) return absl::InvalidArgumentError(invalid);
      reject(static_cast<int64_t>(s.samples.size() + s.histograms.size()), invalid);
      continue;
    }
    Planned p{&s, {}, {}, {}};
    p.samples.reserve(s.samples.size());
    for (const Sample& sample : s.samples) {
      if (sample.t_ms < cutoff) {
        std::string reason = "out of bounds: sample for series " + s.labels.ToString() + " at " +
                             FormatTime(sample.t_ms) + " (" + std::to_string(sample.t_ms) +
                             ") is older than retention " + FormatDuration(options_.retention_ms);
        if (policy == RejectPolicy::kRejectBatch) return absl::InvalidArgumentError(reason);
        reject(1, reason);
        continue;
      }
      p.samples.push_back(sample);
    }
    for (const HistogramSample& h : s.histograms) {
      std::string reason;
      if (h.t_ms < cutoff) {
        reason = "out of bounds: histogram sample for series " + s.labels.ToString() + " at " +
                 FormatTime(h.t_ms) + " (" + std::to_string(h.t_ms) +
                 ") is older than retention " + FormatDuration(options_.retention_ms);
      } else if (IsStaleNaN(h.h.sum)) {
        // Prometheus' histogram staleness marker: stored as the float StaleNaN, which ends
        // a series of either kind.
        p.samples.push_back(Sample{h.t_ms, StaleNaN()});
        continue;
      } else if (std::string e = HistogramError(h.h); !e.empty()) {
        reason = "invalid histogram sample for series " + s.labels.ToString() + " at " +
                 std::to_string(h.t_ms) + ": " + e;
      }
      if (!reason.empty()) {
        if (policy == RejectPolicy::kRejectBatch) return absl::InvalidArgumentError(reason);
        reject(1, reason);
        continue;
      }
      p.histograms.push_back(h);
    }
    for (const Exemplar& e : s.exemplars) {
      if (e.t_ms >= cutoff) p.exemplars.push_back(&e);  // old exemplars: silently dropped
    }
    if (!p.samples.empty() || !p.histograms.empty() || !p.exemplars.empty()) {
      plan.push_back(std::move(p));
    }
  }

  // Pass 2: resolve series and build the one WriteBatch.
  rocksdb::WriteBatch wb;
  auto* series_cf = db_->cf(ColumnFamily::kSeries);
  auto* by_id_cf = db_->cf(ColumnFamily::kSeriesById);
  auto* postings_cf = db_->cf(ColumnFamily::kPostings);
  auto* exemplars_cf = db_->cf(ColumnFamily::kExemplars);
  struct ToMark {
    std::string key;
    std::vector<int64_t> days;
    const Labels* labels;
  };
  std::vector<ToMark> to_mark;
  std::vector<MetricHead::SeriesSamplesRef> head_series;
  head_series.reserve(plan.size());
  // Held from the head record's sequence number until its samples are in memory, so a
  // head flush never cuts in between.
  auto head_lock = head_.LockForAppend();
  for (Planned& p : plan) {
    const Labels& labels = p.in->labels;
    std::string key = SeriesKey(tenant, labels);
    // Later samples of the batch win over earlier ones with the same timestamp: stable.
    std::stable_sort(p.samples.begin(), p.samples.end(),
                     [](const Sample& a, const Sample& b) { return a.t_ms < b.t_ms; });
    std::stable_sort(p.histograms.begin(), p.histograms.end(),
                     [](const HistogramSample& a, const HistogramSample& b) { return a.t_ms < b.t_ms; });
    std::vector<int64_t> days;
    for (const Sample& s : p.samples) {
      int64_t d = DayOf(s.t_ms);
      if (days.empty() || days.back() != d) days.push_back(d);
    }
    for (const HistogramSample& h : p.histograms) days.push_back(DayOf(h.t_ms));
    for (const Exemplar* e : p.exemplars) days.push_back(DayOf(e->t_ms));
    std::sort(days.begin(), days.end());
    days.erase(std::unique(days.begin(), days.end()), days.end());

    auto r = index_.Resolve(key, days);
    if (!r.ok()) return r.status();
    const uint64_t id = r->id;
    if (r->needs_rows) {
      std::string labels_value;
      PutLabels(&labels_value, labels);
      wb.Put(series_cf, key, EncodeSeriesId(id));
      wb.Put(by_id_cf, SeriesByIdKey(tenant, id), labels_value);
    }
    for (int64_t day : r->missing_days) {
      for (const Label& l : labels) wb.Put(postings_cf, PostingKey(tenant, day, l.name, l.value, id), "");
    }
    if (!p.samples.empty() || !p.histograms.empty()) {
      head_series.push_back({id, &p.samples, &p.histograms});
    }
    for (const Exemplar* e : p.exemplars) {
      wb.Put(exemplars_cf, ExemplarKey(tenant, id, e->t_ms), EncodeExemplarValue(*e));
    }
    stats.samples_written += static_cast<int64_t>(p.samples.size() + p.histograms.size());
    if (r->created) ++stats.series_created;
    if (r->needs_rows || !r->missing_days.empty()) {
      to_mark.push_back(ToMark{std::move(key), std::move(r->missing_days), &labels});
    }
  }

  std::vector<std::pair<std::string, MetricMetadata>> new_metadata;
  if (!batch.metadata.empty()) {
    std::lock_guard lock(metadata_mu_);
    for (const MetricMetadata& m : batch.metadata) {
      if (m.family.empty()) continue;
      std::string cache_key = std::string(tenant) + '\0' + m.family;
      auto it = metadata_cache_.find(cache_key);
      if (it != metadata_cache_.end() && it->second == m) continue;
      wb.Put(db_->cf(ColumnFamily::kMeta), MetadataKey(tenant, m.family), EncodeMetadataValue(m));
      new_metadata.emplace_back(std::move(cache_key), m);
    }
  }

  if (!head_series.empty()) head_.AddRecord(tenant, head_series, &wb);
  if (wb.Count() > 0) {
    rocksdb::WriteOptions wo;
    wo.sync = options_.sync_wal;
    auto s = db_->db()->Write(wo, &wb);
    if (!s.ok()) return ToAbslStatus(s, "writing metric batch");
  }
  head_.Apply(tenant, head_series);
  head_lock.unlock();
  if (head_.buffered_samples() >= options_.head_flush_samples) flusher_cv_.notify_one();

  const int64_t min_day = cutoff == kNoCutoff ? kNoCutoff : DayOf(cutoff);
  for (const ToMark& m : to_mark) {
    day_labels_.Added(tenant, *m.labels, m.days);
    index_.MarkWritten(m.key, m.days, min_day);
  }
  if (!new_metadata.empty()) {
    std::lock_guard lock(metadata_mu_);
    for (auto& [k, m] : new_metadata) metadata_cache_[k] = std::move(m);
  }
  samples_total_->Add(stats.samples_written);
  series_created_total_->Add(stats.series_created);
  rejected_total_->Add(stats.samples_rejected);
  return stats;
}

absl::Status MetricStore::MatchSeries(const rocksdb::ReadOptions& ro, std::string_view tenant,
                                      const MatcherSet& matchers, int64_t start_ms,
                                      int64_t end_ms, std::map<uint64_t, Labels>* out) {
  return PostingsReader(db_, kSeriesIndexFamilies, &index_)
      .Match(ro, tenant, matchers, DayOf(start_ms), DayOf(end_ms), out);
}

absl::Status MetricStore::MatchSets(const rocksdb::ReadOptions& ro, std::string_view tenant,
                                    const std::vector<MatcherSet>& sets, int64_t start_ms,
                                    int64_t end_ms, std::map<uint64_t, Labels>* out) {
  if (sets.empty()) {
    // Every series has a __name__: its postings enumerate all series of the range.
    auto all = Matcher::Create(MatchType::kRegexMatch, std::string(kMetricNameLabel), ".+");
    if (!all.ok()) return all.status();
    return MatchSeries(ro, tenant, MatcherSet{*all}, start_ms, end_ms, out);
  }
  for (const MatcherSet& set : sets) {
    if (!HasNonEmptyMatcher(set)) {
      return absl::InvalidArgumentError("match[] must contain at least one non-empty matcher");
    }
  }
  for (const MatcherSet& set : sets) {
    if (auto s = MatchSeries(ro, tenant, set, start_ms, end_ms, out); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<SeriesData>> MetricStore::Select(std::string_view tenant,
                                                             const MatcherSet& matchers,
                                                             int64_t start_ms, int64_t end_ms) {
  if (!HasNonEmptyMatcher(matchers)) {
    return absl::InvalidArgumentError("vector selector must contain at least one non-empty matcher");
  }
  start_ms = std::max(start_ms, CutoffMs());
  std::vector<SeriesData> result;
  if (start_ms > end_ms) return result;

  std::map<uint64_t, Labels> series;
  {
    SnapshotGuard index_snap(db_->db());
    if (auto s = MatchSeries(index_snap.ro(), tenant, matchers, start_ms, end_ms, &series); !s.ok()) {
      return s;
    }
  }
  // The head is read before the chunks' snapshot is taken and before the recent chunks are
  // read: a sample that a concurrent head flush moves out of the head is then already in
  // that snapshot's chunks and in the recent chunks (ConcurrentFlushesNeverHideWrittenSamples).
  std::vector<SampleWrites> head_samples(series.size());  // in the order of `todo`
  {
    size_t i = 0;
    for (const auto& [id, labels] : series) head_.Collect(id, start_ms, end_ms, &head_samples[i++]);
  }
  SnapshotGuard snap(db_->db());
  // Short ranges (instant queries, recent panels) span few windows: those are read as raw
  // operands, point lookups being as cheap as seeks there; longer ranges scan.
  const int64_t first_window = ChunkWindowStart(start_ms);
  // end_ms >= first_window: the unsigned difference is exact.
  const uint64_t windows =
      (static_cast<uint64_t>(end_ms) - static_cast<uint64_t>(first_window)) / kChunkWindowMs + 1;
  const bool by_operands = windows < static_cast<uint64_t>(kOperandReadWindows);
  std::vector<std::pair<uint64_t, Labels*>> todo;
  todo.reserve(series.size());
  for (auto& [id, labels] : series) todo.emplace_back(id, &labels);

  // Reads the series todo[begin, end) into `out`. Each worker owns its iterator and
  // scratch; the snapshot and the head samples are only read.
  auto read_range = [&](size_t begin, size_t end, std::vector<SeriesData>* out) -> absl::Status {
    std::unique_ptr<rocksdb::Iterator> it;
    OperandScratch scratch;
    for (size_t i = begin; i < end; ++i) {
      const uint64_t id = todo[i].first;
      Labels& labels = *todo[i].second;
      SeriesData data;
      bool read = false;
      if (by_operands) {
        read = true;
        for (uint64_t k = 0; k < windows && read; ++k) {
          const int64_t w = first_window + static_cast<int64_t>(k) * kChunkWindowMs;
          // The newest windows come from memory, as flushes wrote them.
          OperandRead from_memory = OperandRead::kNotFound;
          const bool held = head_.recent().Read(id, w, [&](std::span<const std::string> chunks) {
            from_memory = DecodeFloatOperands(chunks, start_ms, end_ms, labels, &scratch.part,
                                              &data.samples);
          });
          if (held) {
            if (from_memory == OperandRead::kNotFloat) {
              data.samples.clear();
              read = false;
            }
            continue;
          }
          auto r = ReadFloatOperands(db_->db(), snap.ro(), db_->cf(ColumnFamily::kChunks),
                                     ChunkKey(tenant, id, w), start_ms, end_ms, labels,
                                     &scratch, &data.samples);
          if (!r.ok()) return r.status();
          if (*r == OperandRead::kNotFloat) {
            data.samples.clear();
            read = false;
          }
        }
      }
      // A window starting before start_ms's window ends before start_ms.
      if (!read) {
        if (it == nullptr) {
          it.reset(db_->db()->NewIterator(snap.ro(), db_->cf(ColumnFamily::kChunks)));
        }
        const std::string prefix = ChunkSeriesPrefix(tenant, id);
        for (it->Seek(ChunkKey(tenant, id, first_window));
             it->Valid() && StartsWith(it->key(), prefix); it->Next()) {
          std::string_view key_tenant;
          uint64_t key_id;
          int64_t window;
          if (!ParseChunkKey(it->key().ToStringView(), &key_tenant, &key_id, &window)) {
            return absl::DataLossError("corrupt chunk key");
          }
          if (window > end_ms) break;
          const std::string_view chunk = it->value().ToStringView();
          if (!IsFloatChunk(chunk)) {
            // Histogram or mixed chunk: decoded whole, then cut to the range.
            ResolvedSamples decoded;
            if (auto s = DecodeAnyChunk(chunk, &decoded); !s.ok()) {
              LogError("series " + labels.ToString() + ": " + std::string(s.message()));
            }
            for (const Sample& s : decoded.floats) {
              if (s.t_ms >= start_ms && s.t_ms <= end_ms) data.samples.push_back(s);
            }
            for (HistogramSample& h : decoded.histograms) {
              if (h.t_ms >= start_ms && h.t_ms <= end_ms) data.histograms.push_back(std::move(h));
            }
            continue;
          }
          // Only [start_ms, end_ms] is materialised, and decoding stops past end_ms.
          if (auto s = DecodeChunkRange(chunk, start_ms, end_ms, &data.samples); !s.ok()) {
            LogError("series " + labels.ToString() + ": " + std::string(s.message()));
          }
        }
        if (!it->status().ok()) return ToAbslStatus(it->status(), "reading chunks");
      }
      if (const SampleWrites& from_head = head_samples[i]; !from_head.empty()) {
        if (data.histograms.empty() && from_head.histograms().empty()) {
          MergeNewerSamples(&data.samples, from_head.floats());
        } else {
          // The chunks' samples (one per timestamp) are older than every head write.
          SampleWrites all;
          all.AddFloats(data.samples.data(), data.samples.data() + data.samples.size());
          all.AddHistograms(data.histograms.data(), data.histograms.data() + data.histograms.size());
          all.AppendInRange(from_head, start_ms, end_ms);
          ResolvedSamples resolved = all.Resolve();
          data.samples = std::move(resolved.floats);
          data.histograms = std::move(resolved.histograms);
        }
      }
      if (data.samples.empty() && data.histograms.empty()) continue;
      data.labels = std::move(labels);
      out->push_back(std::move(data));
    }
    return absl::OkStatus();
  };

  // Many series: the second half is read on one more thread (RocksDB reads and chunk
  // decoding are most of an instant query's time; bench/promql_bench). Two threads at
  // most per Select, so a query can't take over the machine.
  result.reserve(todo.size());
  if (todo.size() < kParallelSelectSeries) {
    if (auto s = read_range(0, todo.size(), &result); !s.ok()) return s;
  } else {
    const size_t half = todo.size() / 2;
    std::vector<SeriesData> second;
    second.reserve(todo.size() - half);
    absl::Status second_status;
    std::thread worker([&] { second_status = read_range(half, todo.size(), &second); });
    absl::Status first_status = read_range(0, half, &result);
    worker.join();
    if (!first_status.ok()) return first_status;
    if (!second_status.ok()) return second_status;
    result.insert(result.end(), std::make_move_iterator(second.begin()),
                  std::make_move_iterator(second.end()));
  }
  std::sort(result.begin(), result.end(),
            [](const SeriesData& a, const SeriesData& b) { return a.labels < b.labels; });
  return result;
}

absl::StatusOr<std::vector<Labels>> MetricStore::Series(std::string_view tenant,
                                                        const std::vector<MatcherSet>& sets,
                                                        int64_t start_ms, int64_t end_ms,
                                                        size_t limit) {
  start_ms = std::max(start_ms, CutoffMs());
  std::vector<Labels> result;
  if (start_ms > end_ms) {
    for (const MatcherSet& set : sets) {
      if (!HasNonEmptyMatcher(set)) {
        return absl::InvalidArgumentError("match[] must contain at least one non-empty matcher");
      }
    }
    return result;
  }
  SnapshotGuard snap(db_->db());
  std::map<uint64_t, Labels> series;
  if (auto s = MatchSets(snap.ro(), tenant, sets, start_ms, end_ms, &series); !s.ok()) return s;
  result.reserve(series.size());
  for (auto& [id, labels] : series) result.push_back(std::move(labels));
  std::sort(result.begin(), result.end());
  result.erase(std::unique(result.begin(), result.end()), result.end());
  if (limit > 0 && result.size() > limit) result.resize(limit);
  return result;
}

absl::Status MetricStore::VisitDayLabels(
    const rocksdb::ReadOptions& ro, std::string_view tenant, int64_t start_ms, int64_t end_ms,
    absl::FunctionRef<void(const DayLabelsCache::NameValues&)> visit,
    std::vector<int64_t>* unloaded_days) {
  if (const int64_t cutoff = CutoffMs(); cutoff != kNoCutoff) day_labels_.DropBefore(DayOf(cutoff));
  const PostingsReader reader(db_, kSeriesIndexFamilies);
  auto days = reader.Days(ro, tenant, DayOf(start_ms), DayOf(end_ms));
  if (!days.ok()) return days.status();
  for (int64_t day : *days) {
    if (day_labels_.Read(tenant, day, visit)) continue;
    const bool loaded = day_labels_.Load(tenant, day, [&](DayLabelsCache::NameValues* out) {
      // Its own snapshot, taken after the day was registered (DayLabelsCache).
      SnapshotGuard snap(db_->db());
      auto s = reader.DayPairs(snap.ro(), tenant, day, [&](std::string_view n, std::string_view v) {
        auto it = out->find(n);
        if (it == out->end()) it = out->emplace(std::string(n), std::set<std::string, std::less<>>()).first;
        it->second.emplace_hint(it->second.end(), v);
      });
      if (!s.ok()) LogError("loading label names of day " + std::to_string(day) + ": " + std::string(s.message()));
      return s.ok();
    });
    if (loaded && day_labels_.Read(tenant, day, visit)) continue;
    unloaded_days->push_back(day);  // being loaded by another query, or too big: RocksDB
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> MetricStore::LabelNames(
    std::string_view tenant, const std::vector<MatcherSet>& sets, int64_t start_ms,
    int64_t end_ms, size_t limit) {
  start_ms = std::max(start_ms, CutoffMs());
  std::set<std::string> names;
  if (start_ms <= end_ms) {
    SnapshotGuard snap(db_->db());
    if (!sets.empty()) {
      std::map<uint64_t, Labels> series;
      if (auto s = MatchSets(snap.ro(), tenant, sets, start_ms, end_ms, &series); !s.ok()) return s;
      for (const auto& [id, labels] : series) {
        for (const Label& l : labels) names.insert(l.name);
      }
    } else {
      std::vector<int64_t> unloaded;
      auto s = VisitDayLabels(snap.ro(), tenant, start_ms, end_ms,
                              [&](const DayLabelsCache::NameValues& day) {
                                for (const auto& [name, values] : day) names.insert(name);
                              },
                              &unloaded);
      if (!s.ok()) return s;
      for (int64_t day : unloaded) {
        s = PostingsReader(db_, kSeriesIndexFamilies).LabelNames(snap.ro(), tenant, day, day, &names);
        if (!s.ok()) return s;
      }
    }
  }
  std::vector<std::string> result(names.begin(), names.end());
  if (limit > 0 && result.size() > limit) result.resize(limit);
  return result;
}

absl::StatusOr<std::vector<std::string>> MetricStore::LabelValues(
    std::string_view tenant, std::string_view name, const std::vector<MatcherSet>& sets,
    int64_t start_ms, int64_t end_ms, size_t limit) {
  start_ms = std::max(start_ms, CutoffMs());
  std::vector<std::string> result;
  if (start_ms <= end_ms) {
    SnapshotGuard snap(db_->db());
    if (!sets.empty()) {
      std::set<std::string> values;
      std::map<uint64_t, Labels> series;
      if (auto s = MatchSets(snap.ro(), tenant, sets, start_ms, end_ms, &series); !s.ok()) return s;
      for (const auto& [id, labels] : series) {
        std::string_view v = labels.Get(name);
        if (!v.empty()) values.emplace(v);
      }
      result.assign(values.begin(), values.end());
    } else {
      // Each day's values are sorted: one day (the usual dashboard range) is a copy, more
      // are merged.
      std::vector<std::string> merged;
      std::vector<int64_t> unloaded;
      auto s = VisitDayLabels(snap.ro(), tenant, start_ms, end_ms,
                              [&](const DayLabelsCache::NameValues& day) {
                                auto it = day.find(name);
                                if (it == day.end()) return;
                                if (result.empty()) {
                                  result.assign(it->second.begin(), it->second.end());
                                  return;
                                }
                                merged.clear();
                                std::set_union(result.begin(), result.end(), it->second.begin(),
                                               it->second.end(), std::back_inserter(merged));
                                result.swap(merged);
                              },
                              &unloaded);
      if (!s.ok()) return s;
      if (!unloaded.empty()) {
        std::set<std::string> values(result.begin(), result.end());
        for (int64_t day : unloaded) {
          s = PostingsReader(db_, kSeriesIndexFamilies)
                  .LabelValues(snap.ro(), tenant, name, day, day, &values);
          if (!s.ok()) return s;
        }
        result.assign(values.begin(), values.end());
      }
    }
  }
  if (limit > 0 && result.size() > limit) result.resize(limit);
  return result;
}

absl::StatusOr<std::vector<MetricMetadata>> MetricStore::Metadata(std::string_view tenant,
                                                                  std::string_view metric,
                                                                  size_t limit) {
  std::vector<MetricMetadata> result;
  auto* meta_cf = db_->cf(ColumnFamily::kMeta);
  if (!metric.empty()) {
    std::string value;
    auto s = db_->db()->Get(rocksdb::ReadOptions(), meta_cf, MetadataKey(tenant, metric), &value);
    if (s.IsNotFound()) return result;
    if (!s.ok()) return ToAbslStatus(s, "reading metadata");
    MetricMetadata m;
    if (!DecodeMetadataValue(value, &m)) return absl::DataLossError("corrupt metadata record");
    m.family = metric;
    result.push_back(std::move(m));
    return result;
  }
  const std::string prefix = MetadataPrefix(tenant);
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(rocksdb::ReadOptions(), meta_cf));
  for (it->Seek(prefix); it->Valid() && StartsWith(it->key(), prefix); it->Next()) {
    if (limit > 0 && result.size() >= limit) break;
    MetricMetadata m;
    if (!DecodeMetadataValue(it->value().ToStringView(), &m)) {
      return absl::DataLossError("corrupt metadata record");
    }
    m.family = it->key().ToStringView().substr(prefix.size());
    result.push_back(std::move(m));
  }
  if (!it->status().ok()) return ToAbslStatus(it->status(), "scanning metadata");
  return result;
}

absl::StatusOr<std::vector<SeriesExemplars>> MetricStore::Exemplars(std::string_view tenant,
                                                                    const MatcherSet& matchers,
                                                                    int64_t start_ms,
                                                                    int64_t end_ms) {
  if (!HasNonEmptyMatcher(matchers)) {
    return absl::InvalidArgumentError("vector selector must contain at least one non-empty matcher");
  }
  start_ms = std::max(start_ms, CutoffMs());
  std::vector<SeriesExemplars> result;
  if (start_ms > end_ms) return result;
  SnapshotGuard snap(db_->db());
  std::map<uint64_t, Labels> series;
  if (auto s = MatchSeries(snap.ro(), tenant, matchers, start_ms, end_ms, &series); !s.ok()) return s;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->db()->NewIterator(snap.ro(), db_->cf(ColumnFamily::kExemplars)));
  for (auto& [id, labels] : series) {
    SeriesExemplars se;
    const std::string prefix = ChunkSeriesPrefix(tenant, id);
    for (it->Seek(ExemplarKey(tenant, id, start_ms)); it->Valid() && StartsWith(it->key(), prefix);
         it->Next()) {
      std::string_view key_tenant;
      uint64_t key_id;
      Exemplar e;
      if (!ParseExemplarKey(it->key().ToStringView(), &key_tenant, &key_id, &e.t_ms) ||
          !DecodeExemplarValue(it->value().ToStringView(), &e)) {
        return absl::DataLossError("corrupt exemplar record");
      }
      if (e.t_ms > end_ms) break;
      se.exemplars.push_back(std::move(e));
    }
    if (!it->status().ok()) return ToAbslStatus(it->status(), "reading exemplars");
    if (se.exemplars.empty()) continue;
    se.series_labels = std::move(labels);
    result.push_back(std::move(se));
  }
  std::sort(result.begin(), result.end(), [](const SeriesExemplars& a, const SeriesExemplars& b) {
    return a.series_labels < b.series_labels;
  });
  return result;
}

void MetricStore::EnforceRetention() {
  const int64_t cutoff = CutoffMs();
  if (cutoff == kNoCutoff) return;
  std::lock_guard lock(retention_mu_);
  const int64_t cutoff_day = DayOf(cutoff);
  if (cutoff_day == last_enforced_day_) return;
  // Chunk keys are ordered by series id before time, so expired windows are spread over
  // the whole family: compact it all and let the filter drop what expired.
  rocksdb::CompactRangeOptions co;
  co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  for (ColumnFamily f : {ColumnFamily::kPostings, ColumnFamily::kChunks, ColumnFamily::kExemplars}) {
    auto s = db_->db()->CompactRange(co, db_->cf(f), nullptr, nullptr);
    if (!s.ok()) {
      LogError("retention compaction failed: " + s.ToString());
      return;
    }
  }
  last_enforced_day_ = cutoff_day;
}

}  // namespace otelbox::storage
