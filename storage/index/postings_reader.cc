#include "storage/index/postings_reader.h"

#include <algorithm>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "common/log.h"
#include "rocksdb/db.h"
#include "storage/coding.h"
#include "storage/keys.h"

namespace otelbox::storage {
namespace {

bool StartsWith(const rocksdb::Slice& s, std::string_view prefix) {
  return s.size() >= prefix.size() && std::string_view(s.data(), prefix.size()) == prefix;
}

// Day partitions of `tenant` that exist within [start_day, end_day], by skip-scanning:
// one Seek per existing day, none for empty days.
absl::StatusOr<std::vector<int64_t>> ListDays(rocksdb::Iterator* it, std::string_view tenant,
                                              int64_t start_day, int64_t end_day) {
  std::vector<int64_t> days;
  const std::string tenant_prefix = TenantPrefix(tenant);
  it->Seek(PostingsDayPrefix(tenant, start_day));
  while (it->Valid() && StartsWith(it->key(), tenant_prefix)) {
    PostingKeyParts parts;
    int depth = 0;
    ParsePostingKey(it->key().ToStringView(), &parts, &depth);
    if (depth < 2) return absl::DataLossError("corrupt postings key");
    if (parts.day > end_day) break;
    days.push_back(parts.day);
    if (parts.day == std::numeric_limits<int64_t>::max()) break;
    it->Seek(PostingsDayPrefix(tenant, parts.day + 1));
  }
  if (!it->status().ok()) return ToAbslStatus(it->status(), "scanning postings days");
  return days;
}

// Appends the ids whose label `m.name()` has a value matching `m` in `day`.
absl::Status CollectIds(rocksdb::Iterator* it, std::string_view tenant, int64_t day,
                        const Matcher& m, std::vector<uint64_t>* out) {
  auto collect_value = [&](const std::string& value_prefix) {
    for (; it->Valid() && StartsWith(it->key(), value_prefix); it->Next()) {
      PostingKeyParts parts;
      int depth = 0;
      if (ParsePostingKey(it->key().ToStringView(), &parts, &depth) && depth == 5) {
        out->push_back(parts.id);
      }
    }
  };
  if (m.type() == MatchType::kEqual) {
    std::string prefix = PostingsValuePrefix(tenant, day, m.name(), m.value());
    it->Seek(prefix);
    collect_value(prefix);
  } else {
    // Walk the name's values; a non-matching value is skipped with one Seek.
    const std::string name_prefix = PostingsNamePrefix(tenant, day, m.name());
    it->Seek(name_prefix);
    while (it->Valid() && StartsWith(it->key(), name_prefix)) {
      PostingKeyParts parts;
      int depth = 0;
      if (!ParsePostingKey(it->key().ToStringView(), &parts, &depth) || depth < 4) {
        return absl::DataLossError("corrupt postings key");
      }
      std::string value(parts.value);
      std::string value_prefix = PostingsValuePrefix(tenant, day, m.name(), value);
      if (m.Matches(value)) {
        collect_value(value_prefix);
      } else {
        std::string next = PrefixSuccessor(value_prefix);
        if (next.empty()) break;
        it->Seek(next);
      }
    }
  }
  if (!it->status().ok()) return ToAbslStatus(it->status(), "scanning postings");
  return absl::OkStatus();
}

// Visits the postings under `prefix` once per distinct key component at `depth` (3: label
// name, 4: label value): `visit(parts)` returns the prefix all keys of that component share,
// and one Seek past it skips them, however many ids they hold.
template <typename Visit>
absl::Status SkipScan(rocksdb::Iterator* it, const std::string& prefix, int depth, Visit visit) {
  it->Seek(prefix);
  while (it->Valid() && StartsWith(it->key(), prefix)) {
    PostingKeyParts parts;
    int got = 0;
    if (!ParsePostingKey(it->key().ToStringView(), &parts, &got) || got < depth) {
      return absl::DataLossError("corrupt postings key");
    }
    std::string next = PrefixSuccessor(visit(parts));
    if (next.empty()) break;
    it->Seek(next);
  }
  if (!it->status().ok()) return ToAbslStatus(it->status(), "scanning postings");
  return absl::OkStatus();
}

}  // namespace

bool HasNonEmptyMatcher(const std::vector<Matcher>& matchers) {
  return std::any_of(matchers.begin(), matchers.end(),
                     [](const Matcher& m) { return !m.MatchesEmpty(); });
}

bool MatchesAll(const std::vector<Matcher>& matchers, const Labels& labels) {
  return std::all_of(matchers.begin(), matchers.end(),
                     [&](const Matcher& m) { return m.Matches(labels.Get(m.name())); });
}

absl::Status PostingsReader::ReadLabels(const rocksdb::ReadOptions& ro, std::string_view tenant,
                                        const std::vector<uint64_t>& ids,
                                        const std::vector<Matcher>& matchers,
                                        std::map<uint64_t, Labels>* out) const {
  // The full label set decides: this is where != / !~ / empty-matching matchers apply,
  // with a missing label reading as "" as in Prometheus. The rows are read with batched
  // MultiGets (ids ascend, so keys do): a query selects thousands of series at once, and
  // one Get each was a tenth of an instant query's time (bench/promql_bench).
  constexpr size_t kBatch = 512;
  std::vector<uint64_t> batch_ids;
  std::vector<std::string> keys;
  std::vector<rocksdb::Slice> key_slices;
  std::vector<rocksdb::PinnableSlice> values(kBatch);
  std::vector<rocksdb::Status> statuses(kBatch);
  for (size_t i = 0; i < ids.size();) {
    batch_ids.clear();
    keys.clear();
    for (; i < ids.size() && batch_ids.size() < kBatch; ++i) {
      if (out->count(ids[i])) continue;
      Labels cached;
      if (cache_ != nullptr && cache_->CachedLabels(tenant, ids[i], &cached)) {
        if (MatchesAll(matchers, cached)) out->emplace_hint(out->end(), ids[i], std::move(cached));
        continue;
      }
      batch_ids.push_back(ids[i]);
      keys.push_back(SeriesByIdKey(tenant, ids[i]));
    }
    if (batch_ids.empty()) break;
    const bool sorted = std::is_sorted(batch_ids.begin(), batch_ids.end());
    key_slices.assign(keys.begin(), keys.end());
    db_->db()->MultiGet(ro, db_->cf(families_.by_id), key_slices.size(), key_slices.data(),
                        values.data(), statuses.data(), sorted);
    for (size_t j = 0; j < batch_ids.size(); ++j) {
      const rocksdb::Status& s = statuses[j];
      if (s.IsNotFound()) {
        LogWarn("postings reference id " + std::to_string(batch_ids[j]) +
                " without a label set row");
        continue;
      }
      if (!s.ok()) return ToAbslStatus(s, "reading label set");
      std::string_view in = values[j].ToStringView();
      Labels labels;
      if (!GetLabels(&in, &labels)) return absl::DataLossError("corrupt by-id label set row");
      if (MatchesAll(matchers, labels)) out->emplace(batch_ids[j], std::move(labels));
    }
    for (size_t j = 0; j < batch_ids.size(); ++j) values[j].Reset();
  }
  return absl::OkStatus();
}

absl::Status PostingsReader::Match(const rocksdb::ReadOptions& ro, std::string_view tenant,
                                   const std::vector<Matcher>& matchers, int64_t start_day,
                                   int64_t end_day, std::map<uint64_t, Labels>* out) const {
  // Equality first: its postings are one prefix scan and usually shrink the set most.
  std::vector<const Matcher*> selecting;
  for (const Matcher& m : matchers) {
    if (!m.MatchesEmpty()) selecting.push_back(&m);
  }
  std::stable_partition(selecting.begin(), selecting.end(),
                        [](const Matcher* m) { return m->type() == MatchType::kEqual; });
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(ro, db_->cf(families_.postings)));
  auto days = ListDays(it.get(), tenant, start_day, end_day);
  if (!days.ok()) return days.status();

  std::vector<uint64_t> candidates;
  for (int64_t day : *days) {
    std::vector<uint64_t> current;
    bool first = true;
    for (const Matcher* m : selecting) {
      std::vector<uint64_t> ids;
      if (auto s = CollectIds(it.get(), tenant, day, *m, &ids); !s.ok()) return s;
      std::sort(ids.begin(), ids.end());
      ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
      if (first) {
        current = std::move(ids);
        first = false;
      } else {
        std::vector<uint64_t> both;
        std::set_intersection(current.begin(), current.end(), ids.begin(), ids.end(),
                              std::back_inserter(both));
        current = std::move(both);
      }
      if (current.empty()) break;
    }
    candidates.insert(candidates.end(), current.begin(), current.end());
  }
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  return ReadLabels(ro, tenant, candidates, matchers, out);
}

absl::Status PostingsReader::All(const rocksdb::ReadOptions& ro, std::string_view tenant,
                                 int64_t start_day, int64_t end_day,
                                 std::map<uint64_t, Labels>* out) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(ro, db_->cf(families_.postings)));
  auto days = ListDays(it.get(), tenant, start_day, end_day);
  if (!days.ok()) return days.status();
  std::vector<uint64_t> ids;
  for (int64_t day : *days) {
    // Every id has a posting per label: walking the day's first label name would miss
    // sets without it, so the whole day is read (ids repeat once per label).
    const std::string prefix = PostingsDayPrefix(tenant, day);
    for (it->Seek(prefix); it->Valid() && StartsWith(it->key(), prefix); it->Next()) {
      PostingKeyParts parts;
      int depth = 0;
      if (ParsePostingKey(it->key().ToStringView(), &parts, &depth) && depth == 5) {
        ids.push_back(parts.id);
      }
    }
    if (!it->status().ok()) return ToAbslStatus(it->status(), "scanning postings");
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ReadLabels(ro, tenant, ids, {}, out);
}

absl::Status PostingsReader::LabelNames(const rocksdb::ReadOptions& ro, std::string_view tenant,
                                        int64_t start_day, int64_t end_day,
                                        std::set<std::string>* out) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(ro, db_->cf(families_.postings)));
  auto days = ListDays(it.get(), tenant, start_day, end_day);
  if (!days.ok()) return days.status();
  for (int64_t day : *days) {
    auto s = SkipScan(it.get(), PostingsDayPrefix(tenant, day), 3, [&](const PostingKeyParts& parts) {
      out->emplace(parts.name);
      return PostingsNamePrefix(tenant, day, parts.name);
    });
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status PostingsReader::LabelValues(const rocksdb::ReadOptions& ro, std::string_view tenant,
                                         std::string_view name, int64_t start_day,
                                         int64_t end_day, std::set<std::string>* out) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(ro, db_->cf(families_.postings)));
  auto days = ListDays(it.get(), tenant, start_day, end_day);
  if (!days.ok()) return days.status();
  for (int64_t day : *days) {
    auto s = SkipScan(it.get(), PostingsNamePrefix(tenant, day, name), 4,
                      [&](const PostingKeyParts& parts) {
                        out->emplace(parts.value);
                        return PostingsValuePrefix(tenant, day, name, parts.value);
                      });
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<int64_t>> PostingsReader::Days(const rocksdb::ReadOptions& ro,
                                                          std::string_view tenant,
                                                          int64_t start_day,
                                                          int64_t end_day) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(ro, db_->cf(families_.postings)));
  return ListDays(it.get(), tenant, start_day, end_day);
}

absl::Status PostingsReader::DayPairs(
    const rocksdb::ReadOptions& ro, std::string_view tenant, int64_t day,
    absl::FunctionRef<void(std::string_view name, std::string_view value)> visit) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(ro, db_->cf(families_.postings)));
  return SkipScan(it.get(), PostingsDayPrefix(tenant, day), 4, [&](const PostingKeyParts& parts) {
    visit(parts.name, parts.value);
    return PostingsValuePrefix(tenant, day, parts.name, parts.value);
  });
}

}  // namespace otelbox::storage
