// Aggregation operators, as Prometheus' engine.go aggregation()/aggregationK(): grouping
// labels, Kahan-compensated sums, the overflow-safe mean, Welford variance, topk/bottomk
// heaps (NaN is the smallest value for topk and the largest for bottomk).

#include <algorithm>
#include <cstring>
#include <cmath>
#include <limits>
#include <map>
#include <optional>

#include "common/go_quote.h"
#include "common/utf8.h"
#include "query/promql/evaluator.h"
#include "query/promql/histogram_math.h"

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
  // sum/avg over native histograms (Prometheus' groupedAggregation).
  std::optional<HistogramKahanSum> hsum;   // sum, or avg before it would overflow
  std::optional<HistogramKahanSum> hmean;  // avg's incremental mean after that
  bool has_float = false;
  bool has_histogram = false;
  bool incompatible = false;
  bool histogram_incremental_mean = false;
  bool counter_reset_seen = false;
  bool not_counter_reset_seen = false;
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

namespace {

void TrackCounterReset(const storage::FloatHistogram& h, Group* g) {
  if (h.counter_reset_hint == storage::CounterResetHint::kCounterReset) g->counter_reset_seen = true;
  if (h.counter_reset_hint == storage::CounterResetHint::kNotCounterReset) {
    g->not_counter_reset_seen = true;
  }
}

// Only these aggregations look at histogram samples; the others ignore them with an info.
bool TakesHistograms(const std::string& op) {
  return op == "sum" || op == "avg" || op == "count" || op == "group" || op == "count_values" ||
         op == "limitk" || op == "limit_ratio";
}

}  // namespace

namespace {

// XXH64 with seed 0 (what Prometheus' labels.Hash uses, via cespare/xxhash).
uint64_t XxHash64(std::string_view data) {
  constexpr uint64_t kP1 = 11400714785074694791ULL, kP2 = 14029467366897019727ULL,
                     kP3 = 1609587929392839161ULL, kP4 = 9650029242287828579ULL,
                     kP5 = 2870177450012600261ULL;
  auto rotl = [](uint64_t x, int r) { return (x << r) | (x >> (64 - r)); };
  auto read64 = [](const char* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
  };
  auto read32 = [](const char* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return static_cast<uint64_t>(v);
  };
  auto round = [&](uint64_t acc, uint64_t input) {
    acc += input * kP2;
    acc = rotl(acc, 31);
    return acc * kP1;
  };
  auto merge = [&](uint64_t acc, uint64_t val) {
    acc ^= round(0, val);
    return acc * kP1 + kP4;
  };
  const char* p = data.data();
  const char* end = p + data.size();
  uint64_t h;
  if (data.size() >= 32) {
    uint64_t v1 = kP1 + kP2, v2 = kP2, v3 = 0, v4 = 0 - kP1;
    while (end - p >= 32) {
      v1 = round(v1, read64(p));
      v2 = round(v2, read64(p + 8));
      v3 = round(v3, read64(p + 16));
      v4 = round(v4, read64(p + 24));
      p += 32;
    }
    h = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18);
    h = merge(h, v1);
    h = merge(h, v2);
    h = merge(h, v3);
    h = merge(h, v4);
  } else {
    h = kP5;
  }
  h += data.size();
  while (end - p >= 8) {
    h ^= round(0, read64(p));
    h = rotl(h, 27) * kP1 + kP4;
    p += 8;
  }
  if (end - p >= 4) {
    h ^= read32(p) * kP1;
    h = rotl(h, 23) * kP2 + kP3;
    p += 4;
  }
  while (p < end) {
    h ^= static_cast<uint64_t>(static_cast<unsigned char>(*p)) * kP5;
    h = rotl(h, 11) * kP1;
    ++p;
  }
  h ^= h >> 33;
  h *= kP2;
  h ^= h >> 29;
  h *= kP3;
  h ^= h >> 32;
  return h;
}

// Prometheus' labels.Hash() (stringlabels layout: each name and value prefixed by its
// length, one byte below 255, else 255 and three little-endian bytes).
uint64_t LabelsHash(const storage::Labels& labels) {
  std::string data;
  auto put = [&](const std::string& s) {
    size_t n = s.size();
    if (n < 255) {
      data.push_back(static_cast<char>(n));
    } else {
      data.push_back(static_cast<char>(255));
      data.push_back(static_cast<char>(n & 0xff));
      data.push_back(static_cast<char>((n >> 8) & 0xff));
      data.push_back(static_cast<char>((n >> 16) & 0xff));
    }
    data += s;
  };
  for (const auto& l : labels) {
    put(l.name);
    put(l.value);
  }
  return XxHash64(data);
}

}  // namespace

// limit_ratio(r, v): each series is kept when its label hash, as a fraction of 2^64,
// is below r (r > 0) or at least 1 + r (r < 0): a stable sample (Prometheus'
// HashRatioSampler). Grouping does not change which series are kept.
EvalValue Evaluator::EvalLimitRatio(const AggregateExpr& a, const EvalValue& param) {
  EvalValue out;
  out.type = ValueType::kVector;
  double max = -INFINITY, min = INFINITY;
  for (double p : param.scalars) {
    if (std::isnan(p)) ThrowExecution("Ratio value is NaN");
    max = std::max(max, p);
    min = std::min(min, p);
  }
  if (param.scalars.empty() || (max == 0 && min == 0)) return out;
  if (max > 1) {
    ctx_->Warn("PromQL warning: ratio value should be between -1 and 1, got " + FormatValue(max) +
                   ", capping to 1", a.param->pos);
  }
  if (min < -1) {
    ctx_->Warn("PromQL warning: ratio value should be between -1 and 1, got " + FormatValue(min) +
                   ", capping to -1", a.param->pos);
  }
  EvalValue in = Eval(*a.expr);
  SeriesBuilder builder(steps_);
  for (auto& s : in.series) {
    double offset = static_cast<double>(LabelsHash(s.labels)) /
                    static_cast<double>(std::numeric_limits<uint64_t>::max());
    auto keep = [&](size_t step) {
      double r = std::clamp(param.scalars[step], -1.0, 1.0);
      if (r == 0) return false;
      return (r >= 0 && offset < r) || (r < 0 && offset >= 1.0 + r);
    };
    for (const auto& p : s.samples) {
      size_t step = steps_.Index(p.t_ms);
      if (keep(step)) builder.Add(step, s.labels, p.value, s.drop_name);
    }
    for (const auto& p : s.histograms) {
      size_t step = steps_.Index(p.t_ms);
      if (keep(step)) builder.AddHistogram(step, s.labels, p.h, s.drop_name);
    }
  }
  out.series = builder.Take();
  return out;
}

EvalValue Evaluator::EvalAggregate(const AggregateExpr& a, int32_t pos) {
  const std::string& op = a.op;
  bool is_k = op == "topk" || op == "bottomk" || op == "limitk";
  if ((op == "limitk" || op == "limit_ratio") && !ctx_->options->enable_experimental) {
    ThrowInvalid(op + "() is experimental and must be enabled with "
                 "--enable-feature=promql-experimental-functions");
  }

  EvalValue param;
  std::string value_label;
  if (a.param) {
    param = Eval(*a.param);
    if (op == "count_values") {
      if (param.type != ValueType::kString) ThrowInvalid("count_values needs a string parameter");
      value_label = param.str;
      if (value_label.empty() || !IsValidUtf8(value_label)) {
        ThrowExecution("invalid label name " + GoQuote(value_label));
      }
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
  if (op == "limit_ratio") return EvalLimitRatio(a, param);
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
        ls.push_back({value_label, e.h != nullptr ? HistogramString(*e.h) : FormatValue(e.v)});
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
      if (e.h != nullptr && !TakesHistograms(op)) {
        bool k_op = op == "topk" || op == "bottomk";
        ctx_->Info("PromQL info: ignored histogram in " + op + " aggregation",
                   k_op ? pos : a.expr->pos);
        continue;
      }
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
      if (in.series[e.series].drop_name) g.drop_name = true;
      if (op == "sum" || op == "avg") {
        if (first) {
          if (e.h != nullptr) {
            g.count = 1;
            g.hsum.emplace(*e.h);
            g.has_histogram = true;
            TrackCounterReset(*e.h, &g);
          } else {
            g.has_float = true;
            Accumulate(op, &g, e.v, true);
          }
          continue;
        }
        if (g.incompatible) continue;
        if (e.h == nullptr) {
          g.has_float = true;
          Accumulate(op, &g, e.v, false);
          continue;
        }
        if (op == "avg") g.count++;
        g.has_histogram = true;
        if (!g.hsum) continue;  // the group started with a float: a mix, reported below
        TrackCounterReset(*e.h, &g);
        HistogramOpNotes notes;
        bool ok = true;
        if (op == "sum") {
          ok = g.hsum->Add(*e.h, &notes);
        } else if (!g.histogram_incremental_mean) {
          HistogramKahanSum next = *g.hsum;
          ok = next.Add(*e.h, &notes);
          if (ok && !next.HasOverflow()) {
            g.hsum = std::move(next);
          } else if (ok) {
            // The sum would overflow: continue with an incremental mean.
            g.histogram_incremental_mean = true;
            g.hmean = *g.hsum;
            g.hmean->Div(g.count - 1);
          }
        }
        if (ok && op == "avg" && g.histogram_incremental_mean) {
          double q = (g.count - 1) / g.count;
          storage::FloatHistogram add = *e.h;
          HistogramDiv(&add, g.count);
          g.hmean->Mul(q);
          ok = g.hmean->Add(add, &notes);
        }
        if (!ok) {
          ctx_->Warn("PromQL warning: vector contains a mix of histograms with exponential and "
                     "custom buckets schemas for metric name \"" +
                         MetricNameOf(in.series[e.series].labels) + "\"",
                     a.expr->pos);
          g.incompatible = true;
        }
        if (notes.custom_bounds_reconciled) {
          ctx_->Info("PromQL info: mismatched custom buckets were reconciled during aggregation",
                     a.expr->pos);
        }
        continue;
      }
      Accumulate(op, &g, e.v, first);
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
          const auto& hs = in.series[si].histograms;
          int64_t t = steps_.At(step);
          auto hit = std::lower_bound(
              hs.begin(), hs.end(), t,
              [](const storage::HistogramSample& x, int64_t r) { return x.t_ms < r; });
          if (hit != hs.end() && hit->t_ms == t) {
            builder.AddHistogram(step, in.series[si].labels, hit->h, in.series[si].drop_name);
          } else {
            builder.Add(step, in.series[si].labels, v, in.series[si].drop_name);
          }
        }
        continue;
      }
      if (op == "sum" || op == "avg") {
        if (g.has_float && g.has_histogram) {
          ctx_->Warn("PromQL warning: encountered a mix of histograms and floats for aggregation",
                     a.expr->pos);
          continue;
        }
        if (g.counter_reset_seen && g.not_counter_reset_seen) {
          ctx_->Warn("PromQL warning: conflicting counter resets during histogram aggregation",
                     a.expr->pos);
        }
        if (g.incompatible) continue;
        if (g.has_histogram) {
          storage::FloatHistogram h;
          if (g.histogram_incremental_mean) {
            h = g.hmean->Result();
          } else {
            if (op == "avg") g.hsum->Div(g.count);
            h = g.hsum->Result();
          }
          HistogramCompact(&h);
          builder.AddHistogram(step, group_labels[gi], std::move(h), g.drop_name);
          continue;
        }
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
