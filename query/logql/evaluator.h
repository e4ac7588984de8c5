#pragma once
// The LogQL evaluator's internals (not part of the engine's public surface), shared by
// evaluator.cc (metric queries), log_query.cc (log queries) and engine.cc.
//
// Metric queries follow Loki's step evaluators: every node yields one vector per step.
// A range aggregation scans its selector's streams once over the whole query range, runs
// the pipeline on every entry, turns passing entries into samples (1, the line's bytes or
// the unwrapped value) keyed by their labels, and then slides the (T - range, T] window
// over each series. Label sets are interned per query so step vectors hold small ids.

#include <chrono>
#include <cstdint>
#include <map>
#include <unordered_map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "query/logql/ast.h"
#include "query/logql/engine.h"
#include "query/logql/result.h"
#include "query/logql/scan_pool.h"
#include "storage/log_querier.h"

namespace otelbox::query::logql {

// Thrown inside the evaluator only, caught at the engine's entry (STYLE.md 3.3).
struct EvalError {
  absl::Status status;
};
[[noreturn]] void ThrowStatus(absl::Status s);
// After a parallel scan: throws the first error in scan order that is not a timeout (a
// timeout elsewhere may have stopped later streams early), else the first timeout.
void ThrowFirstError(std::vector<absl::Status>* errors);

// Interned label sets of one query; each set is stored once (hash nodes are stable).
class LabelTable {
 public:
  uint32_t Intern(const LabelList& labels);
  const LabelList& Get(uint32_t id) const { return *sets_[id]; }
  size_t size() const { return sets_.size(); }

 private:
  struct Hash {
    size_t operator()(const LabelList& l) const;
  };
  std::vector<const LabelList*> sets_;
  std::unordered_map<LabelList, uint32_t, Hash> index_;
};

struct Sample {
  uint32_t labels;
  double v;
};
using StepVector = std::vector<Sample>;

// Evaluation steps: start, start+step, ... ; an instant query is one step.
struct Steps {
  int64_t start_ns = 0;
  int64_t step_ns = 0;
  size_t count = 1;
  int64_t At(size_t i) const { return start_ns + static_cast<int64_t>(i) * step_ns; }
};

struct EvalContext {
  storage::LogQuerier* querier = nullptr;
  ScanPool* pool = nullptr;  // scans streams concurrently (scan_pool.h); never null in Engine
  std::string_view tenant;
  const EngineOptions* options = nullptr;
  QueryStats* stats = nullptr;
  std::chrono::steady_clock::time_point deadline;
  bool instant = false;
  LabelTable labels;
  int64_t held_samples = 0;
  // What the store decoded for this query (bytes/lines processed in Loki's stats).
  storage::LogScanStats scan_stats;
  uint32_t deadline_counter = 0;

  void CheckDeadline();
  void HoldSamples(int64_t n);
};

// Evaluates a metric expression: one StepVector per step.
std::vector<StepVector> EvalMetric(const Expr& e, const Steps& steps, EvalContext* ctx);

// Evaluates a log query into streams (log_query.cc).
Streams EvalLogQuery(const LogSelectorExpr& sel, const QueryParams& params, EvalContext* ctx);

// Loki's pipeline error for a sample whose labels carry __error__.
absl::Status PipelineError(const LabelList& labels);

// Go regexp.Expand for label_replace: $1, ${1}, $name, ${name}, $$.
std::string ExpandTemplate(std::string_view tmpl, const std::vector<std::string_view>& groups,
                           const std::map<std::string, int>& names);

}  // namespace otelbox::query::logql
