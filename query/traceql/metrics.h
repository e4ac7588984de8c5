#pragma once
// TraceQL metrics (Tempo's engine_metrics.go): a first stage turns the spans a pipeline
// matched into series over aligned step intervals (rate, count_over_time,
// {min,max,sum,avg}_over_time, quantile_over_time, histogram_over_time, with by()); second
// stages (topk/bottomk, comparisons, scalar arithmetic) and math between queries work on
// the series. Durations are measured in seconds, as Tempo reports them.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "query/traceql/ast.h"
#include "query/traceql/evaluator.h"
#include "storage/model/span.h"

namespace otelbox::query::traceql {

// Step intervals of a query: [aligned_start + i*step, aligned_start + (i+1)*step).
struct Intervals {
  uint64_t start_ns = 0;  // requested range (inclusive), on span start times
  uint64_t end_ns = 0;
  uint64_t aligned_start_ns = 0;
  uint64_t step_ns = 1;
  size_t count = 1;
  bool instant = false;

  // Range queries align to multiples of step (as Tempo); instant queries use one interval.
  static Intervals Make(uint64_t start_ns, uint64_t end_ns, uint64_t step_ns, bool instant);
  // -1 when ts is outside [start_ns, end_ns].
  int64_t IndexOf(uint64_t ts_ns) const;
  // Tempo stamps an interval with its end (instant queries: the range end).
  int64_t TimestampMs(size_t i) const {
    if (instant) return static_cast<int64_t>(end_ns / 1000000);
    return static_cast<int64_t>((aligned_start_ns + (i + 1) * step_ns) / 1000000);
  }
};

struct SeriesExemplar {
  std::string trace_id_hex;
  std::string span_id_hex;
  double value = 0;
  int64_t timestamp_ms = 0;
};

// One series while evaluating: a dense value per interval (NaN = no value).
struct DenseSeries {
  std::vector<storage::KeyValue> labels;
  std::vector<double> values;
  std::vector<SeriesExemplar> exemplars;
};

// Turns the spans a query's pipeline matched into series.
class SpanAccumulator {
 public:
  virtual ~SpanAccumulator() = default;
  // One matched span of `trace` (each span at most once per trace).
  virtual void Observe(const Evaluator& eval, const TraceView& trace, uint32_t span) = 0;
  virtual std::vector<DenseSeries> Finish() const = 0;
  virtual int64_t series_count() const = 0;
};

// rate, count_over_time, *_over_time, quantile_over_time, histogram_over_time.
class FirstStageAccumulator : public SpanAccumulator {
 public:
  FirstStageAccumulator(const MetricsFirstStage& stage, const Intervals& intervals,
                        size_t max_exemplars);

  void Observe(const Evaluator& eval, const TraceView& trace, uint32_t span) override;
  std::vector<DenseSeries> Finish() const override;
  int64_t series_count() const override { return static_cast<int64_t>(series_.size()); }

 private:
  struct Acc {
    std::vector<storage::KeyValue> labels;
    std::vector<int64_t> count;
    std::vector<double> sum, min, max;
    std::vector<std::vector<double>> values;  // quantile_over_time only
    std::vector<SeriesExemplar> exemplars;
  };
  Acc& SeriesFor(std::string key, std::vector<storage::KeyValue> labels);

  const MetricsFirstStage& stage_;
  Intervals intervals_;
  size_t max_exemplars_;
  size_t exemplars_ = 0;
  std::map<std::string, Acc> series_;
};

// compare(filter, topN, start, end) (Tempo's MetricsCompare): counts every attribute value
// of the matched spans, split into the selection (spans the filter matches, within
// [start, end] when given) and the baseline (the rest). Series are
// {__meta_type="baseline"|"selection", <attr>=<value>} for the topN values of each attribute,
// {__meta_type="baseline_total"|"selection_total", <attr>=nil} per attribute, and
// {__meta_error="__too_many_values__", <attr>=nil} where values were cut.
class CompareAccumulator : public SpanAccumulator {
 public:
  CompareAccumulator(const MetricsFirstStage& stage, const Intervals& intervals);

  void Observe(const Evaluator& eval, const TraceView& trace, uint32_t span) override;
  std::vector<DenseSeries> Finish() const override;
  int64_t series_count() const override;

 private:
  struct Counts {
    storage::AttributeValue value;
    std::vector<double> counts;
  };
  struct Side {
    // attribute label -> value key -> counts
    std::map<std::string, std::map<std::string, Counts>> values;
    std::map<std::string, std::vector<double>> totals;
  };
  void Add(Side* side, const std::string& attr, storage::AttributeValue value, size_t idx);

  const MetricsFirstStage& stage_;
  Intervals intervals_;
  Side baseline_, selection_;
};

// Second stages in order (topk/bottomk, filters, scalar arithmetic).
void ApplySecondStages(const std::vector<SecondStage>& stages, std::vector<DenseSeries>* series);

// lhs op rhs, series matched by labels without __name__.
std::vector<DenseSeries> ApplyMath(Op op, const std::vector<DenseSeries>& lhs,
                                   const std::vector<DenseSeries>& rhs);

// The label value Tempo gives a by() result.
storage::AttributeValue LabelValue(const Value& v);

}  // namespace otelbox::query::traceql
