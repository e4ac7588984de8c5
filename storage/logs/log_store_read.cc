// LogStore read paths: stream selection, entry scans, label and index queries.

#include <algorithm>
#include <queue>
#include <set>

#include "rocksdb/db.h"
#include "storage/coding.h"
#include "storage/keys.h"
#include "storage/logs/log_keys.h"
#include "storage/logs/log_store_impl.h"

namespace otelbox::storage {
namespace {

bool StartsWith(const rocksdb::Slice& s, std::string_view prefix) {
  return s.size() >= prefix.size() && std::string_view(s.data(), prefix.size()) == prefix;
}

// One consistent view of a stream: its head segments and a RocksDB snapshot taken under
// the stream's lock (see LogStore::Impl::FlushStream), released on scope exit.
class StreamView {
 public:
  StreamView(rocksdb::DB* db, const std::shared_ptr<LogStreamHead>& head) : db_(db) {
    if (head) {
      std::lock_guard lock(head->mu);
      segments_ = head->segments;
      snap_ = db->GetSnapshot();
    } else {
      snap_ = db->GetSnapshot();
    }
    ro_.snapshot = snap_;
  }
  ~StreamView() { db_->ReleaseSnapshot(snap_); }
  StreamView(const StreamView&) = delete;
  StreamView& operator=(const StreamView&) = delete;

  const rocksdb::ReadOptions& ro() const { return ro_; }
  const std::vector<std::shared_ptr<const LogHeadSegment>>& segments() const { return segments_; }

 private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snap_ = nullptr;
  rocksdb::ReadOptions ro_;
  std::vector<std::shared_ptr<const LogHeadSegment>> segments_;
};

class SnapshotGuard {
 public:
  explicit SnapshotGuard(rocksdb::DB* db) : db_(db), snap_(db->GetSnapshot()) { ro_.snapshot = snap_; }
  ~SnapshotGuard() { db_->ReleaseSnapshot(snap_); }
  const rocksdb::ReadOptions& ro() const { return ro_; }

 private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snap_;
  rocksdb::ReadOptions ro_;
};

struct HeadRef {
  int64_t t_ns;
  const LogHeadEntry* entry;
  const LogHeadSegment* segment;
};

// Head entries in [start_ns, end_ns), by time, equal timestamps in push order.
std::vector<HeadRef> CollectHead(const std::vector<std::shared_ptr<const LogHeadSegment>>& segs,
                                 int64_t start_ns, int64_t end_ns) {
  std::vector<HeadRef> refs;
  for (const auto& seg : segs) {
    for (const LogHeadEntry& e : seg->entries) {
      if (e.t_ns >= start_ns && e.t_ns < end_ns) refs.push_back({e.t_ns, &e, seg.get()});
    }
  }
  std::stable_sort(refs.begin(), refs.end(),
                   [](const HeadRef& a, const HeadRef& b) { return a.t_ns < b.t_ns; });
  return refs;
}

int64_t HeadEntryBytes(const HeadRef& r) {
  int64_t n = static_cast<int64_t>(r.entry->line.size());
  for (const LabelView& l : r.segment->MetadataOf(*r.entry)) {
    n += static_cast<int64_t>(l.name.size() + l.value.size());
  }
  return n;
}

// One ordered run of entries being merged: a decoded block or the head.
struct Source {
  uint64_t seq = 0;  // push order between sources: head last
  std::unique_ptr<DecodedLogBlock> block;
  const std::vector<HeadRef>* head = nullptr;
  // Positions [lo, hi) are visited; with `filtered`, position k is entry picked[k].
  size_t lo = 0, hi = 0;
  size_t pos = 0;  // current position
  bool filtered = false;
  std::vector<uint32_t> picked;

  size_t entry() const { return filtered ? picked[pos] : pos; }
  int64_t t() const { return block ? block->t_ns(entry()) : (*head)[pos].t_ns; }
};

// The longest `|=` literal: the one that rules out the most lines.
std::string_view PickNeedle(const std::vector<std::string>& literals) {
  std::string_view best;
  for (const std::string& l : literals) {
    if (l.size() > best.size()) best = l;
  }
  return best;
}

}  // namespace

absl::Status LogStore::Impl::MatchStreams(const rocksdb::ReadOptions& ro, std::string_view tenant,
                                          const LogMatcherSet& matchers, int64_t start_ns,
                                          int64_t end_ns, std::map<uint64_t, Labels>* out) {
  const int64_t start_day = LogDayOf(start_ns), end_day = LogDayOf(end_ns - 1);
  if (matchers.empty()) return postings_.All(ro, tenant, start_day, end_day, out);
  if (!HasNonEmptyMatcher(matchers)) {
    std::map<uint64_t, Labels> all;
    if (auto s = postings_.All(ro, tenant, start_day, end_day, &all); !s.ok()) return s;
    for (auto& [id, labels] : all) {
      if (MatchesAll(matchers, labels)) out->emplace(id, std::move(labels));
    }
    return absl::OkStatus();
  }
  return postings_.Match(ro, tenant, matchers, start_day, end_day, out);
}

absl::Status LogStore::Impl::ListBlocks(const rocksdb::ReadOptions& ro, std::string_view tenant,
                                        uint64_t id, int64_t start_ns, int64_t end_ns,
                                        std::vector<BlockRef>* out) {
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(ro, db_->cf(ColumnFamily::kLogBlocks)));
  const std::string prefix = LogBlockStreamPrefix(tenant, LogBlockRowKind::kIndex, id);
  // Blocks never span a window: none starting before start's window reaches start.
  for (it->Seek(LogBlockKey(tenant, LogBlockRowKind::kIndex, id, LogBlockWindowStart(start_ns), 0));
       it->Valid() && StartsWith(it->key(), prefix); it->Next()) {
    LogBlockKeyParts parts;
    if (!ParseLogBlockKey(it->key().ToStringView(), &parts)) {
      return absl::DataLossError("corrupt log block index key");
    }
    if (parts.min_t_ns >= end_ns) break;
    BlockRef b;
    if (!DecodeLogBlockIndex(it->value().ToStringView(), &b.summary)) {
      return absl::DataLossError("corrupt log block index row");
    }
    b.summary.min_t_ns = parts.min_t_ns;
    b.min_t_ns = parts.min_t_ns;
    b.seq = parts.block_seq;
    if (b.summary.max_t_ns >= start_ns) out->push_back(b);
  }
  if (!it->status().ok()) return ToAbslStatus(it->status(), "reading log block index");
  return absl::OkStatus();
}

absl::StatusOr<std::vector<LogStreamRef>> LogStore::Impl::SelectStreams(
    std::string_view tenant, const LogMatcherSet& matchers, int64_t start_ns, int64_t end_ns) {
  if (!HasNonEmptyMatcher(matchers)) {
    return absl::InvalidArgumentError(
        "queries require at least one regexp or equality matcher that does not have an "
        "empty-compatible value");
  }
  start_ns = std::max(start_ns, CutoffNs());
  std::vector<LogStreamRef> result;
  if (start_ns >= end_ns) return result;
  std::map<uint64_t, Labels> streams;
  SnapshotGuard snap(db_->db());
  if (auto s = MatchStreams(snap.ro(), tenant, matchers, start_ns, end_ns, &streams); !s.ok()) return s;
  result.reserve(streams.size());
  for (auto& [id, labels] : streams) result.push_back(LogStreamRef{id, std::move(labels)});
  std::sort(result.begin(), result.end(),
            [](const LogStreamRef& a, const LogStreamRef& b) { return a.labels < b.labels; });
  return result;
}

absl::Status LogStore::Impl::ScanStream(std::string_view tenant, uint64_t stream_id,
                                        int64_t start_ns, int64_t end_ns, LogDirection direction,
                                        const LogScanOptions& options, LogEntryVisitor visit) {
  start_ns = std::max(start_ns, CutoffNs());
  if (start_ns >= end_ns) return absl::OkStatus();
  auto head = head_.Find(stream_id);
  if (head && head->tenant != tenant) head = nullptr;
  StreamView view(db_->db(), head);
  std::vector<BlockRef> blocks;
  if (auto s = ListBlocks(view.ro(), tenant, stream_id, start_ns, end_ns, &blocks); !s.ok()) return s;
  // With a `|=` literal, only lines containing it are visited (LogScanOptions contract):
  // one bulk search per block instead of a visitor call per line.
  const std::string_view needle = PickNeedle(options.line_contains);
  std::vector<HeadRef> head_refs = CollectHead(view.segments(), start_ns, end_ns);
  if (!needle.empty()) {
    std::erase_if(head_refs, [&](const HeadRef& r) { return r.entry->line.find(needle) == std::string_view::npos; });
  }
  LogScanStats local_stats;
  LogScanStats& stats = options.stats ? *options.stats : local_stats;
  const bool forward = direction == LogDirection::kForward;

  // Heap order: forward pops the smallest (t, seq), backward the largest.
  auto later = [forward](const Source* a, const Source* b) {
    const int64_t ta = a->t(), tb = b->t();
    if (ta != tb) return forward ? ta > tb : ta < tb;
    return forward ? a->seq > b->seq : a->seq < b->seq;
  };
  std::priority_queue<Source*, std::vector<Source*>, decltype(later)> heap(later);
  std::vector<std::unique_ptr<Source>> sources;
  auto start_source = [&](std::unique_ptr<Source> src) {
    if (src->lo >= src->hi) return;
    src->pos = forward ? src->lo : src->hi - 1;
    heap.push(src.get());
    sources.push_back(std::move(src));
  };
  if (!head_refs.empty()) {
    auto src = std::make_unique<Source>();
    src->seq = std::numeric_limits<uint64_t>::max();
    src->head = &head_refs;
    src->lo = 0;
    src->hi = head_refs.size();
    start_source(std::move(src));
  }

  // Blocks are opened lazily, in the order their first in-range entry can be needed.
  if (forward) {
    std::sort(blocks.begin(), blocks.end(), [](const BlockRef& a, const BlockRef& b) {
      return a.min_t_ns != b.min_t_ns ? a.min_t_ns < b.min_t_ns : a.seq < b.seq;
    });
  } else {
    std::sort(blocks.begin(), blocks.end(), [](const BlockRef& a, const BlockRef& b) {
      return a.summary.max_t_ns != b.summary.max_t_ns ? a.summary.max_t_ns > b.summary.max_t_ns
                                                      : a.seq > b.seq;
    });
  }
  auto* blocks_cf = db_->cf(ColumnFamily::kLogBlocks);
  rocksdb::PinnableSlice value;
  auto open_block = [&](const BlockRef& b) -> absl::Status {
    value.Reset();
    auto s = db_->db()->Get(view.ro(), blocks_cf,
                            LogBlockKey(tenant, LogBlockRowKind::kData, stream_id, b.min_t_ns, b.seq),
                            &value);
    if (s.IsNotFound()) return absl::OkStatus();  // expired between index and data reads
    if (!s.ok()) return ToAbslStatus(s, "reading log block");
    auto src = std::make_unique<Source>();
    src->seq = b.seq;
    src->block = std::make_unique<DecodedLogBlock>();
    if (auto d = src->block->Decode(value.ToStringView(), options.metadata); !d.ok()) return d;
    ++stats.blocks_read;
    stats.compressed_bytes += static_cast<int64_t>(value.size());
    src->lo = src->block->LowerBound(start_ns);
    src->hi = src->block->LowerBound(end_ns);
    stats.decompressed_lines += static_cast<int64_t>(src->hi - src->lo);
    stats.decompressed_bytes += src->block->RangeBytes(src->lo, src->hi);
    if (!needle.empty()) {
      src->picked = src->block->EntriesContaining(src->lo, src->hi, needle);
      src->filtered = true;
      src->lo = 0;
      src->hi = src->picked.size();
      if (src->picked.empty()) ++stats.blocks_skipped;
    }
    start_source(std::move(src));
    return absl::OkStatus();
  };

  size_t next = 0;
  while (true) {
    while (next < blocks.size()) {
      const BlockRef& b = blocks[next];
      if (!heap.empty()) {
        const int64_t top = heap.top()->t();
        if (forward ? b.min_t_ns > top : b.summary.max_t_ns < top) break;
      }
      if (auto s = open_block(b); !s.ok()) return s;
      ++next;
    }
    if (heap.empty()) break;
    Source* src = heap.top();
    heap.pop();
    LogEntryView e;
    if (src->block) {
      const size_t i = src->entry();
      e.t_ns = src->block->t_ns(i);
      e.line = src->block->line(i);
      if (options.metadata) e.metadata = src->block->metadata(i);
    } else {
      const HeadRef& r = (*src->head)[src->pos];
      e.t_ns = r.t_ns;
      e.line = r.entry->line;
      if (options.metadata) e.metadata = r.segment->MetadataOf(*r.entry);
      ++stats.head_lines;
      stats.head_bytes += HeadEntryBytes(r);
    }
    if (!visit(e)) return absl::OkStatus();
    bool more;
    if (forward) {
      more = ++src->pos < src->hi;
    } else {
      more = src->pos > src->lo;
      if (more) --src->pos;
    }
    if (more) heap.push(src);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> LogStore::Impl::LabelNames(std::string_view tenant,
                                                                    const LogMatcherSet& matchers,
                                                                    int64_t start_ns,
                                                                    int64_t end_ns) {
  start_ns = std::max(start_ns, CutoffNs());
  std::set<std::string> names;
  if (start_ns < end_ns) {
    SnapshotGuard snap(db_->db());
    if (matchers.empty()) {
      auto s = postings_.LabelNames(snap.ro(), tenant, LogDayOf(start_ns), LogDayOf(end_ns - 1), &names);
      if (!s.ok()) return s;
    } else {
      std::map<uint64_t, Labels> streams;
      if (auto s = MatchStreams(snap.ro(), tenant, matchers, start_ns, end_ns, &streams); !s.ok()) return s;
      for (const auto& [id, labels] : streams) {
        for (const Label& l : labels) names.insert(l.name);
      }
    }
  }
  return std::vector<std::string>(names.begin(), names.end());
}

absl::StatusOr<std::vector<std::string>> LogStore::Impl::LabelValues(
    std::string_view tenant, std::string_view name, const LogMatcherSet& matchers,
    int64_t start_ns, int64_t end_ns) {
  start_ns = std::max(start_ns, CutoffNs());
  std::set<std::string> values;
  if (start_ns < end_ns) {
    SnapshotGuard snap(db_->db());
    if (matchers.empty()) {
      auto s = postings_.LabelValues(snap.ro(), tenant, name, LogDayOf(start_ns),
                                     LogDayOf(end_ns - 1), &values);
      if (!s.ok()) return s;
    } else {
      std::map<uint64_t, Labels> streams;
      if (auto s = MatchStreams(snap.ro(), tenant, matchers, start_ns, end_ns, &streams); !s.ok()) return s;
      for (const auto& [id, labels] : streams) {
        std::string_view v = labels.Get(name);
        if (!v.empty()) values.emplace(v);
      }
    }
  }
  return std::vector<std::string>(values.begin(), values.end());
}

absl::StatusOr<std::vector<Labels>> LogStore::Impl::Series(std::string_view tenant,
                                                           const std::vector<LogMatcherSet>& sets,
                                                           int64_t start_ns, int64_t end_ns) {
  start_ns = std::max(start_ns, CutoffNs());
  std::vector<Labels> result;
  if (start_ns >= end_ns) return result;
  SnapshotGuard snap(db_->db());
  std::map<uint64_t, Labels> streams;
  if (sets.empty()) {
    if (auto s = MatchStreams(snap.ro(), tenant, {}, start_ns, end_ns, &streams); !s.ok()) return s;
  }
  for (const LogMatcherSet& set : sets) {
    if (auto s = MatchStreams(snap.ro(), tenant, set, start_ns, end_ns, &streams); !s.ok()) return s;
  }
  result.reserve(streams.size());
  for (auto& [id, labels] : streams) result.push_back(std::move(labels));
  std::sort(result.begin(), result.end());
  result.erase(std::unique(result.begin(), result.end()), result.end());
  return result;
}

absl::StatusOr<LogIndexStats> LogStore::Impl::IndexStats(std::string_view tenant,
                                                         const LogMatcherSet& matchers,
                                                         int64_t start_ns, int64_t end_ns) {
  start_ns = std::max(start_ns, CutoffNs());
  LogIndexStats stats;
  if (start_ns >= end_ns) return stats;
  std::map<uint64_t, Labels> streams;
  {
    SnapshotGuard snap(db_->db());
    if (auto s = MatchStreams(snap.ro(), tenant, matchers, start_ns, end_ns, &streams); !s.ok()) return s;
  }
  for (const auto& [id, labels] : streams) {
    auto head = head_.Find(id);
    if (head && head->tenant != tenant) head = nullptr;
    StreamView view(db_->db(), head);
    std::vector<BlockRef> blocks;
    if (auto s = ListBlocks(view.ro(), tenant, id, start_ns, end_ns, &blocks); !s.ok()) return s;
    const auto head_refs = CollectHead(view.segments(), start_ns, end_ns);
    if (blocks.empty() && head_refs.empty()) continue;
    ++stats.streams;
    for (const BlockRef& b : blocks) {
      ++stats.chunks;
      stats.entries += b.summary.entries;
      stats.bytes += b.summary.raw_bytes;
    }
    if (!head_refs.empty()) ++stats.chunks;
    for (const HeadRef& r : head_refs) {
      ++stats.entries;
      stats.bytes += HeadEntryBytes(r);
    }
  }
  return stats;
}

absl::StatusOr<std::vector<LogVolume>> LogStore::Impl::Volume(
    std::string_view tenant, const LogMatcherSet& matchers, int64_t start_ns, int64_t end_ns,
    const std::vector<std::string>& by_labels, int64_t step_ns, size_t limit) {
  start_ns = std::max(start_ns, CutoffNs());
  std::vector<LogVolume> result;
  if (start_ns >= end_ns) return result;
  std::map<uint64_t, Labels> streams;
  {
    SnapshotGuard snap(db_->db());
    if (auto s = MatchStreams(snap.ro(), tenant, matchers, start_ns, end_ns, &streams); !s.ok()) return s;
  }
  auto bucket = [&](int64_t t) {
    if (step_ns <= 0) return start_ns;
    return FloorDiv(std::max(t, start_ns), step_ns) * step_ns;
  };
  struct Totals {
    int64_t bytes = 0;
    int64_t entries = 0;
  };
  std::map<Labels, std::map<int64_t, Totals>> groups;
  for (const auto& [id, labels] : streams) {
    Labels group;
    if (by_labels.empty()) {
      group = labels;
    } else {
      std::vector<Label> picked;
      for (const std::string& n : by_labels) {
        std::string_view v = labels.Get(n);
        if (!v.empty()) picked.push_back(Label{n, std::string(v)});
      }
      if (picked.empty()) continue;
      group = Labels(std::move(picked));
    }
    auto head = head_.Find(id);
    if (head && head->tenant != tenant) head = nullptr;
    StreamView view(db_->db(), head);
    std::vector<BlockRef> blocks;
    if (auto s = ListBlocks(view.ro(), tenant, id, start_ns, end_ns, &blocks); !s.ok()) return s;
    const auto head_refs = CollectHead(view.segments(), start_ns, end_ns);
    if (blocks.empty() && head_refs.empty()) continue;
    auto& buckets = groups[group];
    for (const BlockRef& b : blocks) {
      Totals& t = buckets[bucket(b.min_t_ns)];
      t.bytes += b.summary.raw_bytes;
      t.entries += b.summary.entries;
    }
    for (const HeadRef& r : head_refs) {
      Totals& t = buckets[bucket(r.t_ns)];
      t.bytes += HeadEntryBytes(r);
      ++t.entries;
    }
  }
  std::vector<std::pair<int64_t, const Labels*>> ranked;
  for (const auto& [labels, buckets] : groups) {
    int64_t total = 0;
    for (const auto& [t, v] : buckets) total += v.bytes;
    ranked.emplace_back(total, &labels);
  }
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : *a.second < *b.second;
  });
  if (limit > 0 && ranked.size() > limit) ranked.resize(limit);
  for (const auto& [total, labels] : ranked) {
    for (const auto& [t, v] : groups[*labels]) {
      result.push_back(LogVolume{*labels, t, v.bytes, v.entries});
    }
  }
  return result;
}

}  // namespace otelbox::storage
