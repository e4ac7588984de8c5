#pragma once
// Reading a label index's day-partitioned postings (storage/FORMAT.md "Series and
// postings"): matchers -> ids with their label sets, label names, label values. Shared by
// the metric store (series) and the log store (streams).

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "storage/db.h"
#include "storage/index/label_index.h"
#include "storage/model/labels.h"
#include "storage/model/matcher.h"

namespace rocksdb {
struct ReadOptions;
}  // namespace rocksdb

namespace otelbox::storage {

// True when some matcher does not match the empty string (it selects by a postings scan).
bool HasNonEmptyMatcher(const std::vector<Matcher>& matchers);
// Every matcher accepts the set's value of its label ("" when absent).
bool MatchesAll(const std::vector<Matcher>& matchers, const Labels& labels);

// Stateless apart from its arguments; thread-safe. `db` (and `cache`) outlive it.
class PostingsReader {
 public:
  // `cache`, when given, is the LabelIndex of these families: label sets it holds are
  // taken from memory instead of the by-id family.
  PostingsReader(Database* db, LabelIndexFamilies families, const LabelIndex* cache = nullptr)
      : db_(db), families_(families), cache_(cache) {}

  // Ids and label sets of `tenant` matching every matcher with postings in a day of
  // [start_day, end_day]. `matchers` must contain a non-empty matcher (HasNonEmptyMatcher);
  // the others are applied to the full label set read from the by-id family.
  absl::Status Match(const rocksdb::ReadOptions& ro, std::string_view tenant,
                     const std::vector<Matcher>& matchers, int64_t start_day, int64_t end_day,
                     std::map<uint64_t, Labels>* out) const;

  // Every id with postings in the days, with its label set (no matcher needed).
  absl::Status All(const rocksdb::ReadOptions& ro, std::string_view tenant, int64_t start_day,
                   int64_t end_day, std::map<uint64_t, Labels>* out) const;

  // Distinct label names / values of `name` in the days: one Seek per distinct name or
  // value, however many ids it holds.
  absl::Status LabelNames(const rocksdb::ReadOptions& ro, std::string_view tenant,
                          int64_t start_day, int64_t end_day, std::set<std::string>* out) const;
  absl::Status LabelValues(const rocksdb::ReadOptions& ro, std::string_view tenant,
                           std::string_view name, int64_t start_day, int64_t end_day,
                           std::set<std::string>* out) const;

  // The day partitions of `tenant` with postings within [start_day, end_day]: one Seek per
  // existing day.
  absl::StatusOr<std::vector<int64_t>> Days(const rocksdb::ReadOptions& ro, std::string_view tenant,
                                            int64_t start_day, int64_t end_day) const;
  // Every distinct (name, value) of one day's postings, in key order: one Seek each.
  absl::Status DayPairs(const rocksdb::ReadOptions& ro, std::string_view tenant, int64_t day,
                        absl::FunctionRef<void(std::string_view name, std::string_view value)>
                            visit) const;

 private:
  absl::Status ReadLabels(const rocksdb::ReadOptions& ro, std::string_view tenant,
                          const std::vector<uint64_t>& ids, const std::vector<Matcher>& matchers,
                          std::map<uint64_t, Labels>* out) const;

  Database* db_;
  LabelIndexFamilies families_;
  const LabelIndex* cache_;
};

}  // namespace otelbox::storage
