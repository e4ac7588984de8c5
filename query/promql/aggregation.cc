// Aggregation operators, as Prometheus' engine.go aggregation()/aggregationK(): grouping
// labels, Kahan-compensated sums, the overflow-safe mean, Welford variance, topk/bottomk
// heaps (NaN is the smallest value for topk and the largest for bottomk).

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "query/promql/evaluator.h"

namespace otelbox::query::promql {
namespace {

bool Contains(const std::vector<std::string>& names, std::string_view n) {
  for (const auto& x : names) {
    if (x == n) return true;
  }
  return false;
}

storage::Labels GroupLabels(const storage::Labels& labels, const AggregateExpr& a) {
  std::vector<storage::Label> out;
  for (const auto& l : labels) {
    bool listed = Contains(a.grouping, l.name);
    if (a.without ? (!listed && l.name != storage::kMetricNameLabel) : listed) out.push_back(l);
  }
  return storage::Labels(std::move(out));
}

struct Group {
  storage::Labels labels;
  double value = 0;
  double kahan_c = 0;
  double mean = 0;
  double count = 0;
  bool incremental_mean = false;
  bool drop_name = false;  // any input still carries a name due for delayed removal
  std::vector<double> values;                      // quantile
  std::vector<std::pair<double, uint32_t>> heap;   // topk/bottomk/limitk: (value, series)
};

// topk keeps the k largest: heap top is the smallest, NaN counts as smallest.
bool TopkLess(double a, double b) { return a < b || (std::isnan(a) && !std::isnan(b)); }
// bottomk keeps the k smallest: heap top is the largest, NaN counts as largest.
bool BottomkLess(double a, double b) { return a > b || (std::isnan(a) && !std::isnan(b)); }

void Accumulate(const std::string& op, Group* g, double f, bool first) {
  if (first) {
    g->count = 1;
    g->value = f;
    g->mean = f;
    g->kahan_c = 0;
    if (op == "stddev" || op == "stdvar") {
      // A NaN or ±Inf input makes the variance NaN, even for a lone sample.
      g->value = std::isfinite(f) ? 0 : std::numeric_limits<double>::quiet_NaN();
    }
    if (op == "group") g->value = 1;
    if (op == "quantile") g->values.push_back(f);
    return;
  }
  if (op == "sum") {
    g->value = KahanSumInc(f, g->value, &g->kahan_c);
  } else if (op == "avg") {
    g->count++;
    if (!g->incremental_mean) {
      double c = g->kahan_c;
      double nv = KahanSumInc(f, g->value, &c);
      if (!std::isinf(nv)) {
        g->value = nv;
        g->kahan_c = c;
        return;
      }
      // The sum would overflow: continue with an incremental mean.
      g->incremental_mean = true;
      g->mean = g->value / (g->count - 1);
      g->kahan_c /= g->count - 1;
    }
    if (std::isinf(g->mean)) {
      if (std::isinf(f) && (g->mean > 0) == (f > 0)) return;
      if (!std::isinf(f) && !std::isnan(f)) return;
    }
    double current = g->mean + g->kahan_c;
    g->mean = KahanSumInc(f / g->count - current / g->count, g->mean, &g->kahan_c);
  } else if (op == "count") {
    g->count++;
  } else if (op == "max") {
    if (g->value < f || std::isnan(g->value)) g->value = f;
  } else if (op == "min") {
    if (g->value > f || std::isnan(g->value)) g->value = f;
  } else if (op == "stddev" || op == "stdvar") {
    g->count++;
    double delta = f - g->mean;
    g->mean += delta / g->count;
    g->value += delta * (f - g->mean);
  } else if (op == "quantile") {
    g->values.push_back(f);
  }
}

double Finish(const std::string& op, Group* g, double param) {
  if (op == "sum") return g->value + g->kahan_c;
  if (op == "avg") {
    if (g->incremental_mean) return g->mean + g->kahan_c;
    return (g->value + g->kahan_c) / g->count;
  }
  if (op == "count") return g->count;
  if (op == "stdvar") return g->value / g->count;
  if (op == "stddev") return std::sqrt(g->value / g->count);
  if (op == "quantile") return Quantile(param, std::move(g->values));
  return g->value;  // min, max, group
}

}  // namespace

EvalValue Evaluator::EvalAggregate(const AggregateExpr& a) {
  const std::string& op = a.op;
  bool is_k = op == "topk" || op == "bottomk" || op == "limitk";
  if ((op == "limitk" || op == "limit_ratio") && !ctx_->options->enable_experimental) {
    ThrowInvalid(op + "() is experimental and must be enabled with "
                 "--enable-feature=promql-experimental-functions");
  }
  if (op == "limit_ratio") ThrowUnsupported("aggregation \"limit_ratio\" is not supported yet");

  EvalValue param;
  std::string value_label;
  if (a.param) {
    param = Eval(*a.param);
    if (op == "count_values") {
      if (param.type != ValueType::kString) ThrowInvalid("count_values needs a string parameter");
      value_label = param.str;
      if (value_label.empty()) ThrowExecution("invalid label name \"\"");
    } else if (param.type != ValueType::kScalar) {
      ThrowInvalid(op + " needs a scalar parameter");
    }
  }
  if (is_k && param.type == ValueType::kScalar && !param.scalars.empty()) {
    // As Prometheus' rangeEvalAgg, over the parameter's values at every step: nothing
    // when all k < 1, else a NaN or out-of-int64 k anywhere is an error.
    double max = param.scalars[0], min = param.scalars[0];
    bool nan = false;
    for (double p : param.scalars) {
      if (std::isnan(p)) nan = true;
      max = std::isnan(max) || std::isnan(p) ? std::nan("") : std::max(max, p);
      min = std::isnan(min) || std::isnan(p) ? std::nan("") : std::min(min, p);
    }
    if (max < 1) {
      EvalValue out;
      out.type = ValueType::kVector;
      return out;
    }
    if (nan) ThrowExecution("Parameter value is NaN");
    if (min <= -9.2e18) ThrowExecution("Scalar value " + FormatValue(min) + " underflows int64");
    if (max >= 9.2e18) ThrowExecution("Scalar value " + FormatValue(max) + " overflows int64");
  }
  EvalValue in = Eval(*a.expr);
  std::vector<StepVector> steps = ByStep(in);

  // Group of each input series (count_values groups per element instead).
  std::vector<int> group_of(in.series.size());
  std::vector<storage::Labels> group_labels;
  if (op != "count_values") {
    std::map<storage::Labels, int> ids;
    for (size_t i = 0; i < in.series.size(); ++i) {
      storage::Labels gl = GroupLabels(in.series[i].labels, a);
      auto [it, inserted] = ids.try_emplace(gl, static_cast<int>(group_labels.size()));
      if (inserted) group_labels.push_back(std::move(gl));
      group_of[i] = it->second;
    }
  }

  SeriesBuilder builder(steps_);
  std::vector<Group> groups(group_labels.size());
  std::vector<char> seen(group_labels.size());
  for (size_t step = 0; step < steps_.count; ++step) {
    ctx_->CheckDeadline();
    const StepVector& vec = steps[step];
    if (vec.empty()) continue;
    double p = param.type == ValueType::kScalar ? param.scalars[step] : 0;

    if (op == "count_values") {
      std::map<storage::Labels, size_t> index;
      std::vector<std::pair<storage::Labels, double>> out;
      for (const auto& e : vec) {
        std::vector<storage::Label> ls = in.series[e.series].labels.items();
        ls.push_back({value_label, FormatValue(e.v)});
        storage::Labels with_value(std::move(ls));
        AggregateExpr by = {};
        by.without = a.without;
        by.grouping = a.grouping;
        if (!a.without) by.grouping.push_back(value_label);
        storage::Labels gl = GroupLabels(with_value, by);
        auto [it, inserted] = index.try_emplace(gl, out.size());
        if (inserted) out.push_back({gl, 0});
        out[it->second].second += 1;
      }
      for (auto& [labels, n] : out) builder.Add(step, labels, n);
      continue;
    }

    int64_t k = 0;
    if (is_k) {
      if (std::isnan(p) || p >= 9.2e18 || p <= -9.2e18) {
        ThrowExecution("Scalar value " + FormatValue(p) + " overflows int64");
      }
      k = static_cast<int64_t>(p);
      if (k < 1) continue;
    }
    if (op == "quantile" && (std::isnan(p) || p < 0 || p > 1)) {
      ctx_->Warn("PromQL warning: quantile value should be between 0 and 1, got " +
                     FormatValue(p), a.param->pos);
    }

    std::vector<int> order;  // groups in order of first appearance
    for (const auto& e : vec) {
      int gi = group_of[e.series];
      Group& g = groups[gi];
      bool first = !seen[gi];
      if (first) {
        seen[gi] = 1;
        order.push_back(gi);
        g = Group{};
      }
      if (is_k) {
        auto less = op == "topk" ? TopkLess : BottomkLess;
        auto cmp = [&](const auto& x, const auto& y) { return !less(x.first, y.first); };
        if (static_cast<int64_t>(g.heap.size()) < k) {
          g.heap.push_back({e.v, e.series});
          if (op != "limitk") std::push_heap(g.heap.begin(), g.heap.end(), cmp);
        } else if (op != "limitk" && less(g.heap.front().first, e.v)) {
          std::pop_heap(g.heap.begin(), g.heap.end(), cmp);
          g.heap.back() = {e.v, e.series};
          std::push_heap(g.heap.begin(), g.heap.end(), cmp);
        }
        continue;
      }
      Accumulate(op, &g, e.v, first);
      if (in.series[e.series].drop_name) g.drop_name = true;
    }
    for (int gi : order) {
      Group& g = groups[gi];
      seen[gi] = 0;
      if (is_k) {
        if (op != "limitk") {
          // Largest first for topk, smallest first for bottomk; NaN last.
          auto less = op == "topk" ? TopkLess : BottomkLess;
          std::stable_sort(g.heap.begin(), g.heap.end(),
                           [&](const auto& x, const auto& y) { return less(y.first, x.first); });
        }
        for (const auto& [v, si] : g.heap) {
          builder.Add(step, in.series[si].labels, v, in.series[si].drop_name);
        }
        continue;
      }
      builder.Add(step, group_labels[gi], Finish(op, &g, p), g.drop_name);
    }
  }
  EvalValue out;
  out.type = ValueType::kVector;
  out.series = builder.Take();
  return out;
}

}  // namespace otelbox::query::promql
