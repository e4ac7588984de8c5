#pragma once
// The PromQL evaluator's internals, shared by evaluator.cc, binary_op.cc,
// aggregation.cc and functions_*.cc. Not part of the engine's public surface.
//
// Evaluation follows Prometheus' engine.go: every node is evaluated once over all the
// steps of the (sub)query, producing a value per step; instant vectors are a list of
// series whose samples sit at step times. Selectors read storage once per query (a
// pre-pass computes each selector's whole time range) and are then sliced per step.

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "query/common/value.h"
#include "query/promql/ast.h"
#include "query/promql/engine.h"
#include "storage/querier.h"

namespace otelbox::query::promql {

// Thrown inside the evaluator only, caught at the Engine's entry (STYLE.md 3.3).
struct EvalError {
  absl::Status status;
};
[[noreturn]] void ThrowInvalid(std::string message);      // bad query (400)
[[noreturn]] void ThrowExecution(std::string message);    // evaluation error (422)
[[noreturn]] void ThrowUnsupported(std::string message);  // Unimplemented

int64_t SatSub(int64_t a, int64_t b);
int64_t SatAdd(int64_t a, int64_t b);

// The evaluation steps: start, start+step, ..., an instant query is one step.
struct Steps {
  int64_t start_ms = 0;
  int64_t step_ms = 0;
  size_t count = 1;
  int64_t At(size_t i) const { return start_ms + static_cast<int64_t>(i) * step_ms; }
  int64_t end_ms() const { return At(count - 1); }
  size_t Index(int64_t t_ms) const {
    return step_ms == 0 ? 0 : static_cast<size_t>((t_ms - start_ms) / step_ms);
  }
};

// One series of an evaluated value. `drop_name` is Prometheus' delayed name removal:
// the name stays for later operators to see and is removed when evaluation ends.
struct Series {
  storage::Labels labels;
  std::vector<storage::Sample> samples;
  // Native histogram points, ascending; a step/timestamp is in at most one of the two.
  std::vector<storage::HistogramSample> histograms;
  bool drop_name = false;
};

struct EvalValue {
  ValueType type = ValueType::kNone;
  std::vector<double> scalars;  // kScalar: one per step
  std::string str;              // kString
  std::vector<Series> series;   // kVector: samples at step times; kMatrix: raw samples
};

// One element of an instant vector at one step.
struct Elem {
  uint32_t series;  // index into the EvalValue's series
  double v;
  const storage::FloatHistogram* h = nullptr;  // set for a histogram point (then v is 0)
};
using StepVector = std::vector<Elem>;

// Merges series that ended up with equal labels (after a name was dropped); two of
// them with a value at the same step is Prometheus' "vector cannot contain metrics with
// the same labelset". Keeps the order of first occurrence.
void MergeSameLabels(std::vector<Series>* series);

// Labels without __name__ (and the metadata labels __type__/__unit__ that go with it).
storage::Labels DropMetricName(const storage::Labels& labels);
bool IsNameLabel(std::string_view name);

// Per-query state shared by the evaluators of a query and its subqueries.
struct QueryContext {
  storage::SeriesQuerier* querier = nullptr;
  const EngineOptions* options = nullptr;
  std::string_view tenant;
  int64_t start_ms = 0;  // the query's start/end, for @ start() / @ end()
  int64_t end_ms = 0;
  int64_t step_ms = 0;  // the query's resolution, 0 for instant queries (step())
  std::chrono::steady_clock::time_point deadline;
  int64_t loaded_samples = 0;
  std::map<const VectorSelector*, std::vector<storage::SeriesData>> selected;
  // Selectors read only by histogram_count/sum/avg: Prometheus decodes them with its
  // HistogramStatsIterator, which turns "unknown" counter-reset hints into detected ones.
  std::set<const VectorSelector*> stats_decoding;
  std::string_view query;  // the query text, for annotation positions
  std::vector<std::string> warnings;
  std::vector<std::string> infos;
  uint32_t deadline_counter = 0;

  // Adds an annotation ending in the position of the expression it is about, as
  // Prometheus does: "PromQL warning: ... (line:column)", both 1-based.
  void Warn(std::string message, int32_t pos);
  void Info(std::string message, int32_t pos);
  std::string Position(int32_t pos) const;

  void CheckDeadline();
  void CheckDeadlineNow();
  // Adds `n` samples held by an intermediate result to the loaded ones and checks the limit.
  void CheckSamples(int64_t n) const;
  int64_t AtTime(const AtModifier& at) const;
};

// Collects per-step output elements into series (Prometheus' rangeEval bookkeeping):
// an output labelset seen twice at the same step is an error.
class SeriesBuilder {
 public:
  explicit SeriesBuilder(const Steps& steps) : steps_(steps) {}
  void Add(size_t step, const storage::Labels& labels, double v, bool drop_name = false);
  void AddHistogram(size_t step, const storage::Labels& labels, storage::FloatHistogram h,
                    bool drop_name = false);
  // A float (h == nullptr) or a histogram point.
  void AddPoint(size_t step, const storage::Labels& labels, double v,
                const storage::FloatHistogram* h, bool drop_name = false) {
    if (h != nullptr) {
      AddHistogram(step, labels, *h, drop_name);
    } else {
      Add(step, labels, v, drop_name);
    }
  }
  std::vector<Series> Take() { return std::move(out_); }

 private:
  Series& Slot(size_t step, const storage::Labels& labels, bool drop_name);

  const Steps& steps_;
  std::map<storage::Labels, size_t> index_;
  std::vector<Series> out_;
};

class Evaluator {
 public:
  Evaluator(QueryContext* ctx, Steps steps) : ctx_(ctx), steps_(steps) {}

  EvalValue Eval(const Expr& e);
  const Steps& steps() const { return steps_; }
  QueryContext* ctx() const { return ctx_; }

  // Splits an instant vector into its elements per step.
  std::vector<StepVector> ByStep(const EvalValue& v) const;
  // Removes __name__ now, or marks it for removal at the end (delayed name removal).
  void DropName(Series* s) const;
  bool delayed_names() const { return ctx_->options->enable_delayed_name_removal; }

  EvalValue EvalBinary(const BinaryExpr& b);        // binary_op.cc
  // `pos`: where the aggregation starts (annotations of topk/bottomk point there).
  EvalValue EvalAggregate(const AggregateExpr& a, int32_t pos);  // aggregation.cc
  EvalValue EvalLimitRatio(const AggregateExpr& a, const EvalValue& param);
  EvalValue EvalCall(const Call& c);                // functions.cc
  EvalValue EvalRangeFunction(const Call& c);       // functions_range.cc
  // histogram_quantile and histogram_fraction over classic buckets (functions_histogram.cc).
  // histogram_quantiles too (one histogram_quantile per φ).
  EvalValue EvalHistogramQuantile(const Call& c);
  // histogram_quantile (upper == nullptr) or histogram_fraction(q, *upper, v).
  EvalValue QuantileOver(const EvalValue& q, const EvalValue* upper, const EvalValue& v,
                         int32_t input_pos, int32_t q_pos);
  // histogram_count/sum/avg/stddev/stdvar over native histograms (functions_histogram.cc).
  EvalValue EvalHistogramFunction(const Call& c);
  EvalValue EvalLabelFunction(const Call& c);       // functions_label.cc

  // A range-vector argument, loaded once and sliced per step.
  struct RangeSource {
    std::vector<Series> series;  // raw samples (no stale markers), ascending
    int64_t range_ms = 0;
    int64_t offset_ms = 0;
    std::optional<int64_t> at_ms;
    bool is_selector = false;
    // Window end for the evaluation time t: ((@ or t) - offset).
    int64_t Ref(int64_t t_ms) const { return SatSub(at_ms.value_or(t_ms), offset_ms); }
  };
  RangeSource EvalRangeSource(const Expr& e);
  RangeSource SelectorSource(const MatrixSelector& ms);

  // Instant vector selector; with `timestamps`, values are the samples' times in seconds.
  EvalValue EvalVectorSelector(const VectorSelector& vs, bool timestamps = false);

 private:
  EvalValue EvalUnary(const UnaryExpr& u);
  EvalValue EvalMatrixSelector(const MatrixSelector& ms);
  EvalValue EvalSubqueryTop(const SubqueryExpr& sq);
  std::vector<Series> EvalSubquerySeries(const SubqueryExpr& sq, int64_t* eval_start);

  QueryContext* ctx_;
  Steps steps_;
};

// Loads every selector of `expr` once over the whole range it will be read at.
void PreloadSelectors(const Expr& expr, QueryContext* ctx);

// The __name__ of a series ("" when it has none), for annotations.
std::string MetricNameOf(const storage::Labels& labels);

// Prometheus' Kahan-Neumaier step: returns the new sum, updates *c.
double KahanSumInc(double inc, double sum, double* c);
// Prometheus' quantile over (unsorted) values; NaN for none.
double Quantile(double q, std::vector<double> values);
// strconv.FormatFloat(v, 'f', -1, 64).
std::string FormatValue(double v);

}  // namespace otelbox::query::promql
