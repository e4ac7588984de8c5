// Functions over range vectors (rate, increase, delta, *_over_time, deriv, ...), as
// Prometheus' functions.go. Each series' window at step t is (ref - range, ref] with
// ref = (@ or t) - offset; the range argument is loaded or evaluated once.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <span>

#include "query/promql/evaluator.h"
#include "query/promql/histogram_math.h"

namespace otelbox::query::promql {
namespace {

using Window = std::span<const storage::Sample>;
using HWindow = std::span<const storage::HistogramSample>;
using storage::CounterResetHint;

// Prometheus' extrapolatedRate.
std::optional<double> ExtrapolatedRate(Window w, int64_t range_start, int64_t range_end,
                                       int64_t range_ms, bool is_counter, bool is_rate) {
  if (w.size() < 2) return std::nullopt;
  double result = w.back().value - w.front().value;
  if (is_counter) {
    double last = 0;
    for (const auto& s : w) {
      if (s.value < last) result += last;
      last = s.value;
    }
  }
  double duration_to_start = static_cast<double>(w.front().t_ms - range_start) / 1000;
  double duration_to_end = static_cast<double>(range_end - w.back().t_ms) / 1000;
  double sampled_interval = static_cast<double>(w.back().t_ms - w.front().t_ms) / 1000;
  double avg_between = sampled_interval / static_cast<double>(w.size() - 1);
  double threshold = avg_between * 1.1;
  double extrapolate_to = sampled_interval;
  if (duration_to_start >= threshold) duration_to_start = avg_between / 2;
  if (is_counter && result > 0 && w.front().value >= 0) {
    // Counters can't go below zero: don't extrapolate past the zero point.
    double duration_to_zero = sampled_interval * (w.front().value / result);
    if (duration_to_zero < duration_to_start) duration_to_start = duration_to_zero;
  }
  extrapolate_to += duration_to_start;
  if (duration_to_end >= threshold) duration_to_end = avg_between / 2;
  extrapolate_to += duration_to_end;
  double factor = extrapolate_to / sampled_interval;
  if (is_rate) factor /= static_cast<double>(range_ms) / 1000;
  return result * factor;
}

// The extrapolation factor of Prometheus' extrapolatedRate for a window of `n` points
// from first_t to last_t whose first value (count for histograms) is `first` and whose
// increase is `result`.
double ExtrapolationFactor(int64_t first_t, int64_t last_t, size_t n, double first, double result,
                           int64_t range_start, int64_t range_end, int64_t range_ms,
                           bool is_counter, bool is_rate) {
  double duration_to_start = static_cast<double>(first_t - range_start) / 1000;
  double duration_to_end = static_cast<double>(range_end - last_t) / 1000;
  double sampled_interval = static_cast<double>(last_t - first_t) / 1000;
  double avg_between = sampled_interval / static_cast<double>(n - 1);
  double threshold = avg_between * 1.1;
  if (duration_to_start >= threshold) duration_to_start = avg_between / 2;
  if (is_counter && result > 0 && first >= 0) {
    double duration_to_zero = sampled_interval * (first / result);
    if (duration_to_zero < duration_to_start) duration_to_start = duration_to_zero;
  }
  if (duration_to_end >= threshold) duration_to_end = avg_between / 2;
  double factor = 1.0;
  if (sampled_interval != 0) {
    factor = (sampled_interval + duration_to_start + duration_to_end) / sampled_interval;
  }
  if (is_rate) factor /= static_cast<double>(range_ms) / 1000;
  return factor;
}

std::optional<double> InstantValue(Window w, bool is_rate) {
  if (w.size() < 2) return std::nullopt;
  const auto& last = w[w.size() - 1];
  const auto& prev = w[w.size() - 2];
  double result = (is_rate && last.value < prev.value) ? last.value : last.value - prev.value;
  int64_t interval = last.t_ms - prev.t_ms;
  if (interval == 0) return std::nullopt;
  if (is_rate) result /= static_cast<double>(interval) / 1000;
  return result;
}

// Prometheus' linearRegression (Kahan-compensated sums, constant series special case).
std::pair<double, double> LinearRegression(Window w, int64_t intercept_ms) {
  double n = 0, sum_x = 0, cx = 0, sum_y = 0, cy = 0, sum_xy = 0, cxy = 0, sum_x2 = 0, cx2 = 0;
  double init_y = w[0].value;
  bool const_y = true;
  for (size_t i = 0; i < w.size(); ++i) {
    if (const_y && i > 0 && w[i].value != init_y) const_y = false;
    n += 1;
    double x = static_cast<double>(w[i].t_ms - intercept_ms) / 1e3;
    sum_x = KahanSumInc(x, sum_x, &cx);
    sum_y = KahanSumInc(w[i].value, sum_y, &cy);
    sum_xy = KahanSumInc(x * w[i].value, sum_xy, &cxy);
    sum_x2 = KahanSumInc(x * x, sum_x2, &cx2);
  }
  if (const_y) {
    if (std::isinf(init_y)) return {std::nan(""), std::nan("")};
    return {0, init_y};
  }
  sum_x += cx;
  sum_y += cy;
  sum_xy += cxy;
  sum_x2 += cx2;
  double cov_xy = sum_xy - sum_x * sum_y / n;
  double var_x = sum_x2 - sum_x * sum_x / n;
  double slope = cov_xy / var_x;
  double intercept = sum_y / n - slope * sum_x / n;
  return {slope, intercept};
}

double AvgOverTime(Window w) {
  double sum = w[0].value, count = 1, mean = 0, c = 0;
  bool incremental = false;
  for (size_t i = 1; i < w.size(); ++i) {
    double f = w[i].value;
    count = static_cast<double>(i + 1);
    if (!incremental) {
      double nc = c;
      double ns = KahanSumInc(f, sum, &nc);
      if (!std::isinf(ns)) {
        sum = ns;
        c = nc;
        continue;
      }
      incremental = true;
      mean = sum / (count - 1);
      c /= count - 1;
    }
    double q = (count - 1) / count;
    double qc = q * c;
    mean = KahanSumInc(f / count, q * mean, &qc);
    c = qc;
  }
  if (incremental) return mean + c;
  return sum / count + c / count;
}

double StdvarOverTime(Window w) {
  double count = 0, mean = 0, c_mean = 0, aux = 0, c_aux = 0;
  for (const auto& s : w) {
    count++;
    double delta = s.value - (mean + c_mean);
    mean = KahanSumInc(delta / count, mean, &c_mean);
    aux = KahanSumInc(delta * (s.value - (mean + c_mean)), aux, &c_aux);
  }
  return (aux + c_aux) / count;
}

double DoubleExponentialSmoothing(Window w, double sf, double tf) {
  double s0 = 0, s1 = w[0].value, b = w[1].value - w[0].value;
  for (size_t i = 1; i < w.size(); ++i) {
    double x = sf * w[i].value;
    if (i > 1) b = tf * (s1 - s0) + (1 - tf) * b;  // the trend at this point
    double y = (1 - sf) * (s1 + b);
    s0 = s1;
    s1 = x + y;
  }
  return s1;
}

std::string GoPercentF(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%f", v);
  return buf;
}

// Annotations of the histogram range functions, with the metric name and position.
struct RangeNotes {
  QueryContext* ctx;
  std::string name;
  int32_t pos;
  void Warn(const std::string& what) const {
    ctx->Warn("PromQL warning: " + what + " \"" + name + "\"", pos);
  }
  void Info(const std::string& what) const {
    ctx->Info("PromQL info: " + what + " \"" + name + "\"", pos);
  }
  void MixedFloats() const { Warn("encountered a mix of histograms and floats for metric name"); }
  void MixedSchemas() const {
    Warn("vector contains a mix of histograms with exponential and custom buckets schemas for "
         "metric name");
  }
  void Reconciled(const char* what) const {
    ctx->Info(std::string("PromQL info: mismatched custom buckets were reconciled during ") + what,
              pos);
  }
};

// Prometheus' histogramRate: last - first, plus every value before a counter reset.
std::optional<storage::FloatHistogram> HistogramRate(HWindow hw, bool is_counter,
                                                     const RangeNotes& notes) {
  const storage::FloatHistogram* prev = &hw[0].h;
  const storage::FloatHistogram& last = hw.back().h;
  storage::FloatHistogram empty;
  if (is_counter && (prev->counter_reset_hint == CounterResetHint::kGaugeType ||
                     last.counter_reset_hint == CounterResetHint::kGaugeType)) {
    notes.Warn("this native histogram metric is not a counter:");
  }
  if (is_counter && HistogramDetectReset(hw[1].h, *prev)) {
    // A reset right after the first point: the first point's layout does not matter.
    empty.schema = hw[1].h.schema;
    empty.custom_values = hw[1].h.custom_values;
    prev = &empty;
  }
  bool custom = UsesCustomBuckets(*prev);
  if (UsesCustomBuckets(last) != custom) {
    notes.MixedSchemas();
    return std::nullopt;
  }
  int32_t min_schema = std::min(last.schema, prev->schema);
  for (size_t i = 1; i + 1 < hw.size(); ++i) {
    const auto& cur = hw[i].h;
    if (!is_counter) continue;
    if (cur.counter_reset_hint == CounterResetHint::kGaugeType) {
      notes.Warn("this native histogram metric is not a counter:");
    }
    min_schema = std::min(min_schema, cur.schema);
    if (UsesCustomBuckets(cur) != custom) {
      notes.MixedSchemas();
      return std::nullopt;
    }
  }
  storage::FloatHistogram h = HistogramToSchema(last, min_schema);
  HistogramOpNotes op;
  if (!HistogramAdd(&h, *prev, /*subtract=*/true, &op)) {
    notes.MixedSchemas();
    return std::nullopt;
  }
  if (op.custom_bounds_reconciled) notes.Reconciled("subtraction");
  if (is_counter) {
    const storage::FloatHistogram* p = prev;
    for (size_t i = 1; i < hw.size(); ++i) {
      const auto& cur = hw[i].h;
      if (HistogramDetectReset(cur, *p)) {
        HistogramOpNotes add;
        if (!HistogramAdd(&h, *p, false, &add)) {
          notes.MixedSchemas();
          return std::nullopt;
        }
        if (add.custom_bounds_reconciled) notes.Reconciled("addition");
      }
      p = &cur;
    }
  } else if (hw[0].h.counter_reset_hint != CounterResetHint::kGaugeType ||
             last.counter_reset_hint != CounterResetHint::kGaugeType) {
    notes.Warn("this native histogram metric is not a gauge:");
  }
  h.counter_reset_hint = CounterResetHint::kGaugeType;
  HistogramCompact(&h);
  return h;
}

// sum_over_time / avg_over_time over histograms (nullopt: incompatible schemas).
std::optional<storage::FloatHistogram> HistogramSumOverTime(HWindow hw, bool avg,
                                                            const RangeNotes& notes) {
  HistogramKahanSum sum(hw[0].h);
  std::optional<HistogramKahanSum> mean;  // avg after the sum would overflow
  bool reset_seen = false, not_reset_seen = false, reconciled = false;
  auto track = [&](const storage::FloatHistogram& h) {
    if (h.counter_reset_hint == CounterResetHint::kCounterReset) reset_seen = true;
    if (h.counter_reset_hint == CounterResetHint::kNotCounterReset) not_reset_seen = true;
  };
  track(hw[0].h);
  for (size_t i = 1; i < hw.size(); ++i) {
    track(hw[i].h);
    HistogramOpNotes op;
    double count = static_cast<double>(i + 1);
    bool ok = true;
    if (!mean) {
      HistogramKahanSum next = sum;
      ok = next.Add(hw[i].h, &op);
      if (ok && (!avg || !next.HasOverflow())) {
        sum = std::move(next);
      } else if (ok) {
        mean = sum;
        mean->Div(count - 1);
      }
    }
    if (ok && mean) {
      storage::FloatHistogram add = hw[i].h;
      HistogramDiv(&add, count);
      mean->Mul((count - 1) / count);
      ok = mean->Add(add, &op);
    }
    if (!ok) {
      notes.MixedSchemas();
      return std::nullopt;
    }
    reconciled = reconciled || op.custom_bounds_reconciled;
  }
  if (reset_seen && not_reset_seen) {
    notes.ctx->Warn("PromQL warning: conflicting counter resets during histogram aggregation",
                    notes.pos);
  }
  if (reconciled) notes.Reconciled("aggregation");
  if (mean) return mean->Result();
  if (avg) sum.Div(static_cast<double>(hw.size()));
  return sum.Result();
}

// A range function over a window holding histograms (and maybe floats), as Prometheus'
// functions.go. Returns true when the function only looks at floats and `w` has some:
// the caller then computes it over `w` (the histograms were ignored, with an info).
bool HistogramRangeFunction(const std::string& fn, Window w, HWindow hw, int64_t from,
                            int64_t ref, int64_t range_ms, const RangeNotes& notes,
                            std::optional<double>* v,
                            std::optional<storage::FloatHistogram>* hv) {
  if (fn == "rate" || fn == "increase" || fn == "delta") {
    if (!w.empty()) {
      notes.MixedFloats();
      return false;
    }
    if (hw.size() < 2) return false;
    bool is_counter = fn != "delta";
    std::optional<storage::FloatHistogram> h = HistogramRate(hw, is_counter, notes);
    if (!h) return false;
    double factor = ExtrapolationFactor(hw.front().t_ms, hw.back().t_ms, hw.size(),
                                        hw.front().h.count, h->count, from, ref, range_ms,
                                        is_counter, fn == "rate");
    HistogramMul(&*h, factor);
    *hv = std::move(h);
    return false;
  }
  if (fn == "irate" || fn == "idelta") {
    if (w.size() + hw.size() < 2) return false;
    // The last two points of either kind.
    struct Point {
      int64_t t;
      double f;
      const storage::FloatHistogram* h;
    };
    std::vector<Point> pts;
    for (size_t i = w.size() >= 2 ? w.size() - 2 : 0; i < w.size(); ++i) {
      pts.push_back({w[i].t_ms, w[i].value, nullptr});
    }
    for (size_t i = hw.size() >= 2 ? hw.size() - 2 : 0; i < hw.size(); ++i) {
      pts.push_back({hw[i].t_ms, 0, &hw[i].h});
    }
    std::stable_sort(pts.begin(), pts.end(), [](const Point& a, const Point& b) { return a.t < b.t; });
    const Point& p0 = pts[pts.size() - 2];
    const Point& p1 = pts[pts.size() - 1];
    int64_t interval = p1.t - p0.t;
    if (interval == 0) return false;
    bool is_rate = fn == "irate";
    if (p0.h == nullptr && p1.h == nullptr) {
      double r = (is_rate && p1.f < p0.f) ? p1.f : p1.f - p0.f;
      if (is_rate) r /= static_cast<double>(interval) / 1000;
      *v = r;
      return false;
    }
    if (p0.h == nullptr || p1.h == nullptr) {
      notes.MixedFloats();
      return false;
    }
    storage::FloatHistogram r = *p1.h;
    bool gauge0 = p0.h->counter_reset_hint == CounterResetHint::kGaugeType;
    bool gauge1 = p1.h->counter_reset_hint == CounterResetHint::kGaugeType;
    if (is_rate && (gauge0 || gauge1)) notes.Warn("this native histogram metric is not a counter:");
    if (!is_rate && (!gauge0 || !gauge1)) notes.Warn("this native histogram metric is not a gauge:");
    if (!is_rate || !HistogramDetectReset(*p1.h, *p0.h)) {
      HistogramOpNotes op;
      if (!HistogramAdd(&r, *p0.h, true, &op)) {
        notes.MixedSchemas();
        return false;
      }
      if (op.custom_bounds_reconciled) notes.Reconciled("subtraction");
    }
    r.counter_reset_hint = CounterResetHint::kGaugeType;
    HistogramCompact(&r);
    if (is_rate) HistogramDiv(&r, static_cast<double>(interval) / 1000);
    *hv = std::move(r);
    return false;
  }
  if (fn == "changes" || fn == "resets") {
    struct Point {
      int64_t t;
      double f;
      const storage::FloatHistogram* h;
    };
    std::vector<Point> pts;
    for (const auto& x : w) pts.push_back({x.t_ms, x.value, nullptr});
    for (const auto& x : hw) pts.push_back({x.t_ms, 0, &x.h});
    std::sort(pts.begin(), pts.end(), [](const Point& a, const Point& b) { return a.t < b.t; });
    double n = 0;
    for (size_t j = 1; j < pts.size(); ++j) {
      const Point& prev = pts[j - 1];
      const Point& cur = pts[j];
      if ((prev.h == nullptr) != (cur.h == nullptr)) {
        n++;
      } else if (cur.h == nullptr) {
        if (fn == "changes" ? (cur.f != prev.f && !(std::isnan(cur.f) && std::isnan(prev.f)))
                            : cur.f < prev.f) {
          n++;
        }
      } else if (fn == "changes" ? !HistogramEquals(*cur.h, *prev.h)
                                 : HistogramDetectReset(*cur.h, *prev.h)) {
        n++;
      }
    }
    *v = n;
    return false;
  }
  if (fn == "avg_over_time" || fn == "sum_over_time") {
    if (!w.empty()) {
      notes.MixedFloats();
      return false;
    }
    *hv = HistogramSumOverTime(hw, fn == "avg_over_time", notes);
    return false;
  }
  if (fn == "count_over_time") {
    *v = static_cast<double>(w.size() + hw.size());
    return false;
  }
  if (fn == "present_over_time") {
    *v = 1;
    return false;
  }
  if (fn == "last_over_time") {
    if (!w.empty() && w.back().t_ms > hw.back().t_ms) {
      *v = w.back().value;
    } else {
      *hv = hw.back().h;
    }
    return false;
  }
  if (fn == "first_over_time") {
    if (!w.empty() && w.front().t_ms < hw.front().t_ms) {
      *v = w.front().value;
    } else {
      *hv = hw.front().h;
    }
    return false;
  }
  if (fn == "ts_of_first_over_time" || fn == "ts_of_last_over_time") {
    int64_t t = fn == "ts_of_first_over_time"
                    ? std::min(w.empty() ? INT64_MAX : w.front().t_ms, hw.front().t_ms)
                    : std::max(w.empty() ? INT64_MIN : w.back().t_ms, hw.back().t_ms);
    *v = static_cast<double>(t) / 1000;
    return false;
  }
  // The rest look at floats only.
  if (fn == "deriv" || fn == "predict_linear" || fn == "double_exponential_smoothing" ||
      fn == "holt_winters") {
    if (w.size() == 1) notes.Info("ignored histograms in a range containing both floats and "
                                  "histograms for metric name");
    if (w.size() < 2) return false;
  }
  if (w.empty()) return false;
  notes.Info("ignored histograms in a range containing both floats and histograms for metric name");
  return true;
}

bool IsCounterName(std::string_view n) {
  auto ends = [&](std::string_view suf) {
    return n.size() >= suf.size() && n.substr(n.size() - suf.size()) == suf;
  };
  return ends("_total") || ends("_sum") || ends("_count") || ends("_bucket");
}

}  // namespace

namespace {

// The functions EvalRangeFunction computes per window.
enum class RangeFn {
  kAvgOverTime,
  kChanges,
  kCountOverTime,
  kDelta,
  kDeriv,
  kDoubleExponentialSmoothing,
  kFirstOverTime,
  kHoltWinters,
  kIdelta,
  kIncrease,
  kIrate,
  kLastOverTime,
  kMadOverTime,
  kMaxOverTime,
  kMinOverTime,
  kPredictLinear,
  kPresentOverTime,
  kQuantileOverTime,
  kRate,
  kResets,
  kStddevOverTime,
  kStdvarOverTime,
  kSumOverTime,
  kTsOfFirstOverTime,
  kTsOfLastOverTime,
  kTsOfMaxOverTime,
  kTsOfMinOverTime,
  kOther,
};

RangeFn RangeFnOf(std::string_view fn) {
  if (fn == "avg_over_time") return RangeFn::kAvgOverTime;
  if (fn == "changes") return RangeFn::kChanges;
  if (fn == "count_over_time") return RangeFn::kCountOverTime;
  if (fn == "delta") return RangeFn::kDelta;
  if (fn == "deriv") return RangeFn::kDeriv;
  if (fn == "double_exponential_smoothing") return RangeFn::kDoubleExponentialSmoothing;
  if (fn == "first_over_time") return RangeFn::kFirstOverTime;
  if (fn == "holt_winters") return RangeFn::kHoltWinters;
  if (fn == "idelta") return RangeFn::kIdelta;
  if (fn == "increase") return RangeFn::kIncrease;
  if (fn == "irate") return RangeFn::kIrate;
  if (fn == "last_over_time") return RangeFn::kLastOverTime;
  if (fn == "mad_over_time") return RangeFn::kMadOverTime;
  if (fn == "max_over_time") return RangeFn::kMaxOverTime;
  if (fn == "min_over_time") return RangeFn::kMinOverTime;
  if (fn == "predict_linear") return RangeFn::kPredictLinear;
  if (fn == "present_over_time") return RangeFn::kPresentOverTime;
  if (fn == "quantile_over_time") return RangeFn::kQuantileOverTime;
  if (fn == "rate") return RangeFn::kRate;
  if (fn == "resets") return RangeFn::kResets;
  if (fn == "stddev_over_time") return RangeFn::kStddevOverTime;
  if (fn == "stdvar_over_time") return RangeFn::kStdvarOverTime;
  if (fn == "sum_over_time") return RangeFn::kSumOverTime;
  if (fn == "ts_of_first_over_time") return RangeFn::kTsOfFirstOverTime;
  if (fn == "ts_of_last_over_time") return RangeFn::kTsOfLastOverTime;
  if (fn == "ts_of_max_over_time") return RangeFn::kTsOfMaxOverTime;
  if (fn == "ts_of_min_over_time") return RangeFn::kTsOfMinOverTime;
  return RangeFn::kOther;
}

}  // namespace

EvalValue Evaluator::EvalRangeFunction(const Call& c) {
  const std::string& fn = c.func;
  size_t matrix_arg = fn == "quantile_over_time" ? 1 : 0;
  // Scalar parameters, one value per step.
  std::vector<EvalValue> params(c.args.size());
  for (size_t i = 0; i < c.args.size(); ++i) {
    if (i != matrix_arg) params[i] = Eval(*c.args[i]);
  }
  RangeSource src = EvalRangeSource(*c.args[matrix_arg]);
  bool keep_name = fn == "last_over_time" || fn == "first_over_time";

  EvalValue out;
  out.type = ValueType::kVector;
  if (fn == "absent_over_time") {
    Series s;
    const Expr* arg = c.args[0].get();
    if (auto* ms = arg->As<MatrixSelector>()) {
      // Labels from the equality matchers, as absent().
      std::vector<storage::Label> ls;
      std::vector<std::string> seen;
      for (const auto& m : ms->vector_selector->As<VectorSelector>()->matchers) {
        if (m.name() == storage::kMetricNameLabel) continue;
        bool dup = std::find(seen.begin(), seen.end(), m.name()) != seen.end();
        std::erase_if(ls, [&](const storage::Label& l) { return l.name == m.name(); });
        if (m.type() == storage::MatchType::kEqual && !dup) ls.push_back({m.name(), m.value()});
        seen.push_back(m.name());
      }
      s.labels = storage::Labels(std::move(ls));
    }
    for (size_t i = 0; i < steps_.count; ++i) {
      int64_t ref = src.Ref(steps_.At(i));
      bool any = false;
      for (const auto& ser : src.series) {
        auto hi = std::upper_bound(ser.samples.begin(), ser.samples.end(), ref,
                                   [](int64_t r, const storage::Sample& x) { return r < x.t_ms; });
        if (hi != ser.samples.begin() && (hi - 1)->t_ms > ref - src.range_ms) {
          any = true;
          break;
        }
        auto hhi = std::upper_bound(
            ser.histograms.begin(), ser.histograms.end(), ref,
            [](int64_t r, const storage::HistogramSample& x) { return r < x.t_ms; });
        if (hhi != ser.histograms.begin() && (hhi - 1)->t_ms > ref - src.range_ms) {
          any = true;
          break;
        }
      }
      if (!any) s.samples.push_back({steps_.At(i), 1});
    }
    if (!s.samples.empty()) out.series.push_back(std::move(s));
    return out;
  }

  if ((fn == "rate" || fn == "increase") && src.is_selector) {
    for (const auto& s : src.series) {
      std::string_view name = s.labels.Get(storage::kMetricNameLabel);
      // Only float results get the hint (a histogram rate is a counter by construction).
      if (s.samples.size() < 2) continue;
      if (!name.empty() && !IsCounterName(name)) {
        ctx_->Info(
            "PromQL info: metric might not be a counter, name does not end in "
            "_total/_sum/_count/_bucket: \"" + std::string(name) + "\"",
            c.args[0]->pos);
        break;
      }
    }
  }
  if (fn == "quantile_over_time") {
    for (double q : params[0].scalars) {
      if (std::isnan(q) || q < 0 || q > 1) {
        ctx_->Warn(
            "PromQL warning: quantile value should be between 0 and 1, got " + FormatValue(q),
            c.args[0]->pos);
        break;
      }
    }
  }

  // The function, resolved once: comparing its name per step and per sample was most of
  // a range query's evaluation time for the functions late in the chain (max_over_time).
  const RangeFn kind = RangeFnOf(fn);
  for (auto& s : src.series) {
    Series o;
    const auto& samples = s.samples;
    for (size_t i = 0; i < steps_.count; ++i) {
      ctx_->CheckDeadline();
      int64_t t = steps_.At(i);
      int64_t ref = src.Ref(t);
      int64_t from = SatSub(ref, src.range_ms);
      auto cmp = [](int64_t r, const storage::Sample& x) { return r < x.t_ms; };
      auto hi = std::upper_bound(samples.begin(), samples.end(), ref, cmp);
      auto lo = std::upper_bound(samples.begin(), hi, from, cmp);
      auto hcmp = [](int64_t r, const storage::HistogramSample& x) { return r < x.t_ms; };
      auto hhi = std::upper_bound(s.histograms.begin(), s.histograms.end(), ref, hcmp);
      auto hlo = std::upper_bound(s.histograms.begin(), hhi, from, hcmp);
      if (lo == hi && hlo == hhi) continue;
      Window w = lo == hi ? Window() : Window(&*lo, static_cast<size_t>(hi - lo));
      HWindow hw = hlo == hhi ? HWindow() : HWindow(&*hlo, static_cast<size_t>(hhi - hlo));
      std::optional<double> v;
      std::optional<storage::FloatHistogram> hv;
      if (!hw.empty()) {
        RangeNotes notes{ctx_, MetricNameOf(s.labels), c.args[matrix_arg]->pos};
        if (!HistogramRangeFunction(fn, w, hw, from, ref, src.range_ms, notes, &v, &hv)) {
          if (v) o.samples.push_back({t, *v});
          if (hv) o.histograms.push_back({t, std::move(*hv)});
          continue;
        }
      }
      if (kind == RangeFn::kRate) {
        v = ExtrapolatedRate(w, from, ref, src.range_ms, true, true);
      } else if (kind == RangeFn::kIncrease) {
        v = ExtrapolatedRate(w, from, ref, src.range_ms, true, false);
      } else if (kind == RangeFn::kDelta) {
        v = ExtrapolatedRate(w, from, ref, src.range_ms, false, false);
      } else if (kind == RangeFn::kIrate) {
        v = InstantValue(w, true);
      } else if (kind == RangeFn::kIdelta) {
        v = InstantValue(w, false);
      } else if (kind == RangeFn::kChanges || kind == RangeFn::kResets) {
        double n = 0;
        for (size_t j = 1; j < w.size(); ++j) {
          double cur = w[j].value, prev = w[j - 1].value;
          if (kind == RangeFn::kChanges ? (cur != prev && !(std::isnan(cur) && std::isnan(prev)))
                              : cur < prev) {
            n++;
          }
        }
        v = n;
      } else if (kind == RangeFn::kDeriv) {
        if (w.size() >= 2) v = LinearRegression(w, w[0].t_ms).first;
      } else if (kind == RangeFn::kPredictLinear) {
        if (w.size() >= 2) {
          auto [slope, intercept] = LinearRegression(w, t);
          v = slope * params[1].scalars[i] + intercept;
        }
      } else if (kind == RangeFn::kAvgOverTime) {
        v = AvgOverTime(w);
      } else if (kind == RangeFn::kSumOverTime) {
        double sum = 0, comp = 0;
        for (const auto& x : w) sum = KahanSumInc(x.value, sum, &comp);
        v = std::isinf(sum) ? sum : sum + comp;
      } else if (kind == RangeFn::kCountOverTime) {
        v = static_cast<double>(w.size());
      } else if (kind == RangeFn::kMinOverTime || kind == RangeFn::kMaxOverTime) {
        double m = w[0].value;
        for (const auto& x : w) {
          if ((kind == RangeFn::kMaxOverTime ? x.value > m : x.value < m) || std::isnan(m)) m = x.value;
        }
        v = m;
      } else if (kind == RangeFn::kLastOverTime) {
        v = w.back().value;
      } else if (kind == RangeFn::kFirstOverTime) {
        v = w.front().value;
      } else if (kind == RangeFn::kTsOfFirstOverTime) {
        v = static_cast<double>(w.front().t_ms) / 1000;
      } else if (kind == RangeFn::kTsOfLastOverTime) {
        v = static_cast<double>(w.back().t_ms) / 1000;
      } else if (kind == RangeFn::kTsOfMaxOverTime || kind == RangeFn::kTsOfMinOverTime) {
        // The newest sample holding the extreme value (ties go to the later one).
        bool is_max = kind == RangeFn::kTsOfMaxOverTime;
        double m = w[0].value;
        int64_t ts = w[0].t_ms;
        for (const auto& x : w) {
          if ((is_max ? x.value >= m : x.value <= m) || std::isnan(m)) {
            m = x.value;
            ts = x.t_ms;
          }
        }
        v = static_cast<double>(ts) / 1000;
      } else if (kind == RangeFn::kPresentOverTime) {
        v = 1;
      } else if (kind == RangeFn::kStdvarOverTime) {
        v = StdvarOverTime(w);
      } else if (kind == RangeFn::kStddevOverTime) {
        v = std::sqrt(StdvarOverTime(w));
      } else if (kind == RangeFn::kQuantileOverTime || kind == RangeFn::kMadOverTime) {
        std::vector<double> vals;
        vals.reserve(w.size());
        for (const auto& x : w) vals.push_back(x.value);
        if (kind == RangeFn::kQuantileOverTime) {
          v = Quantile(params[0].scalars[i], std::move(vals));
        } else {
          double median = Quantile(0.5, vals);
          for (double& x : vals) x = std::fabs(x - median);
          v = Quantile(0.5, std::move(vals));
        }
      } else if (kind == RangeFn::kDoubleExponentialSmoothing || kind == RangeFn::kHoltWinters) {
        double sf = params[1].scalars[i], tf = params[2].scalars[i];
        if (sf <= 0 || sf >= 1 || std::isnan(sf)) {
          ThrowExecution("invalid smoothing factor. Expected: 0 < sf < 1, got: " + GoPercentF(sf));
        }
        if (tf <= 0 || tf >= 1 || std::isnan(tf)) {
          ThrowExecution("invalid trend factor. Expected: 0 < tf < 1, got: " + GoPercentF(tf));
        }
        if (w.size() >= 2) v = DoubleExponentialSmoothing(w, sf, tf);
      } else {
        ThrowUnsupported("function \"" + fn + "\" is not supported yet");
      }
      if (v) o.samples.push_back({t, *v});
    }
    if (o.samples.empty() && o.histograms.empty()) continue;
    o.labels = std::move(s.labels);
    o.drop_name = s.drop_name;
    if (!keep_name) DropName(&o);
    out.series.push_back(std::move(o));
  }
  MergeSameLabels(&out.series);
  return out;
}

}  // namespace otelbox::query::promql
