#include "storage/logs/log_store.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <limits>

#include "common/log.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "storage/coding.h"
#include "storage/keys.h"
#include "storage/logs/log_keys.h"
#include "storage/logs/log_store_impl.h"

namespace otelbox::storage {
namespace {

constexpr int64_t kNsPerMs = 1'000'000;

// Go's time.RFC3339 as Loki formats timestamps in push errors: seconds, "Z" for UTC.
std::string FormatRfc3339(int64_t t_ns) {
  std::time_t secs = static_cast<std::time_t>(FloorDiv(t_ns, 1'000'000'000));
  std::tm tm{};
  if (gmtime_r(&secs, &tm) == nullptr) return std::to_string(t_ns);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool StartsWith(const rocksdb::Slice& s, std::string_view prefix) {
  return s.size() >= prefix.size() && std::string_view(s.data(), prefix.size()) == prefix;
}

std::string EncodeId(uint64_t id) {
  std::string v;
  PutFixed64BE(&v, id);
  return v;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// LogStore: forwards to Impl.

LogStore::LogStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LogStore::~LogStore() = default;

absl::StatusOr<std::unique_ptr<LogStore>> LogStore::Open(Database* db, LogStoreOptions options,
                                                         SelfMetrics* metrics) {
  auto impl = std::make_unique<Impl>(db, std::move(options), metrics);
  if (auto s = impl->Open(); !s.ok()) return s;
  return std::unique_ptr<LogStore>(new LogStore(std::move(impl)));
}

absl::StatusOr<LogAppendStats> LogStore::Append(std::string_view tenant, const LogBatch& batch) {
  return impl_->Append(tenant, batch);
}
absl::StatusOr<std::vector<LogStreamRef>> LogStore::SelectStreams(std::string_view tenant,
                                                                  const LogMatcherSet& matchers,
                                                                  int64_t start_ns, int64_t end_ns) {
  return impl_->SelectStreams(tenant, matchers, start_ns, end_ns);
}
absl::Status LogStore::ScanStream(std::string_view tenant, uint64_t stream_id, int64_t start_ns,
                                  int64_t end_ns, LogDirection direction,
                                  const LogScanOptions& options, LogEntryVisitor visit) {
  return impl_->ScanStream(tenant, stream_id, start_ns, end_ns, direction, options, visit);
}
absl::StatusOr<std::vector<std::string>> LogStore::LabelNames(std::string_view tenant,
                                                              const LogMatcherSet& matchers,
                                                              int64_t start_ns, int64_t end_ns) {
  return impl_->LabelNames(tenant, matchers, start_ns, end_ns);
}
absl::StatusOr<std::vector<std::string>> LogStore::LabelValues(std::string_view tenant,
                                                               std::string_view name,
                                                               const LogMatcherSet& matchers,
                                                               int64_t start_ns, int64_t end_ns) {
  return impl_->LabelValues(tenant, name, matchers, start_ns, end_ns);
}
absl::StatusOr<std::vector<Labels>> LogStore::Series(std::string_view tenant,
                                                     const std::vector<LogMatcherSet>& sets,
                                                     int64_t start_ns, int64_t end_ns) {
  return impl_->Series(tenant, sets, start_ns, end_ns);
}
absl::StatusOr<LogIndexStats> LogStore::IndexStats(std::string_view tenant,
                                                   const LogMatcherSet& matchers,
                                                   int64_t start_ns, int64_t end_ns) {
  return impl_->IndexStats(tenant, matchers, start_ns, end_ns);
}
absl::StatusOr<std::vector<LogVolume>> LogStore::Volume(std::string_view tenant,
                                                        const LogMatcherSet& matchers,
                                                        int64_t start_ns, int64_t end_ns,
                                                        const std::vector<std::string>& by_labels,
                                                        int64_t step_ns, size_t limit) {
  return impl_->Volume(tenant, matchers, start_ns, end_ns, by_labels, step_ns, limit);
}
std::shared_ptr<LogTailSubscription> LogStore::Subscribe(std::string_view tenant,
                                                         size_t max_queued,
                                                         std::function<void()> on_ready) {
  return impl_->tail().Subscribe(tenant, max_queued, std::move(on_ready));
}
absl::Status LogStore::FlushHead() { return impl_->FlushHead(); }
void LogStore::EnforceRetention() { impl_->EnforceRetention(); }

// ---------------------------------------------------------------------------------------
// Impl: open, append, flush.

LogStore::Impl::Impl(Database* db, LogStoreOptions options, SelfMetrics* metrics)
    : db_(db),
      options_(std::move(options)),
      index_(db, kLogStreamIndexFamilies, options_.sync_wal),
      postings_(db, kLogStreamIndexFamilies),
      last_enforced_day_(std::numeric_limits<int64_t>::min()) {
  if (metrics != nullptr) {
    entries_total_ = metrics->GetCounter("otelbox_ingested_log_entries_total",
                                         "Log entries written to storage.");
    bytes_total_ = metrics->GetCounter("otelbox_ingested_log_bytes_total",
                                       "Raw log line bytes written to storage.");
    rejected_total_ = metrics->GetCounter("otelbox_ingest_rejected_log_entries_total",
                                          "Log entries rejected by storage (out of retention).");
    streams_created_total_ = metrics->GetCounter("otelbox_log_streams_created_total",
                                                 "Log streams created in storage.");
  } else {
    entries_total_ = &local_counters_[0];
    bytes_total_ = &local_counters_[1];
    rejected_total_ = &local_counters_[2];
    streams_created_total_ = &local_counters_[3];
  }
}

LogStore::Impl::~Impl() {
  {
    std::lock_guard lock(flusher_mu_);
    stopping_ = true;
  }
  flusher_cv_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  tail_.CloseAll();
  // The head stays in `log_head` and is replayed on the next open: nothing to write here,
  // which keeps shutdown fast and a crash equivalent to a clean stop.
}

absl::Status LogStore::Impl::Open() {
  if (auto s = index_.Open(); !s.ok()) return s;
  if (auto s = Replay(); !s.ok()) return s;
  if (options_.background_flush) flusher_ = std::thread([this] { FlushLoop(); });
  return absl::OkStatus();
}

int64_t LogStore::Impl::CutoffNs() const {
  if (options_.retention_ms <= 0) return kMinTimeNs;
  int64_t now_ms = options_.now_ms
                       ? options_.now_ms()
                       : std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  return std::max(kMinTimeNs / kNsPerMs, now_ms - options_.retention_ms) * kNsPerMs;
}

absl::Status LogStore::Impl::Replay() {
  auto* cf = db_->cf(ColumnFamily::kLogHead);
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(rocksdb::ReadOptions(), cf));
  std::unordered_map<uint64_t, uint64_t> watermarks;
  uint64_t max_seq = 0;
  const std::string wm_prefix(1, static_cast<char>(LogHeadRowKind::kWatermark));
  for (it->Seek(wm_prefix); it->Valid() && StartsWith(it->key(), wm_prefix); it->Next()) {
    std::string_view k = it->key().ToStringView().substr(1), v = it->value().ToStringView();
    uint64_t id, seq;
    if (!GetFixed64BE(&k, &id) || !GetFixed64BE(&v, &seq)) {
      return absl::DataLossError("corrupt log head watermark");
    }
    watermarks[id] = seq;
    max_seq = std::max(max_seq, seq);
  }
  if (!it->status().ok()) return ToAbslStatus(it->status(), "reading log head watermarks");
  const std::string rec_prefix(1, static_cast<char>(LogHeadRowKind::kRecord));
  int64_t replayed = 0;
  for (it->Seek(rec_prefix); it->Valid() && StartsWith(it->key(), rec_prefix); it->Next()) {
    std::string_view k = it->key().ToStringView().substr(1);
    uint64_t seq;
    if (!GetFixed64BE(&k, &seq)) return absl::DataLossError("corrupt log head record key");
    max_seq = std::max(max_seq, seq);
    auto raw = UnwrapLogHeadRecord(it->value().ToStringView());
    if (!raw.ok()) return raw.status();
    auto record = std::make_shared<const std::string>(*std::move(raw));
    auto parsed = ParseLogHeadRecord(record, seq);
    if (!parsed.ok()) {
      // Written by us and acknowledged: losing it silently would be worse than refusing.
      return parsed.status();
    }
    for (auto& [id, seg] : parsed->segments) {
      auto wm = watermarks.find(id);
      if (wm != watermarks.end() && seq <= wm->second) continue;  // already in blocks
      auto h = head_.GetOrCreate(parsed->tenant, id);
      std::lock_guard lock(h->mu);
      h->raw_bytes += seg->raw_bytes;
      head_bytes_ += seg->raw_bytes;
      replayed += static_cast<int64_t>(seg->entries.size());
      h->segments.push_back(std::move(seg));
    }
  }
  if (!it->status().ok()) return ToAbslStatus(it->status(), "replaying log head");
  {
    std::lock_guard lock(append_mu_);
    next_seq_ = max_seq + 1;
  }
  if (replayed > 0) LogInfo("log store: replayed " + std::to_string(replayed) + " head entries");
  return absl::OkStatus();
}

absl::StatusOr<LogAppendStats> LogStore::Impl::Append(std::string_view tenant,
                                                      const LogBatch& batch) {
  LogAppendStats stats;
  const int64_t cutoff_ns = CutoffNs();

  struct Planned {
    const LogStream* in;
    std::vector<const LogEntry*> entries;
    std::vector<int64_t> days;
    std::string key;
    uint64_t id = 0;
  };
  std::vector<Planned> plan;
  plan.reserve(batch.streams.size());
  for (const LogStream& s : batch.streams) {
    if (s.entries.empty()) continue;
    if (s.labels.empty()) {
      LogStreamRejection r;
      r.reason = LogRejectReason::kNoLabels;
      r.entries_rejected = static_cast<int64_t>(s.entries.size());
      r.first_rejected_t_ns = s.entries.front().t_ns;
      r.message = "error at least one label pair is required per stream";
      stats.entries_rejected += r.entries_rejected;
      stats.rejections.push_back(std::move(r));
      continue;
    }
    Planned p;
    p.in = &s;
    p.entries.reserve(s.entries.size());
    LogStreamRejection too_old;
    for (const LogEntry& e : s.entries) {
      if (e.t_ns < cutoff_ns) {
        if (too_old.entries_rejected == 0) too_old.first_rejected_t_ns = e.t_ns;
        ++too_old.entries_rejected;
        continue;
      }
      p.entries.push_back(&e);
      int64_t d = LogDayOf(e.t_ns);
      if (p.days.empty() || p.days.back() != d) p.days.push_back(d);
    }
    if (too_old.entries_rejected > 0) {
      too_old.labels = s.labels;
      too_old.reason = LogRejectReason::kTooOld;
      too_old.oldest_acceptable_t_ns = cutoff_ns;
      too_old.message = "entry for stream '" + s.labels.ToString() +
                        "' has timestamp too old: " + FormatRfc3339(too_old.first_rejected_t_ns) +
                        ", oldest acceptable timestamp is: " + FormatRfc3339(cutoff_ns);
      stats.entries_rejected += too_old.entries_rejected;
      stats.rejections.push_back(std::move(too_old));
    }
    if (p.entries.empty()) continue;
    std::sort(p.days.begin(), p.days.end());
    p.days.erase(std::unique(p.days.begin(), p.days.end()), p.days.end());
    p.key = SeriesKey(tenant, s.labels);
    plan.push_back(std::move(p));
  }
  rejected_total_->Add(stats.entries_rejected);
  if (plan.empty()) return stats;
  if (head_bytes_.load() > 2 * options_.head_max_bytes) {
    {
      std::lock_guard lock(flusher_mu_);
      flush_wanted_ = true;
    }
    flusher_cv_.notify_one();
    return absl::ResourceExhaustedError("log store is behind on compressing ingested entries; retry later");
  }

  rocksdb::WriteBatch wb;
  auto* streams_cf = db_->cf(ColumnFamily::kLogStreams);
  auto* by_id_cf = db_->cf(ColumnFamily::kLogStreamsById);
  auto* postings_cf = db_->cf(ColumnFamily::kLogPostings);
  struct ToMark {
    const std::string* key;
    std::vector<int64_t> days;
  };
  std::vector<ToMark> to_mark;
  std::vector<LogHeadStreamInput> inputs;
  inputs.reserve(plan.size());
  for (Planned& p : plan) {
    auto r = index_.Resolve(p.key, p.days);
    if (!r.ok()) return r.status();
    p.id = r->id;
    if (r->needs_rows) {
      std::string labels_value;
      PutLabels(&labels_value, p.in->labels);
      wb.Put(streams_cf, p.key, EncodeId(p.id));
      wb.Put(by_id_cf, SeriesByIdKey(tenant, p.id), labels_value);
    }
    for (int64_t day : r->missing_days) {
      for (const Label& l : p.in->labels) {
        wb.Put(postings_cf, PostingKey(tenant, day, l.name, l.value, p.id), "");
      }
    }
    if (r->created) ++stats.streams_created;
    if (r->needs_rows || !r->missing_days.empty()) to_mark.push_back({&p.key, std::move(r->missing_days)});
    stats.entries_written += static_cast<int64_t>(p.entries.size());
    for (const LogEntry* e : p.entries) stats.bytes_written += static_cast<int64_t>(e->line.size());
    inputs.push_back(LogHeadStreamInput{p.id, p.entries});
  }
  auto record = std::make_shared<const std::string>(EncodeLogHeadRecord(tenant, inputs));
  // Parsed before the lock (seq filled in under it): the segments view the record bytes.
  auto parsed = ParseLogHeadRecord(record, 0);
  if (!parsed.ok()) return absl::InternalError("BUG: log head record does not parse back");
  const std::string stored = WrapLogHeadRecord(*record);

  bool want_flush = false;
  {
    std::lock_guard lock(append_mu_);
    const uint64_t seq = next_seq_++;
    wb.Put(db_->cf(ColumnFamily::kLogHead), LogHeadRecordKey(seq), stored);
    rocksdb::WriteOptions wo;
    wo.sync = options_.sync_wal;
    auto s = db_->db()->Write(wo, &wb);
    if (!s.ok()) return ToAbslStatus(s, "writing log batch");
    for (auto& [id, seg] : parsed->segments) {
      seg->seq = seq;
      auto h = head_.GetOrCreate(tenant, id);
      std::lock_guard hl(h->mu);
      h->raw_bytes += seg->raw_bytes;
      want_flush |= h->raw_bytes >= options_.block_target_bytes;
      head_bytes_ += seg->raw_bytes;
      h->segments.push_back(std::move(seg));
    }
  }
  const int64_t min_day = cutoff_ns == kMinTimeNs ? std::numeric_limits<int64_t>::min()
                                                  : LogDayOf(cutoff_ns);
  for (const ToMark& m : to_mark) index_.MarkWritten(*m.key, m.days, min_day);
  if (tail_.HasSubscribers()) {
    for (const Planned& p : plan) tail_.Publish(tenant, p.in->labels, p.entries);
  }
  if (want_flush || head_bytes_.load() > options_.head_max_bytes) {
    {
      std::lock_guard lock(flusher_mu_);
      flush_wanted_ = true;
    }
    flusher_cv_.notify_one();
  }
  entries_total_->Add(stats.entries_written);
  bytes_total_->Add(stats.bytes_written);
  streams_created_total_->Add(stats.streams_created);
  return stats;
}

absl::Status LogStore::Impl::FlushStream(LogStreamHead* h) {
  std::lock_guard flush_lock(h->flush_mu);
  std::vector<std::shared_ptr<const LogHeadSegment>> segs;
  {
    std::lock_guard lock(h->mu);
    if (h->segments.empty()) return absl::OkStatus();
    segs = h->segments;
  }
  // Push order, then a stable sort by time: equal timestamps keep push order.
  std::vector<LogEntryView> entries;
  size_t n = 0;
  for (const auto& seg : segs) n += seg->entries.size();
  entries.reserve(n);
  for (const auto& seg : segs) {
    for (const LogHeadEntry& e : seg->entries) {
      entries.push_back(LogEntryView{e.t_ns, e.line, seg->MetadataOf(e)});
    }
  }
  std::stable_sort(entries.begin(), entries.end(),
                   [](const LogEntryView& a, const LogEntryView& b) { return a.t_ns < b.t_ns; });

  const uint64_t watermark = segs.back()->seq;
  rocksdb::WriteBatch wb;
  auto* blocks_cf = db_->cf(ColumnFamily::kLogBlocks);
  uint64_t part = 0;
  int64_t flushed_bytes = 0;
  for (const auto& seg : segs) flushed_bytes += seg->raw_bytes;
  size_t begin = 0;
  while (begin < entries.size()) {
    // A block ends at a window boundary or at the target size.
    const int64_t window_end = LogBlockWindowStart(entries[begin].t_ns) + kLogBlockWindowNs;
    size_t end = begin;
    int64_t bytes = 0;
    while (end < entries.size() && entries[end].t_ns < window_end &&
           (bytes < options_.block_target_bytes || end == begin)) {
      bytes += static_cast<int64_t>(entries[end].line.size());
      for (const LabelView& l : entries[end].metadata) bytes += static_cast<int64_t>(l.name.size() + l.value.size());
      ++end;
    }
    LogBlockSummary summary;
    std::string value = EncodeLogBlock(
        std::span<const LogEntryView>(entries.data() + begin, end - begin),
        options_.compression_level, &summary);
    // Sequence in the high bits, block number of this flush in the low 16: later flushes
    // sort after earlier ones, which is push order for equal timestamps.
    const uint64_t block_seq = (watermark << 16) | std::min<uint64_t>(part++, 0xffff);
    wb.Put(blocks_cf,
           LogBlockKey(h->tenant, LogBlockRowKind::kIndex, h->id, summary.min_t_ns, block_seq),
           EncodeLogBlockIndex(summary));
    wb.Put(blocks_cf,
           LogBlockKey(h->tenant, LogBlockRowKind::kData, h->id, summary.min_t_ns, block_seq),
           value);
    begin = end;
  }
  wb.Put(db_->cf(ColumnFamily::kLogHead), LogHeadWatermarkKey(h->id), EncodeId(watermark));

  // The write and the removal from the head happen under the stream lock, which readers
  // also hold while they copy the head and take their snapshot: a reader sees each entry
  // exactly once, in the head or in a block.
  std::lock_guard lock(h->mu);
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync_wal;
  auto s = db_->db()->Write(wo, &wb);
  if (!s.ok()) return ToAbslStatus(s, "writing log blocks");
  h->segments.erase(h->segments.begin(), h->segments.begin() + static_cast<long>(segs.size()));
  h->raw_bytes -= flushed_bytes;
  head_bytes_ -= flushed_bytes;
  return absl::OkStatus();
}

absl::Status LogStore::Impl::TrimHeadLog() {
  uint64_t min_unflushed;
  {
    // Under the append lock no Append is between its WAL write and its head update.
    std::lock_guard lock(append_mu_);
    min_unflushed = next_seq_;
    for (const auto& h : head_.All()) {
      std::lock_guard hl(h->mu);
      if (!h->segments.empty()) min_unflushed = std::min(min_unflushed, h->segments.front()->seq);
    }
  }
  std::lock_guard lock(trim_mu_);
  if (min_unflushed <= trimmed_below_) return absl::OkStatus();
  rocksdb::WriteBatch wb;
  wb.DeleteRange(db_->cf(ColumnFamily::kLogHead), LogHeadRecordKey(0), LogHeadRecordKey(min_unflushed));
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync_wal;
  auto s = db_->db()->Write(wo, &wb);
  if (!s.ok()) return ToAbslStatus(s, "trimming log head");
  trimmed_below_ = min_unflushed;
  return absl::OkStatus();
}

absl::Status LogStore::Impl::FlushHead() {
  for (const auto& h : head_.All()) {
    if (auto s = FlushStream(h.get()); !s.ok()) return s;
  }
  return TrimHeadLog();
}

void LogStore::Impl::FlushLoop() {
  auto last_trim = std::chrono::steady_clock::now();
  while (true) {
    {
      std::unique_lock lock(flusher_mu_);
      flusher_cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_ || flush_wanted_; });
      if (stopping_) return;
      flush_wanted_ = false;
    }
    const auto now = std::chrono::steady_clock::now();
    struct Candidate {
      std::shared_ptr<LogStreamHead> head;
      int64_t bytes;
      bool due;
    };
    std::vector<Candidate> candidates;
    for (auto& h : head_.All()) {
      std::lock_guard hl(h->mu);
      if (h->segments.empty()) continue;
      bool due = h->raw_bytes >= options_.block_target_bytes ||
                 now - h->segments.front()->arrived >= options_.head_max_age;
      candidates.push_back({h, h->raw_bytes, due});
    }
    // Over the memory budget: the largest heads go first, due or not.
    std::sort(candidates.begin(), candidates.end(),
              [](const Candidate& a, const Candidate& b) { return a.bytes > b.bytes; });
    int64_t total = head_bytes_.load();
    bool flushed = false;
    for (auto& c : candidates) {
      if (!c.due && total <= options_.head_max_bytes) continue;
      if (auto s = FlushStream(c.head.get()); !s.ok()) {
        LogError("log head flush: " + std::string(s.message()));
        continue;
      }
      total -= c.bytes;
      flushed = true;
    }
    // Trimming writes a range tombstone: at most ten a second. Trimming soon keeps the
    // head records from outliving their memtable (a flush would write them to disk).
    if (flushed && now - last_trim >= std::chrono::milliseconds(100)) {
      if (auto s = TrimHeadLog(); !s.ok()) LogError("log head trim: " + std::string(s.message()));
      last_trim = now;
    }
  }
}

void LogStore::Impl::EnforceRetention() {
  const int64_t cutoff_ns = CutoffNs();
  if (cutoff_ns == kMinTimeNs) return;
  const int64_t day = LogDayOf(cutoff_ns);
  {
    std::lock_guard lock(retention_mu_);
    if (day == last_enforced_day_) return;
    last_enforced_day_ = day;
  }
  rocksdb::CompactRangeOptions co;
  co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  for (ColumnFamily f : {ColumnFamily::kLogPostings, ColumnFamily::kLogBlocks}) {
    auto s = db_->db()->CompactRange(co, db_->cf(f), nullptr, nullptr);
    if (!s.ok()) LogError("log retention compaction: " + s.ToString());
  }
}

}  // namespace otelbox::storage
