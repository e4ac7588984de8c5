#pragma once
// Reads LogQL test scripts: Loki's `*.logqltest` files (../shared/conformance/logql/FORMAT.md)
// and our own tests/testdata/logql/*.logqltest, which use the same format plus log-query
// evals (not in upstream's format):
//
//   eval logs from <t0> to <t1> [limit <n>] [direction forward|backward] <log query>
//     {final labels} <t> "line"            one expected entry per line, in result order
//     {final labels} <t> "line" metadata {a="1"} parsed {b="2"}   (categorized labels)
//     expect empty | expect fail [msg: ...]
//
// Times are Go durations after the fixed epoch 2026-01-01T00:00:00Z.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/model/labels.h"
#include "storage/model/log_entry.h"

namespace otelbox::conformance::logqltest {

inline constexpr int64_t kEpochNs = 1767225600LL * 1'000'000'000;  // 2026-01-01T00:00:00Z

using LabelList = std::vector<storage::Label>;  // sorted, empty values kept

struct LoadEntry {
  storage::Labels stream;  // canonical (sorted, empty values dropped)
  storage::LogEntry entry;
};

struct ExpectedSeries {
  LabelList labels;
  std::vector<std::optional<double>> values;  // nullopt = `_` (no point at this step)
};

struct ExpectedEntry {
  LabelList labels;
  int64_t t_ns = 0;
  std::string line;
  std::optional<LabelList> metadata;  // checked only when given
  std::optional<LabelList> parsed;
};

struct Eval {
  int line = 0;  // 1-based line of the eval header
  std::string query;
  enum class Kind { kInstant, kRange, kLogs } kind = Kind::kInstant;
  int64_t start_ns = 0, end_ns = 0, step_ns = 0;  // absolute (epoch added)
  int64_t limit = 1000;
  bool backward = false;
  // Expectations: exactly one of these kinds.
  enum class Expect { kSeries, kScalar, kEmpty, kFail, kEntries } expect = Expect::kSeries;
  bool ordered = false;
  std::vector<ExpectedSeries> series;
  double scalar = 0;
  std::string fail_msg;    // substring
  std::string fail_regex;  // unanchored regex
  std::vector<ExpectedEntry> entries;
};

// A script is a list of steps: a clear, a load (entries to add), or an eval.
struct Step {
  enum class Kind { kClear, kLoad, kEval } kind = Kind::kEval;
  std::vector<LoadEntry> load;
  Eval eval;
};

struct Script {
  std::vector<Step> steps;
  std::vector<std::string> errors;  // "line N: message" for lines that could not be read
};

Script ParseScript(const std::string& text);

// Go duration ("1m30s", "500ms", "0s") in ns.
absl::StatusOr<int64_t> ParseScriptDuration(std::string_view s);

}  // namespace otelbox::conformance::logqltest
