#include "storage/traces/trace_store.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <future>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "rocksdb/db.h"
#include "rocksdb/iterator.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"
#include "storage/coding.h"
#include "storage/traces/search_block.h"
#include "storage/traces/span_codec.h"
#include "storage/traces/span_filter.h"
#include "storage/traces/trace_keys.h"
#include "storage/traces/trace_retention.h"

namespace otelbox::storage {
namespace {

struct TraceIdHash {
  size_t operator()(const TraceId& id) const {
    uint64_t a, b;
    std::memcpy(&a, id.data(), 8);
    std::memcpy(&b, id.data() + 8, 8);
    return static_cast<size_t>(a * 0x9E3779B97F4A7C15ULL ^ b);
  }
};
using TraceIdSet = std::unordered_set<TraceId, TraceIdHash>;

// Releases a RocksDB snapshot on scope exit.
class SnapshotGuard {
 public:
  SnapshotGuard(rocksdb::DB* db, const rocksdb::Snapshot* snap) : db_(db), snap_(snap) {}
  ~SnapshotGuard() {
    if (snap_) db_->ReleaseSnapshot(snap_);
  }
  SnapshotGuard(const SnapshotGuard&) = delete;
  SnapshotGuard& operator=(const SnapshotGuard&) = delete;

 private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snap_;
};

bool IsRoot(const SpanId& parent) {
  for (uint8_t b : parent) {
    if (b != 0) return false;
  }
  return true;
}

std::string FormatDouble(double d) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), d);
  return std::string(buf, res.ptr);
}

const char* StatusKeyword(StatusCode c) {
  switch (c) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kError: return "error";
    default: return "unset";
  }
}

const char* KindKeyword(SpanKind k) {
  switch (k) {
    case SpanKind::kInternal: return "internal";
    case SpanKind::kServer: return "server";
    case SpanKind::kClient: return "client";
    case SpanKind::kProducer: return "producer";
    case SpanKind::kConsumer: return "consumer";
    default: return "unspecified";
  }
}

// Persisted in trace_tags keys: TagValueType + 1 (0 marks a name without a value).
uint8_t TypeByte(TagValueType t) { return static_cast<uint8_t>(t) + 1; }

// A typed, indexable rendering of an attribute value; false for arrays, kvlists, bytes.
bool TagValueOf(const AttributeValue& v, TagValue* out) {
  if (const auto* s = std::get_if<std::string>(&v.value)) {
    *out = {TagValueType::kString, *s};
  } else if (const auto* i = std::get_if<int64_t>(&v.value)) {
    *out = {TagValueType::kInt, std::to_string(*i)};
  } else if (const auto* d = std::get_if<double>(&v.value)) {
    *out = {TagValueType::kDouble, FormatDouble(*d)};
  } else if (const auto* b = std::get_if<bool>(&v.value)) {
    *out = {TagValueType::kBool, *b ? "true" : "false"};
  } else {
    return false;
  }
  return true;
}

// The key of intrinsic tags in trace_tags (TraceQL's names).
const char* IntrinsicTagName(Intrinsic i) {
  switch (i) {
    case Intrinsic::kName: return "name";
    case Intrinsic::kStatus: return "status";
    case Intrinsic::kKind: return "kind";
    case Intrinsic::kStatusMessage: return "statusMessage";
    case Intrinsic::kRootName: return "rootName";
    case Intrinsic::kRootServiceName: return "rootServiceName";
    case Intrinsic::kEventName: return "event:name";
    case Intrinsic::kScopeName: return "instrumentation:name";
    case Intrinsic::kScopeVersion: return "instrumentation:version";
    default: return nullptr;
  }
}

std::string_view ServiceName(const Span& s) {
  if (!s.resource) return {};
  for (const auto& kv : s.resource->attributes) {
    if (kv.key == "service.name") {
      if (const auto* v = std::get_if<std::string>(&kv.value.value)) return *v;
    }
  }
  return {};
}

// Calls fn(scope, name, value-or-null) for every tag a span carries.
template <typename Fn>
void ForEachTag(const Span& s, bool with_resource, Fn&& fn) {
  auto list = [&](TagScopeByte scope, const AttributeList& l) {
    for (const auto& kv : l) fn(scope, std::string_view(kv.key), &kv.value);
  };
  if (with_resource && s.resource) list(TagScopeByte::kResource, s.resource->attributes);
  if (with_resource && s.scope) list(TagScopeByte::kInstrumentation, s.scope->attributes);
  list(TagScopeByte::kSpan, s.attributes);
  for (const auto& e : s.events) list(TagScopeByte::kEvent, e.attributes);
  for (const auto& l : s.links) list(TagScopeByte::kLink, l.attributes);
}

// Intrinsic tag values of a span: fn(name, type, value). Values are views into the span
// (or static keywords): no copies on the ingest path.
template <typename Fn>
void ForEachIntrinsic(const Span& s, Fn&& fn) {
  fn("name", TagValueType::kString, std::string_view(s.name));
  fn("status", TagValueType::kStatus, std::string_view(StatusKeyword(s.status_code)));
  fn("kind", TagValueType::kKind, std::string_view(KindKeyword(s.kind)));
  if (!s.status_message.empty()) {
    fn("statusMessage", TagValueType::kString, std::string_view(s.status_message));
  }
  if (IsRoot(s.parent_span_id)) {
    fn("rootName", TagValueType::kString, std::string_view(s.name));
    std::string_view svc = ServiceName(s);
    if (!svc.empty()) fn("rootServiceName", TagValueType::kString, svc);
  }
  for (const auto& e : s.events) fn("event:name", TagValueType::kString, std::string_view(e.name));
  if (s.scope) {
    if (!s.scope->name.empty()) {
      fn("instrumentation:name", TagValueType::kString, std::string_view(s.scope->name));
    }
    if (!s.scope->version.empty()) {
      fn("instrumentation:version", TagValueType::kString, std::string_view(s.scope->version));
    }
  }
}

// A 64-bit fingerprint of a tag row, computed from its parts without building the key:
// the ingest path checks every tag of every span against what was written, and only new
// ones pay for a key. Collisions (a new row taken for a written one, ~1e-13 per row at a
// million remembered rows) would only leave one value out of the tag-value lists.
class TagFingerprint {
 public:
  explicit TagFingerprint(uint64_t seed) : h_(seed) {}
  TagFingerprint& Add(uint64_t v) {
    h_ = (h_ ^ (v * 0x9E3779B97F4A7C15ULL)) * 0xC2B2AE3D27D4EB4FULL;
    h_ ^= h_ >> 29;
    return *this;
  }
  TagFingerprint& Add(std::string_view s) {
    Add(s.size());
    size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      Add(w);
    }
    uint64_t w = 0;
    std::memcpy(&w, s.data() + i, s.size() - i);
    return Add(w);
  }
  uint64_t Finish() const {
    uint64_t h = h_;
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDULL;
    h ^= h >> 33;
    return h;
  }

 private:
  uint64_t h_;
};

TagScopeByte ScopeByteOf(TraceScope s) {
  switch (s) {
    case TraceScope::kResource: return TagScopeByte::kResource;
    case TraceScope::kEvent: return TagScopeByte::kEvent;
    case TraceScope::kLink: return TagScopeByte::kLink;
    case TraceScope::kInstrumentation: return TagScopeByte::kInstrumentation;
    case TraceScope::kIntrinsic: return TagScopeByte::kIntrinsic;
    default: return TagScopeByte::kSpan;
  }
}

// What one search block contributes to a fetch; computed on any thread.
struct BlockMatches {
  absl::Status status;
  bool inspected = false;  // in the time range and past the dictionary check
  int64_t bytes = 0;
  int64_t spans = 0;
  std::vector<TraceId> traces;  // whole traces: the distinct traces matched, in row order
  std::vector<std::pair<TraceId, Span>> candidates;  // otherwise: the matching spans
};

void ScanBlock(std::string_view value, const SpanFilter& filter, uint64_t start, uint64_t end,
               const TraceFetchRequest& request, SearchBlockReader* reader, BlockMatches* out) {
  if (!reader->Parse(value)) {
    out->status = absl::DataLossError("corrupt search block");
    return;
  }
  if (reader->max_start_ns() < start || reader->min_start_ns() > end) return;
  for (const auto& req : filter.required_strings()) {
    if (!reader->ContainsString(req)) return;
  }
  out->inspected = true;
  out->bytes = static_cast<int64_t>(value.size());
  out->spans = static_cast<int64_t>(reader->num_spans());
  TraceIdSet seen;
  SpanView v;
  // Conditions on span attributes count as "may match" until the attributes are decoded:
  // rows the cheaper conditions exclude never pay for that.
  while (reader->Next(&v, false)) {
    if (v.start_ns < start || v.start_ns > end) continue;
    if (!filter.Matches(v)) continue;
    if (filter.needs_span_attrs()) {
      if (!reader->DecodeCurrentAttrs(&v)) {
        out->status = absl::DataLossError("corrupt search block row");
        return;
      }
      if (!filter.Matches(v)) continue;
    }
    TraceId id;
    std::memcpy(id.data(), v.trace_id, 16);
    if (request.whole_traces) {
      if (seen.insert(id).second) out->traces.push_back(id);
    } else {
      auto& c = out->candidates.emplace_back(id, Span());
      if (!reader->MaterializeCurrent(&c.second, request.with_span_attributes,
                                      request.with_events_and_links)) {
        out->status = absl::DataLossError("corrupt search block row");
        return;
      }
    }
  }
  if (!reader->ok()) out->status = absl::DataLossError("corrupt search block rows");
}

std::vector<std::string>* NamesOf(ScopedTagNames* names, TagScopeByte s) {
  switch (s) {
    case TagScopeByte::kResource: return &names->resource;
    case TagScopeByte::kSpan: return &names->span;
    case TagScopeByte::kEvent: return &names->event;
    case TagScopeByte::kLink: return &names->link;
    case TagScopeByte::kInstrumentation: return &names->instrumentation;
    default: return nullptr;
  }
}

bool WantsScope(TraceScope requested, TagScopeByte s) {
  if (requested == TraceScope::kUnscoped) return s != TagScopeByte::kIntrinsic;
  return ScopeByteOf(requested) == s;
}

void SortUnique(std::vector<std::string>* v, size_t limit) {
  std::sort(v->begin(), v->end());
  v->erase(std::unique(v->begin(), v->end()), v->end());
  if (limit > 0 && v->size() > limit) v->resize(limit);
}

}  // namespace

TraceStore::TraceStore(Database* db, TraceStoreOptions options, SelfMetrics* metrics)
    : db_(db), options_(std::move(options)) {
  if (metrics != nullptr) {
    spans_total_ = metrics->GetCounter("otelbox_trace_spans_appended_total",
                                       "Spans written to the trace store.");
    rejected_total_ = metrics->GetCounter("otelbox_trace_spans_rejected_total",
                                          "Spans refused by the trace store (outside retention).");
    blocks_total_ = metrics->GetCounter("otelbox_trace_search_blocks_written_total",
                                        "Search blocks cut from the span head.");
    metrics->AddGaugeFunc("otelbox_trace_head_spans", "Spans in the trace head (not yet in search blocks).",
                          [g = head_gauge_] { return static_cast<double>(g->load()); });
  } else {
    spans_total_ = &local_counters_[0];
    rejected_total_ = &local_counters_[1];
    blocks_total_ = &local_counters_[2];
  }
  last_cut_ = std::chrono::steady_clock::now();
}

absl::StatusOr<std::unique_ptr<TraceStore>> TraceStore::Open(Database* db,
                                                             TraceStoreOptions options,
                                                             SelfMetrics* metrics) {
  std::unique_ptr<TraceStore> store(new TraceStore(db, std::move(options), metrics));
  if (auto s = store->ReplayHeadLog(); !s.ok()) return s;
  // The replayed head goes into blocks at once: searches scan blocks much faster.
  if (auto s = store->CutBlocks(); !s.ok()) return s;
  store->cutter_ = std::thread([s = store.get()] { s->CutLoop(); });
  return store;
}

TraceStore::~TraceStore() {
  {
    std::lock_guard lock(cutter_mu_);
    stopping_ = true;
  }
  cutter_cv_.notify_all();
  if (cutter_.joinable()) cutter_.join();
  // The head stays in the head log; the next Open replays it.
}

uint64_t TraceStore::NowNs() const {
  int64_t ms = options_.now_ms ? options_.now_ms()
                               : std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count();
  return ms <= 0 ? 0 : static_cast<uint64_t>(ms) * 1'000'000;
}

uint64_t TraceStore::CutoffNs() const {
  if (options_.retention_ms <= 0) return 0;
  const uint64_t now = NowNs();
  const uint64_t ret = static_cast<uint64_t>(options_.retention_ms) * 1'000'000;
  return now > ret ? now - ret : 0;
}

uint64_t TraceStore::NextSeq() {
  // Wall-clock ns keeps sequences increasing across restarts; +1 keeps them unique.
  const uint64_t now = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                 std::chrono::system_clock::now().time_since_epoch())
                                                 .count());
  std::lock_guard lock(seq_mu_);
  last_seq_ = std::max(now, last_seq_ + 1);
  return last_seq_;
}

size_t TraceStore::head_spans() const {
  std::lock_guard lock(mu_);
  return head_spans_;
}

absl::Status TraceStore::ReplayHeadLog() {
  rocksdb::ReadOptions ro;
  std::string lower(1, kSpanHeadLogTag), upper(1, kSpanHeadLogTag + 1);
  rocksdb::Slice upper_slice(upper);
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(ro, db_->cf(ColumnFamily::kSpanSearch)));
  size_t replayed = 0;
  std::lock_guard lock(mu_);
  for (it->Seek(lower); it->Valid(); it->Next()) {
    uint64_t seq;
    if (!ParseSpanHeadLogKey(it->key().ToStringView(), &seq)) continue;
    {
      std::lock_guard sl(seq_mu_);
      last_seq_ = std::max(last_seq_, seq);
    }
    std::string_view in = it->value().ToStringView();
    std::string_view tenant;
    uint64_t n;
    if (!GetLengthPrefixed(&in, &tenant) || !GetVarint64(&in, &n) || in.size() != n * 16) {
      return absl::DataLossError("corrupt span head-log record");
    }
    for (uint64_t i = 0; i < n; ++i) {
      auto g = std::make_shared<HeadGroup>();
      g->seq = seq;
      std::memcpy(g->trace_id.data(), in.data() + i * 16, 16);
      std::string encoded;
      auto s = db_->db()->Get(rocksdb::ReadOptions(), db_->cf(ColumnFamily::kTraces),
                              TraceKey(tenant, g->trace_id, seq), &encoded);
      if (s.IsNotFound()) continue;  // expired and compacted away
      if (!s.ok()) return ToAbslStatus(s, "replaying the span head log");
      if (!DecodeSpanGroup(encoded, &g->spans) || g->spans.empty()) {
        return absl::DataLossError("corrupt span group in the head log");
      }
      g->encoded_bytes = encoded.size();
      for (const auto& sp : g->spans) {
        g->min_start_ns = std::min(g->min_start_ns, sp.start_time_unix_nano);
        g->max_start_ns = std::max(g->max_start_ns, sp.start_time_unix_nano);
      }
      const size_t n = g->spans.size();
      TenantHead& th = head_[std::string(tenant)];
      th.groups.push_back(std::move(g));
      th.spans += n;
      head_spans_ += n;
      replayed += n;
    }
  }
  if (!it->status().ok()) return ToAbslStatus(it->status(), "reading the span head log");
  head_gauge_->store(static_cast<int64_t>(head_spans_));
  if (replayed > 0) LogInfo(absl::StrCat("trace store: replayed ", replayed, " head spans"));
  return absl::OkStatus();
}

void TraceStore::CollectTags(std::string_view tenant, const std::vector<const Span*>& spans,
                             std::vector<std::string>* keys, std::vector<uint64_t>* fingerprints) {
  // One candidate per tag of every span, fingerprinted; keys are built only for the
  // fingerprints not seen before (a handful per request once the day's values are known).
  struct Candidate {
    uint64_t fp;
    uint64_t name_fp;  // of (tenant, day, scope, name): the per-name value cap
    uint32_t day;
    TagScopeByte scope;
    std::string_view name;
    const AttributeValue* attr;  // null: an intrinsic, (type, value) below
    TagValueType type;
    std::string_view value;
  };
  std::vector<Candidate> candidates;
  candidates.reserve(spans.size() * 12);
  const uint64_t tenant_fp = TagFingerprint(0x7a67).Add(tenant).Finish();
  const size_t max_bytes = options_.max_tag_value_bytes;
  std::set<std::pair<const void*, uint32_t>> seen_resources;
  for (const Span* s : spans) {
    const uint32_t day = static_cast<uint32_t>(s->start_time_unix_nano / kNsPerDay);
    const bool new_resource =
        seen_resources.emplace(s->resource.get(), day).second |
        seen_resources.emplace(s->scope.get(), day).second;
    ForEachTag(*s, new_resource,
               [&](TagScopeByte scope, std::string_view name, const AttributeValue* value) {
                 if (name.empty()) return;
                 TagFingerprint fp(tenant_fp);
                 fp.Add(day).Add(static_cast<uint64_t>(scope)).Add(name);
                 const uint64_t name_fp = fp.Finish();
                 // The type byte the row will carry (0: name only), then the value's bits.
                 const auto& v = value->value;
                 if (const auto* str = std::get_if<std::string>(&v); str && str->size() <= max_bytes) {
                   fp.Add(TypeByte(TagValueType::kString)).Add(*str);
                 } else if (const auto* i = std::get_if<int64_t>(&v)) {
                   fp.Add(TypeByte(TagValueType::kInt)).Add(static_cast<uint64_t>(*i));
                 } else if (const auto* d = std::get_if<double>(&v)) {
                   uint64_t bits;
                   std::memcpy(&bits, d, 8);
                   fp.Add(TypeByte(TagValueType::kDouble)).Add(bits);
                 } else if (const auto* b = std::get_if<bool>(&v)) {
                   fp.Add(TypeByte(TagValueType::kBool)).Add(*b ? 1 : 0);
                 } else {
                   fp.Add(0);
                 }
                 candidates.push_back({fp.Finish(), name_fp, day, scope, name, value, {}, {}});
               });
    ForEachIntrinsic(*s, [&](std::string_view name, TagValueType type, std::string_view value) {
      TagFingerprint fp(tenant_fp);
      fp.Add(day).Add(static_cast<uint64_t>(TagScopeByte::kIntrinsic)).Add(name);
      const uint64_t name_fp = fp.Finish();
      if (value.size() <= max_bytes) {
        fp.Add(TypeByte(type)).Add(value);
      } else {
        fp.Add(0);
      }
      candidates.push_back({fp.Finish(), name_fp, day, TagScopeByte::kIntrinsic, name, nullptr, type, value});
    });
  }
  std::lock_guard lock(tags_mu_);
  // A bounded memory of what was written; forgetting only costs idempotent rewrites.
  if (tags_written_.size() > 1'000'000) tags_written_.clear();
  if (tag_value_counts_.size() > 100'000) {
    tag_value_counts_.clear();
    capped_names_.clear();
  }
  for (const Candidate& c : candidates) {
    // Values of a name past its cap are not even remembered: a high-cardinality attribute
    // (user ids, ports) would otherwise fill tags_written_ with values never written.
    if (capped_names_.contains(c.name_fp)) continue;
    if (!tags_written_.insert(c.fp).second) continue;
    TagValue tv;
    bool typed;
    if (c.attr != nullptr) {
      typed = TagValueOf(*c.attr, &tv);
    } else {
      tv = TagValue{c.type, std::string(c.value)};
      typed = true;
    }
    if (!typed || tv.value.size() > max_bytes) {
      keys->push_back(TagKey(tenant, c.day, c.scope, c.name, 0, ""));
    } else {
      size_t& count = tag_value_counts_[TagNamePrefix(tenant, c.day, c.scope, c.name)];
      if (count >= options_.max_tag_values_per_name) {
        tags_written_.erase(c.fp);
        capped_names_.insert(c.name_fp);
        continue;
      }
      ++count;
      keys->push_back(TagKey(tenant, c.day, c.scope, c.name, TypeByte(tv.type), tv.value));
    }
    fingerprints->push_back(c.fp);
  }
}

absl::StatusOr<SpanAppendStats> TraceStore::Append(std::string_view tenant, SpanBatch batch) {
  SpanAppendStats stats;
  const uint64_t cutoff = CutoffNs();
  const uint64_t seq = NextSeq();
  // Spans grouped by trace, in first-seen order, moved into the head groups.
  absl::flat_hash_map<TraceId, size_t, TraceIdHash> index;
  std::vector<std::shared_ptr<HeadGroup>> groups;
  size_t accepted = 0;
  for (Span& s : batch.spans) {
    if (s.start_time_unix_nano < cutoff) {
      if (stats.spans_rejected++ == 0) {
        stats.first_rejection = absl::StrCat(
            "span start time ", s.start_time_unix_nano,
            " ns is older than the trace retention (cutoff ", cutoff, " ns)");
      }
      continue;
    }
    auto [it, inserted] = index.emplace(s.trace_id, groups.size());
    if (inserted) {
      auto g = std::make_shared<HeadGroup>();
      g->seq = seq;
      g->trace_id = s.trace_id;
      groups.push_back(std::move(g));
    }
    HeadGroup& g = *groups[it->second];
    g.min_start_ns = std::min(g.min_start_ns, s.start_time_unix_nano);
    g.max_start_ns = std::max(g.max_start_ns, s.start_time_unix_nano);
    g.spans.push_back(std::move(s));
    ++accepted;
  }
  rejected_total_->Add(stats.spans_rejected);
  if (groups.empty()) return stats;

  rocksdb::WriteBatch wb;
  std::string head_log;
  PutLengthPrefixed(&head_log, tenant);
  PutVarint64(&head_log, groups.size());
  std::vector<const Span*> all;  // every accepted span, for the tag index
  all.reserve(accepted);
  std::vector<const Span*> group_spans;
  for (auto& g : groups) {
    group_spans.clear();
    for (const Span& s : g->spans) group_spans.push_back(&s);
    all.insert(all.end(), group_spans.begin(), group_spans.end());
    const std::string encoded = EncodeSpanGroup(group_spans);
    g->encoded_bytes = encoded.size();
    auto st = wb.Put(db_->cf(ColumnFamily::kTraces), TraceKey(tenant, g->trace_id, seq), encoded);
    if (!st.ok()) return ToAbslStatus(st, "building the span batch");
    head_log.append(reinterpret_cast<const char*>(g->trace_id.data()), 16);
  }
  std::vector<std::string> tag_keys;
  std::vector<uint64_t> tag_fps;
  CollectTags(tenant, all, &tag_keys, &tag_fps);
  for (const auto& k : tag_keys) {
    auto st = wb.Put(db_->cf(ColumnFamily::kTraceTags), k, rocksdb::Slice());
    if (!st.ok()) return ToAbslStatus(st, "building the span batch");
  }
  if (auto st = wb.Put(db_->cf(ColumnFamily::kSpanSearch), SpanHeadLogKey(seq), head_log); !st.ok()) {
    return ToAbslStatus(st, "building the span batch");
  }
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync_wal;
  if (auto st = db_->db()->Write(wo, &wb); !st.ok()) {
    // Forget the tag rows: they were not written.
    std::lock_guard lock(tags_mu_);
    for (uint64_t fp : tag_fps) tags_written_.erase(fp);
    return ToAbslStatus(st, "writing spans");
  }
  bool cut = false;
  {
    std::lock_guard lock(mu_);
    auto it = head_.find(tenant);
    if (it == head_.end()) it = head_.emplace(std::string(tenant), TenantHead()).first;
    for (auto& g : groups) it->second.groups.push_back(std::move(g));
    it->second.spans += accepted;
    head_spans_ += accepted;
    head_gauge_->store(static_cast<int64_t>(head_spans_));
    cut = head_spans_ >= options_.block_spans;
  }
  if (cut) {
    std::lock_guard lock(cutter_mu_);
    cut_requested_ = true;
    cutter_cv_.notify_one();
  }
  stats.spans_written = static_cast<int64_t>(accepted);
  spans_total_->Add(stats.spans_written);
  return stats;
}

void TraceStore::CutLoop() {
  std::unique_lock lock(cutter_mu_);
  while (!stopping_) {
    cutter_cv_.wait_for(lock, options_.block_interval, [this] { return stopping_ || cut_requested_; });
    if (stopping_) break;
    cut_requested_ = false;
    lock.unlock();
    if (auto s = CutBlocks(); !s.ok()) LogError(absl::StrCat("trace store: cutting blocks: ", s.message()));
    lock.lock();
  }
}

absl::Status TraceStore::CutBlocks() {
  std::lock_guard cut_lock(cut_mu_);
  {
    std::lock_guard lock(mu_);
    if (head_.empty()) return absl::OkStatus();
    sealed_ = std::move(head_);
    head_.clear();
    head_spans_ = 0;
    head_gauge_->store(0);
    last_cut_ = std::chrono::steady_clock::now();
  }
  rocksdb::WriteBatch wb;
  absl::Status error;
  for (const auto& [tenant, th] : sealed_) {
    std::set<uint64_t> seqs;
    // One block per hour of span start (a block's time range stays narrow), cut further
    // at block_spans.
    std::map<uint64_t, std::vector<const Span*>> by_hour;
    for (const auto& g : th.groups) {
      seqs.insert(g->seq);
      for (const Span& s : g->spans) by_hour[s.start_time_unix_nano / kNsPerHour].push_back(&s);
    }
    for (auto& [hour, list] : by_hour) {
      std::stable_sort(list.begin(), list.end(), [](const Span* a, const Span* b) {
        return a->start_time_unix_nano < b->start_time_unix_nano;
      });
      const size_t per_block = std::max<size_t>(options_.block_spans, 1);
      for (size_t i = 0; i < list.size(); i += per_block) {
        std::vector<const Span*> part(list.begin() + i,
                                      list.begin() + std::min(list.size(), i + per_block));
        std::string block = EncodeSearchBlock(part);
        blocks_total_->Add();
        wb.Put(db_->cf(ColumnFamily::kSpanSearch),
               SearchBlockKey(tenant, part.front()->start_time_unix_nano, NextSeq()), block);
      }
    }
    for (uint64_t seq : seqs) wb.Delete(db_->cf(ColumnFamily::kSpanSearch), SpanHeadLogKey(seq));
  }
  std::map<std::string, TenantHead, std::less<>> cut;  // freed after the lock is released
  std::lock_guard lock(mu_);
  if (error.ok()) {
    // Under mu_: a search sees either the sealed head or the blocks, never both.
    // Without the WAL: the blocks and the deletion of their head-log records are one batch
    // in one memtable, durable together when `span_search` is flushed. A crash before that
    // loses both, and Open replays the head log (whose records went through the WAL) and
    // cuts the blocks again.
    rocksdb::WriteOptions wo;
    wo.disableWAL = true;
    error = ToAbslStatus(db_->db()->Write(wo, &wb), "writing search blocks");
  }
  if (!error.ok()) {
    // Keep the spans in the head (their head-log records still exist); retry later.
    for (auto& [tenant, th] : sealed_) {
      TenantHead& dst = head_[tenant];
      dst.groups.insert(dst.groups.begin(), th.groups.begin(), th.groups.end());
      dst.spans += th.spans;
      head_spans_ += th.spans;
    }
    head_gauge_->store(static_cast<int64_t>(head_spans_));
  }
  cut.swap(sealed_);
  return error;
}

void TraceStore::EnforceRetention() {
  const uint64_t cutoff = CutoffNs();
  if (cutoff == 0) return;
  const int64_t day = static_cast<int64_t>(cutoff / kNsPerDay);
  if (last_retention_day_.exchange(day) == day) return;
  for (auto cf : {ColumnFamily::kTraces, ColumnFamily::kSpanSearch, ColumnFamily::kTraceTags}) {
    rocksdb::CompactRangeOptions co;
    co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    auto s = db_->db()->CompactRange(co, db_->cf(cf), nullptr, nullptr);
    if (!s.ok()) LogError("trace retention compaction: " + s.ToString());
  }
}

absl::StatusOr<std::vector<Span>> TraceStore::FindTrace(std::string_view tenant,
                                                        const TraceId& trace_id,
                                                        uint64_t start_ns, uint64_t end_ns) {
  const std::string prefix = TraceKeyPrefix(tenant, trace_id);
  const std::string upper = PrefixSuccessor(prefix);
  rocksdb::ReadOptions ro;
  rocksdb::Slice upper_slice(upper);
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(ro, db_->cf(ColumnFamily::kTraces)));
  std::vector<Span> spans;
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    if (!DecodeSpanGroup(it->value().ToStringView(), &spans)) {
      return absl::DataLossError("corrupt span group for trace");
    }
  }
  if (!it->status().ok()) return ToAbslStatus(it->status(), "reading a trace");
  const uint64_t cutoff = CutoffNs();
  std::erase_if(spans, [&](const Span& s) { return s.start_time_unix_nano < cutoff; });
  // The same span written twice (a retried export) is returned once.
  std::stable_sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
    if (a.start_time_unix_nano != b.start_time_unix_nano) {
      return a.start_time_unix_nano < b.start_time_unix_nano;
    }
    return a.span_id < b.span_id;
  });
  spans.erase(std::unique(spans.begin(), spans.end(),
                          [](const Span& a, const Span& b) {
                            return a.span_id == b.span_id &&
                                   a.start_time_unix_nano == b.start_time_unix_nano;
                          }),
              spans.end());
  if (start_ns != kMinSpanTimeNs || end_ns != kMaxSpanTimeNs) {
    bool any = std::any_of(spans.begin(), spans.end(), [&](const Span& s) {
      return s.start_time_unix_nano >= start_ns && s.start_time_unix_nano <= end_ns;
    });
    if (!any) spans.clear();
  }
  return spans;
}

absl::Status TraceStore::FetchTraces(std::string_view tenant, const TraceFetchRequest& request,
                                     const TraceVisitor& visit, TraceFetchStats* stats) {
  auto compiled = SpanFilter::Compile(request.conditions, request.all_conditions);
  if (!compiled.ok()) return compiled.status();
  const SpanFilter& filter = **compiled;
  TraceFetchStats local_stats;
  if (stats == nullptr) stats = &local_stats;
  const uint64_t start = std::max(request.start_ns, CutoffNs());
  const uint64_t end = request.end_ns;
  if (start > end) return absl::OkStatus();

  std::vector<HeadGroupPtr> groups;
  const rocksdb::Snapshot* snap;
  {
    std::lock_guard lock(mu_);
    for (auto* m : {&head_, &sealed_}) {
      auto it = m->find(tenant);
      if (it != m->end()) groups.insert(groups.end(), it->second.groups.begin(), it->second.groups.end());
    }
    snap = db_->db()->GetSnapshot();
  }
  SnapshotGuard snap_guard(db_->db(), snap);
  std::sort(groups.begin(), groups.end(),
            [](const HeadGroupPtr& a, const HeadGroupPtr& b) { return a->seq > b->seq; });

  TraceIdSet visited;
  absl::Status error;
  bool stop = false;
  // Whole traces: visits `id` once. Returns false when the scan must end.
  auto emit_whole = [&](const TraceId& id) {
    if (!visited.insert(id).second) return true;
    auto spans = FindTrace(tenant, id, kMinSpanTimeNs, kMaxSpanTimeNs);
    if (!spans.ok()) {
      error = spans.status();
      return false;
    }
    if (spans->empty()) return true;
    ++stats->inspected_traces;
    return visit(FetchedTrace{id, *std::move(spans)});
  };

  // Partial traces: candidate spans per trace gathered across the head and every block so
  // each trace is visited once (unless visit_per_block); flushed early past
  // kMaxBufferedSpans.
  constexpr size_t kMaxBufferedSpans = 2'000'000;
  std::vector<std::pair<TraceId, std::vector<Span>>> partial;
  std::unordered_map<TraceId, size_t, TraceIdHash> partial_index;
  size_t buffered = 0;
  auto add_partial = [&](const TraceId& id) -> Span& {
    auto [pit, inserted] = partial_index.emplace(id, partial.size());
    if (inserted) partial.emplace_back(id, std::vector<Span>());
    ++buffered;
    return partial[pit->second].second.emplace_back();
  };
  auto flush_partial = [&]() {
    for (auto& [id, spans] : partial) {
      if (stop) break;
      std::stable_sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
        return a.start_time_unix_nano < b.start_time_unix_nano;
      });
      ++stats->inspected_traces;
      if (!visit(FetchedTrace{id, std::move(spans)})) stop = true;
    }
    partial.clear();
    partial_index.clear();
    buffered = 0;
  };

  std::vector<AttrView> sa, ra, sca;
  for (const auto& g : groups) {
    if (stop) break;
    if (g->max_start_ns < start || g->min_start_ns > end) continue;
    stats->inspected_spans += static_cast<int64_t>(g->spans.size());
    stats->inspected_bytes += static_cast<int64_t>(g->encoded_bytes);
    for (const Span& s : g->spans) {
      if (s.start_time_unix_nano < start || s.start_time_unix_nano > end) continue;
      if (!filter.Matches(ViewOfSpan(s, &sa, &ra, &sca))) continue;
      if (request.whole_traces) {
        if (!emit_whole(s.trace_id)) {
          stop = true;
          break;
        }
        break;  // one group holds one trace
      }
      add_partial(s.trace_id) = s;
    }
    if (buffered >= kMaxBufferedSpans) flush_partial();
  }
  if (!error.ok()) return error;
  if (request.visit_per_block) flush_partial();
  if (stop) return absl::OkStatus();

  // Search blocks of the range, newest first. A block holds one hour of start times.
  const std::string lower = SearchBlockKey(tenant, start / kNsPerHour * kNsPerHour, 0);
  const std::string upper = end == kMaxSpanTimeNs ? PrefixSuccessor(SearchBlockPrefix(tenant))
                                              : SearchBlockKey(tenant, end + 1, 0);
  rocksdb::ReadOptions ro;
  ro.snapshot = snap;
  rocksdb::Slice lower_slice(lower), upper_slice(upper);
  ro.iterate_lower_bound = &lower_slice;
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(ro, db_->cf(ColumnFamily::kSpanSearch)));
  // Blocks are scanned a round at a time on `workers` threads and their matches used in
  // order, so the visits are what a sequential scan would make.
  const size_t workers = std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 4);
  std::vector<std::string> round(2 * workers);  // values copied out of the iterator, reused
  std::vector<BlockMatches> results;
  std::vector<SearchBlockReader> readers(workers);  // one per thread, buffers kept
  for (it->SeekToLast(); it->Valid() && !stop;) {
    size_t n = 0;
    for (; it->Valid() && n < round.size(); it->Prev()) round[n++].assign(it->value().ToStringView());
    stats->total_blocks += static_cast<int64_t>(n);
    results.assign(n, BlockMatches());
    auto scan = [&](size_t first) {
      for (size_t i = first; i < n; i += workers) {
        ScanBlock(round[i], filter, start, end, request, &readers[first], &results[i]);
      }
    };
    std::vector<std::future<void>> helpers;
    for (size_t w = 1; w < workers && w < n; ++w) {
      helpers.push_back(std::async(std::launch::async, scan, w));
    }
    scan(0);
    for (auto& h : helpers) h.get();
    for (BlockMatches& r : results) {
      if (stop) break;
      if (!r.status.ok()) return r.status;
      if (!r.inspected) continue;
      stats->inspected_bytes += r.bytes;
      stats->inspected_spans += r.spans;
      // Rows are in start order: the newest traces of the block go first.
      for (auto rit = r.traces.rbegin(); rit != r.traces.rend() && !stop; ++rit) {
        if (!emit_whole(*rit)) stop = true;
      }
      for (auto& [id, span] : r.candidates) add_partial(id) = std::move(span);
      if (request.visit_per_block || buffered >= kMaxBufferedSpans) flush_partial();
    }
  }
  if (!error.ok()) return error;
  if (!stop) flush_partial();
  if (!it->status().ok()) return ToAbslStatus(it->status(), "scanning search blocks");
  return absl::OkStatus();
}

absl::Status TraceStore::ScanTags(std::string_view tenant, const TagRequest& request,
                                  ScopedTagNames* names, std::vector<TagValue>* values) {
  TraceFetchRequest fr;
  fr.start_ns = request.start_ns;
  fr.end_ns = request.end_ns;
  if (fr.start_ns == kMinSpanTimeNs) {
    const uint64_t back =
        static_cast<uint64_t>(std::max<int64_t>(options_.default_filtered_tag_lookback_ms, 0)) *
        1'000'000;
    const uint64_t now = NowNs();
    fr.start_ns = now > back ? now - back : 0;
  }
  fr.conditions = request.filter;
  fr.all_conditions = request.all_conditions;
  fr.whole_traces = false;
  std::set<std::string> name_sets[5];
  std::set<std::pair<TagValueType, std::string>> value_set;
  const char* intrinsic = IntrinsicTagName(request.intrinsic);
  const bool want_names = names != nullptr;
  const TagScopeByte want_scope = ScopeByteOf(request.scope);
  const size_t limit = request.limit;
  auto status = FetchTraces(
      tenant, fr,
      [&](FetchedTrace&& t) {
        for (const Span& s : t.spans) {
          if (want_names) {
            ForEachTag(s, true, [&](TagScopeByte scope, std::string_view name, const AttributeValue*) {
              if (!WantsScope(request.scope, scope)) return;
              int idx = scope == TagScopeByte::kResource ? 0
                        : scope == TagScopeByte::kSpan   ? 1
                        : scope == TagScopeByte::kEvent  ? 2
                        : scope == TagScopeByte::kLink   ? 3
                                                         : 4;
              name_sets[idx].emplace(name);
            });
          } else if (request.intrinsic != Intrinsic::kNone) {
            if (intrinsic == nullptr) return false;
            ForEachIntrinsic(s, [&](std::string_view name, TagValueType type, std::string_view v) {
              if (name == intrinsic) value_set.emplace(type, std::string(v));
            });
          } else {
            ForEachTag(s, true, [&](TagScopeByte scope, std::string_view name, const AttributeValue* value) {
              if (name != request.key) return;
              const bool scope_ok = request.scope == TraceScope::kUnscoped
                                        ? (scope == TagScopeByte::kSpan || scope == TagScopeByte::kResource)
                                        : scope == want_scope;
              if (!scope_ok) return;
              TagValue tv;
              if (TagValueOf(*value, &tv)) value_set.emplace(tv.type, std::move(tv.value));
            });
          }
        }
        return limit == 0 || value_set.size() < limit;
      },
      nullptr);
  if (!status.ok()) return status;
  if (names != nullptr) {
    std::vector<std::string>* outs[5] = {&names->resource, &names->span, &names->event,
                                         &names->link, &names->instrumentation};
    for (int i = 0; i < 5; ++i) {
      outs[i]->assign(name_sets[i].begin(), name_sets[i].end());
      SortUnique(outs[i], limit);
    }
  }
  if (values != nullptr) {
    for (auto& [type, v] : value_set) values->push_back(TagValue{type, v});
    if (limit > 0 && values->size() > limit) values->resize(limit);
  }
  return absl::OkStatus();
}

namespace {

// Days of the tag index to read for a request's range.
std::pair<uint32_t, uint32_t> TagDays(uint64_t start_ns, uint64_t end_ns, uint64_t cutoff_ns,
                                      uint64_t now_ns) {
  uint64_t start = std::max(start_ns, cutoff_ns);
  // Retention off and no range: the last 30 days, not every day since 1970.
  if (start == 0 && now_ns > 30 * kNsPerDay) start = now_ns - 30 * kNsPerDay;
  uint64_t end = end_ns == kMaxSpanTimeNs ? now_ns + kNsPerDay : end_ns;
  // Spans may come from slightly in the future (clock skew).
  return {static_cast<uint32_t>(start / kNsPerDay), static_cast<uint32_t>(end / kNsPerDay)};
}

}  // namespace

absl::StatusOr<ScopedTagNames> TraceStore::TagNames(std::string_view tenant,
                                                    const TagRequest& request) {
  ScopedTagNames names;
  if (request.scope == TraceScope::kIntrinsic) return names;
  if (!request.filter.empty()) {
    if (auto s = ScanTags(tenant, request, &names, nullptr); !s.ok()) return s;
    return names;
  }
  auto [first_day, last_day] = TagDays(request.start_ns, request.end_ns, CutoffNs(), NowNs());
  if (first_day > last_day) return names;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->db()->NewIterator(rocksdb::ReadOptions(), db_->cf(ColumnFamily::kTraceTags)));
  const TagScopeByte scopes[] = {TagScopeByte::kResource, TagScopeByte::kSpan, TagScopeByte::kEvent,
                                 TagScopeByte::kLink, TagScopeByte::kInstrumentation};
  for (uint32_t day = first_day; day <= last_day; ++day) {
    for (TagScopeByte scope : scopes) {
      if (!WantsScope(request.scope, scope)) continue;
      std::vector<std::string>* out = NamesOf(&names, scope);
      const std::string prefix = TagScopePrefix(tenant, day, scope);
      for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix);) {
        uint32_t d;
        TagScopeByte sc;
        std::string_view name, value;
        uint8_t type;
        if (!ParseTagKey(it->key().ToStringView(), &d, &sc, &name, &type, &value)) {
          it->Next();
          continue;
        }
        out->emplace_back(name);
        // Skip the rest of this name's values with one seek.
        it->Seek(PrefixSuccessor(TagNamePrefix(tenant, day, scope, name)));
      }
    }
    if (day == UINT32_MAX) break;
  }
  if (!it->status().ok()) return ToAbslStatus(it->status(), "reading the tag index");
  for (auto* v : {&names.resource, &names.span, &names.event, &names.link, &names.instrumentation}) {
    SortUnique(v, request.limit);
  }
  return names;
}

absl::StatusOr<std::vector<TagValue>> TraceStore::TagValues(std::string_view tenant,
                                                            const TagRequest& request) {
  std::vector<TagValue> values;
  if (request.intrinsic == Intrinsic::kDuration || request.intrinsic == Intrinsic::kTraceDuration) {
    return values;
  }
  if (!request.filter.empty()) {
    if (auto s = ScanTags(tenant, request, nullptr, &values); !s.ok()) return s;
    return values;
  }
  std::vector<std::pair<TagScopeByte, std::string>> targets;
  if (request.intrinsic != Intrinsic::kNone) {
    const char* name = IntrinsicTagName(request.intrinsic);
    if (name == nullptr) return values;
    targets.emplace_back(TagScopeByte::kIntrinsic, name);
  } else if (request.scope == TraceScope::kUnscoped) {
    targets.emplace_back(TagScopeByte::kSpan, request.key);
    targets.emplace_back(TagScopeByte::kResource, request.key);
  } else if (request.scope == TraceScope::kIntrinsic) {
    return values;
  } else {
    targets.emplace_back(ScopeByteOf(request.scope), request.key);
  }
  auto [first_day, last_day] = TagDays(request.start_ns, request.end_ns, CutoffNs(), NowNs());
  std::set<std::pair<uint8_t, std::string>> found;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->db()->NewIterator(rocksdb::ReadOptions(), db_->cf(ColumnFamily::kTraceTags)));
  for (uint32_t day = first_day; day <= last_day; ++day) {
    for (const auto& [scope, name] : targets) {
      const std::string prefix = TagNamePrefix(tenant, day, scope, name);
      for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
        std::string_view rest = it->key().ToStringView().substr(prefix.size());
        if (rest.empty() || rest[0] == 0) continue;
        found.emplace(static_cast<uint8_t>(rest[0]), std::string(rest.substr(1)));
      }
    }
    if (day == UINT32_MAX) break;
  }
  if (!it->status().ok()) return ToAbslStatus(it->status(), "reading the tag index");
  for (auto& [type, v] : found) {
    values.push_back(TagValue{static_cast<TagValueType>(type - 1), v});
    if (request.limit > 0 && values.size() >= request.limit) break;
  }
  return values;
}

}  // namespace otelbox::storage
