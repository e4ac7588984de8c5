// histogram_quantile and histogram_fraction over classic `le` buckets, as Prometheus' quantile.go
// BucketQuantile: coalesced duplicate bounds, monotonicity forced, linear interpolation
// inside the bucket; over native histograms as its HistogramQuantile/HistogramFraction
// (exponential interpolation inside exponential buckets). histogram_count/sum/avg/
// stddev/stdvar read native histograms only.

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>

#include "query/promql/evaluator.h"
#include "query/promql/histogram_math.h"

namespace otelbox::query::promql {
namespace {

struct Bucket {
  double upper;
  double count;
};

// Prometheus' util/almost.Equal.
bool AlmostEqual(double a, double b, double epsilon) {
  constexpr double kMinNormal = 2.2250738585072014e-308;
  if (std::isnan(a) && std::isnan(b)) return true;
  if (a == b) return true;
  double abs_sum = std::fabs(a) + std::fabs(b);
  double diff = std::fabs(a - b);
  if (a == 0 || b == 0 || abs_sum < kMinNormal) return diff < epsilon * kMinNormal;
  return diff / std::min(abs_sum, 1.7976931348623157e308) < epsilon;
}

// Sorts buckets by upper bound and adds up those with the same bound (as Prometheus'
// coalesceBuckets). False when there is no +Inf bucket: both estimators then answer NaN.
bool SortAndCoalesce(std::vector<Bucket> buckets, std::vector<Bucket>* out) {
  std::sort(buckets.begin(), buckets.end(),
            [](const Bucket& a, const Bucket& b) { return a.upper < b.upper; });
  if (buckets.empty() || !std::isinf(buckets.back().upper) || buckets.back().upper < 0) {
    return false;
  }
  for (const auto& b : buckets) {
    if (!out->empty() && out->back().upper == b.upper) {
      out->back().count += b.count;
    } else {
      out->push_back(b);
    }
  }
  return true;
}

// Returns the quantile; *forced is set when counts had to be made monotonic.
double BucketQuantile(double q, std::vector<Bucket> buckets, bool* forced) {
  if (std::isnan(q)) return std::nan("");
  if (q < 0) return -INFINITY;
  if (q > 1) return INFINITY;
  std::vector<Bucket> co;
  if (!SortAndCoalesce(std::move(buckets), &co)) return std::nan("");
  double prev = co[0].count;
  for (size_t i = 1; i < co.size(); ++i) {
    double cur = co[i].count;
    if (cur == prev) continue;
    if (AlmostEqual(prev, cur, 1e-12)) {
      co[i].count = prev;
      continue;
    }
    if (cur < prev) {
      co[i].count = prev;
      *forced = true;
      continue;
    }
    prev = cur;
  }
  if (co.size() < 2) return std::nan("");
  double observations = co.back().count;
  if (observations == 0) return std::nan("");
  double rank = q * observations;
  size_t b = 0;
  while (b < co.size() - 1 && co[b].count < rank) ++b;
  if (b == co.size() - 1) return co[co.size() - 2].upper;
  if (b == 0 && co[0].upper <= 0) return co[0].upper;
  double start = 0, end = co[b].upper, count = co[b].count;
  if (b > 0) {
    start = co[b - 1].upper;
    count -= co[b - 1].count;
    rank -= co[b - 1].count;
  }
  return start + (end - start) * (rank / count);
}

// Go's strconv.ParseFloat for a bucket bound (no leading/trailing junk).
bool ParseBound(std::string_view s, double* v) {
  if (s.empty() || std::isspace(static_cast<unsigned char>(s[0]))) return false;
  std::string str(s);
  char* end = nullptr;
  *v = std::strtod(str.c_str(), &end);
  return end == str.c_str() + str.size();
}

// Prometheus' BucketFraction: the estimated share of observations in (lower, upper],
// interpolating linearly inside the buckets the bounds fall in.
double BucketFraction(double lower, double upper, std::vector<Bucket> buckets) {
  std::vector<Bucket> co;
  if (!SortAndCoalesce(std::move(buckets), &co)) return std::nan("");
  double count = co.back().count;
  if (count == 0 || std::isnan(lower) || std::isnan(upper)) return std::nan("");
  if (lower >= upper) return 0;
  double rank = 0, lower_rank = 0, upper_rank = 0;
  bool lower_set = false, upper_set = false;
  // Positive buckets only when the first upper bound is above 0: the first bucket
  // starts at 0, else at -Inf.
  double lower_bound = co[0].upper <= 0 ? -INFINITY : 0.0;
  for (size_t i = 0; i < co.size(); ++i) {
    if (i > 0) lower_bound = co[i - 1].upper;
    double upper_bound = co[i].upper;
    // No interpolation inside an infinite-width bucket: it contributes nothing.
    auto interpolate = [&](double v) {
      if (lower_bound == -INFINITY) return co[i].count;
      return rank + (co[i].count - rank) * (v - lower_bound) / (upper_bound - lower_bound);
    };
    if (!lower_set && lower_bound >= lower) {
      lower_rank = rank;
      lower_set = true;
    }
    if (!upper_set && lower_bound >= upper) {
      upper_rank = rank;
      upper_set = true;
    }
    if (lower_set && upper_set) break;
    if (!lower_set && lower_bound < lower && upper_bound > lower) {
      lower_rank = interpolate(lower);
      lower_set = true;
    }
    if (!upper_set && lower_bound < upper && upper_bound > upper) {
      upper_rank = interpolate(upper);
      upper_set = true;
    }
    if (lower_set && upper_set) break;
    rank = co[i].count;
  }
  if (!lower_set || lower_rank > count) lower_rank = count;
  if (!upper_set || upper_rank > count) upper_rank = count;
  return (upper_rank - lower_rank) / count;
}

storage::Labels WithoutLe(const storage::Labels& labels) {
  std::vector<storage::Label> out;
  for (const auto& l : labels) {
    if (l.name != "le") out.push_back(l);
  }
  return storage::Labels(std::move(out));
}

// Prometheus' labels.FormatOpenMetricsFloat: integers get ".0".
std::string OpenMetricsFloat(double v) {
  std::string s = FormatValue(v);
  if (std::isfinite(v) && s.find_first_of(".eE") == std::string::npos) s += ".0";
  return s;
}

// Prometheus' maybeAddMetricName.
std::string ForMetricName(const storage::Labels& labels) {
  std::string name = MetricNameOf(labels);
  return name.empty() ? "" : " for metric name \"" + name + "\"";
}

// Prometheus' HistogramQuantile over a native histogram. *nan_info: 1 = "result is NaN",
// 2 = "result is skewed higher" (NaN observations).
double NativeQuantile(double q, const storage::FloatHistogram& h, int* nan_info) {
  if (q < 0) return -INFINITY;
  if (q > 1) return INFINITY;
  if (h.count == 0 || std::isnan(q)) return std::nan("");
  std::vector<HistogramBucket> all = AllBuckets(h);
  bool forward = std::isnan(h.sum) || q < 0.5;
  if (!forward) std::reverse(all.begin(), all.end());
  double rank = forward ? q * h.count : (1 - q) * h.count;
  double count = 0;
  HistogramBucket bucket;
  size_t i = 0;
  for (; i < all.size(); ++i) {
    bucket = all[i];
    count += bucket.count;
    if (count >= rank) break;
  }
  bool custom = UsesCustomBuckets(h);
  if (!custom && bucket.lower < 0 && bucket.upper > 0) {
    if (h.negative_buckets.empty() && !h.positive_buckets.empty()) {
      bucket.lower = 0;
    } else if (h.positive_buckets.empty() && !h.negative_buckets.empty()) {
      bucket.upper = 0;
    }
  } else if (custom) {
    if (bucket.lower == -INFINITY) {
      if (bucket.upper <= 0) return bucket.upper;
      bucket.lower = 0;
    } else if (bucket.upper == INFINITY) {
      return bucket.lower;
    }
  }
  if (count > h.count) count = h.count;
  if (count < rank) {
    if (std::isnan(h.sum)) {
      *nan_info = 1;
      return std::nan("");
    }
    return bucket.upper;
  }
  if (forward) {
    rank -= count - bucket.count;
  } else {
    rank = count - rank;
  }
  if (std::isnan(h.sum)) {
    for (size_t j = i + 1; j < all.size(); ++j) count += all[j].count;
    if (count < h.count) *nan_info = 2;
  }
  double fraction = rank / bucket.count;
  if (custom || (bucket.lower <= 0 && bucket.upper >= 0)) {
    return bucket.lower + (bucket.upper - bucket.lower) * fraction;
  }
  double log_lower = std::log2(std::fabs(bucket.lower));
  double log_upper = std::log2(std::fabs(bucket.upper));
  if (bucket.lower > 0) return std::exp2(log_lower + (log_upper - log_lower) * fraction);
  return -std::exp2(log_upper + (log_lower - log_upper) * (1 - fraction));
}

// Share of the bucket below v, linearly or on a log scale (Prometheus' FractionBelow).
double FractionBelow(const HistogramBucket& b, double v, bool linear) {
  if (linear) return (v - b.lower) / (b.upper - b.lower);
  double log_lower = std::log2(std::fabs(b.lower));
  double log_upper = std::log2(std::fabs(b.upper));
  double log_v = std::log2(std::fabs(v));
  if (v > 0) return (log_v - log_lower) / (log_upper - log_lower);
  return 1 - ((log_v - log_upper) / (log_lower - log_upper));
}

// Prometheus' HistogramFraction over a native histogram; *nan_info when NaN
// observations were excluded.
double NativeFraction(double lower, double upper, const storage::FloatHistogram& h,
                      bool* nan_info) {
  if (h.count == 0 || std::isnan(lower) || std::isnan(upper)) return std::nan("");
  if (lower >= upper) return 0;
  std::vector<HistogramBucket> all = AllBuckets(h);
  bool custom = UsesCustomBuckets(h);
  double count = 0, rank = 0, lower_rank = 0, upper_rank = 0;
  bool lower_set = false, upper_set = false;
  size_t i = 0;
  for (; i < all.size(); ++i) {
    HistogramBucket b = all[i];
    count += b.count;
    bool zero_bucket = false;
    if (b.lower <= 0 && b.upper >= 0) {
      zero_bucket = true;
      if (h.negative_buckets.empty() && !h.positive_buckets.empty()) {
        b.lower = 0;
      } else if (h.positive_buckets.empty() && !h.negative_buckets.empty()) {
        b.upper = 0;
      }
    }
    auto interpolate = [&](double v) {
      if (custom || zero_bucket) {
        if (b.lower == -INFINITY) return b.count;
        return rank + b.count * FractionBelow(b, v, true);
      }
      return rank + b.count * FractionBelow(b, v, false);
    };
    if (!lower_set && b.lower >= lower) {
      lower_rank = rank;
      lower_set = true;
    }
    if (!upper_set && b.lower >= upper) {
      upper_rank = rank;
      upper_set = true;
    }
    if (lower_set && upper_set) break;
    if (!lower_set && b.lower < lower && b.upper > lower) {
      lower_rank = interpolate(lower);
      lower_set = true;
    }
    if (!upper_set && b.lower < upper && b.upper > upper) {
      upper_rank = interpolate(upper);
      upper_set = true;
    }
    if (lower_set && upper_set) break;
    rank += b.count;
  }
  if (std::isnan(h.sum)) {
    for (size_t j = i + 1; j < all.size(); ++j) count += all[j].count;
    if (count < h.count) *nan_info = true;
  } else {
    count = h.count;
  }
  if (!lower_set || lower_rank > count) lower_rank = count;
  if (!upper_set || upper_rank > count) upper_rank = count;
  return (upper_rank - lower_rank) / h.count;
}

// Prometheus' histogramVariance: bucket midpoints (geometric for exponential buckets).
double NativeVariance(const storage::FloatHistogram& h) {
  double mean = h.sum / h.count;
  double variance = 0, c = 0;
  for (const auto& b : AllBuckets(h)) {
    if (b.count == 0) continue;
    double val;
    if (UsesCustomBuckets(h)) {
      val = (b.upper + b.lower) / 2.0;
    } else if (b.lower <= 0 && b.upper >= 0) {
      val = 0;
    } else {
      val = std::sqrt(b.upper * b.lower);
      if (b.upper < 0) val = -val;
    }
    double delta = val - mean;
    variance = KahanSumInc(b.count * delta * delta, variance, &c);
  }
  variance += c;
  return variance / h.count;
}

}  // namespace

EvalValue Evaluator::EvalHistogramFunction(const Call& c) {
  const std::string& fn = c.func;
  EvalValue v = Eval(*c.args[0]);
  EvalValue out;
  out.type = ValueType::kVector;
  for (auto& s : v.series) {
    if (s.histograms.empty()) continue;
    Series o;
    for (const auto& p : s.histograms) {
      const auto& h = p.h;
      double x;
      if (fn == "histogram_count") {
        x = h.count;
      } else if (fn == "histogram_sum") {
        x = h.sum;
      } else if (fn == "histogram_avg") {
        x = h.sum / h.count;
      } else if (fn == "histogram_stdvar") {
        x = NativeVariance(h);
      } else {
        x = std::sqrt(NativeVariance(h));
      }
      o.samples.push_back({p.t_ms, x});
    }
    o.labels = std::move(s.labels);
    o.drop_name = s.drop_name;
    DropName(&o);
    out.series.push_back(std::move(o));
  }
  MergeSameLabels(&out.series);
  return out;
}

EvalValue Evaluator::EvalHistogramQuantile(const Call& c) {
  if (c.func == "histogram_quantiles") {
    // One histogram_quantile per φ, each result labelled <label>="<φ>" (OpenMetrics float).
    EvalValue v = Eval(*c.args[0]);
    const std::string label = Eval(*c.args[1]).str;
    SeriesBuilder builder(steps_);
    for (size_t i = 2; i < c.args.size(); ++i) {
      EvalValue q = Eval(*c.args[i]);
      EvalValue r = QuantileOver(q, nullptr, v, c.args[0]->pos, c.args[i]->pos);
      for (const auto& s : r.series) {
        for (const auto& p : s.samples) {
          size_t step = steps_.Index(p.t_ms);
          std::vector<storage::Label> ls;
          for (const auto& l : s.labels) {
            if (l.name != label) ls.push_back(l);
          }
          ls.push_back({label, OpenMetricsFloat(q.scalars[step])});
          builder.Add(step, storage::Labels(std::move(ls)), p.value, s.drop_name);
        }
      }
    }
    EvalValue out;
    out.type = ValueType::kVector;
    out.series = builder.Take();
    return out;
  }
  const bool fraction = c.func == "histogram_fraction";
  const Expr& input = *c.args[fraction ? 2 : 1];
  EvalValue q = Eval(*c.args[0]);
  EvalValue upper;
  if (fraction) upper = Eval(*c.args[1]);
  EvalValue v = Eval(input);
  return QuantileOver(q, fraction ? &upper : nullptr, v, input.pos, c.args[0]->pos);
}

EvalValue Evaluator::QuantileOver(const EvalValue& q, const EvalValue* upper_bound,
                                  const EvalValue& v, int32_t input_pos, int32_t q_pos) {
  const bool fraction = upper_bound != nullptr;
  struct {
    int32_t pos;
  } input{input_pos};
  const EvalValue& upper = fraction ? *upper_bound : q;
  std::vector<StepVector> steps = ByStep(v);

  // Per input series: its bucket bound and group (labels without le and __name__).
  std::vector<int> group_of(v.series.size(), -1);
  std::vector<double> bound(v.series.size());
  std::vector<storage::Labels> group_labels;
  std::vector<bool> group_drop;
  std::map<storage::Labels, int> ids;
  bool bad_bucket_warned = false;
  for (size_t i = 0; i < v.series.size(); ++i) {
    const auto& labels = v.series[i].labels;
    if (v.series[i].samples.empty()) continue;  // native histograms only
    if (!ParseBound(labels.Get("le"), &bound[i])) {
      if (!bad_bucket_warned) {
        ctx_->Warn("PromQL warning: bucket label \"le\" is missing or has a "
                   "malformed value of \"" + std::string(labels.Get("le")) +
                   "\" for metric name \"" +
                   std::string(labels.Get(storage::kMetricNameLabel)) + "\"",
                   input.pos);
        bad_bucket_warned = true;
      }
      continue;
    }
    std::vector<storage::Label> key, out;
    for (const auto& l : labels) {
      if (l.name == "le") continue;
      // Grouped with the name (Prometheus' BytesWithoutLabels(le)): two metric names with
      // the same other labels collide once the name is dropped.
      key.push_back(l);
      if (delayed_names() || !IsNameLabel(l.name)) out.push_back(l);
    }
    auto [it, inserted] = ids.try_emplace(storage::Labels(std::move(key)),
                                          static_cast<int>(group_labels.size()));
    if (inserted) {
      group_labels.push_back(storage::Labels(std::move(out)));
      group_drop.push_back(delayed_names());
    }
    group_of[i] = it->second;
  }

  SeriesBuilder builder(steps_);
  bool warned_q = false, warned_forced = false;
  std::vector<std::vector<Bucket>> buckets(group_labels.size());
  for (size_t step = 0; step < steps_.count; ++step) {
    ctx_->CheckDeadline();
    double phi = q.scalars[step];
    std::vector<int> order;
    // A native histogram with the labels of classic buckets (without `le`) at this step:
    // neither is evaluated (Prometheus' resetHistograms).
    std::set<int> conflicting_groups;
    std::set<uint32_t> conflicting_natives;
    bool any_native = false;
    for (const auto& e : steps[step]) any_native = any_native || e.h != nullptr;
    if (any_native) {
      std::map<storage::Labels, int> classic;
      for (const auto& e : steps[step]) {
        if (e.h == nullptr && group_of[e.series] >= 0) {
          classic.emplace(WithoutLe(v.series[e.series].labels), group_of[e.series]);
        }
      }
      for (const auto& e : steps[step]) {
        if (e.h == nullptr) continue;
        auto it = classic.find(v.series[e.series].labels);
        if (it == classic.end()) continue;
        ctx_->Warn("PromQL warning: vector contains a mix of classic and native histograms" +
                       ForMetricName(v.series[e.series].labels),
                   input.pos);
        conflicting_groups.insert(it->second);
        conflicting_natives.insert(e.series);
      }
    }
    for (const auto& e : steps[step]) {
      if (e.h != nullptr && conflicting_natives.count(e.series)) continue;
      if (e.h == nullptr && conflicting_groups.count(group_of[e.series])) continue;
      if (e.h != nullptr) {
        // A native histogram: evaluated on its own, labels kept (name dropped).
        const Series& ser = v.series[e.series];
        storage::Labels labels = delayed_names() ? ser.labels : DropMetricName(ser.labels);
        double r;
        if (fraction) {
          bool nan_info = false;
          r = NativeFraction(phi, upper.scalars[step], *e.h, &nan_info);
          if (nan_info) {
            ctx_->Info("PromQL info: input to histogram_fraction has NaN observations, which "
                       "are excluded from all fractions" + ForMetricName(ser.labels),
                       input.pos);
          }
        } else {
          int nan_info = 0;
          r = NativeQuantile(phi, *e.h, &nan_info);
          if (nan_info != 0) {
            ctx_->Info(std::string("PromQL info: input to histogram_quantile has NaN "
                                   "observations, result is ") +
                           (nan_info == 1 ? "NaN" : "skewed higher") + ForMetricName(ser.labels),
                       input.pos);
          }
        }
        builder.Add(step, labels, r, delayed_names() || ser.drop_name);
        continue;
      }
      int g = group_of[e.series];
      if (g < 0) continue;
      if (buckets[g].empty()) order.push_back(g);
      buckets[g].push_back({bound[e.series], e.v});
    }
    if (fraction) {
      for (int g : order) {
        double f = BucketFraction(phi, upper.scalars[step], std::move(buckets[g]));
        builder.Add(step, group_labels[g], f, group_drop[g]);
        buckets[g].clear();
      }
      continue;
    }
    if (!warned_q && (std::isnan(phi) || phi < 0 || phi > 1)) {
      ctx_->Warn("PromQL warning: quantile value should be between 0 and 1, got " +
                     FormatValue(phi), q_pos);
      warned_q = true;
    }
    for (int g : order) {
      bool forced = false;
      double r = BucketQuantile(phi, std::move(buckets[g]), &forced);
      buckets[g].clear();
      if (forced && !warned_forced) {
        ctx_->Info(
            "PromQL info: input to histogram_quantile needed to be fixed for monotonicity (see "
            "https://prometheus.io/docs/prometheus/latest/querying/functions/"
            "#histogram_quantile)", input.pos);
        warned_forced = true;
      }
      builder.Add(step, group_labels[g], r, group_drop[g]);
    }
  }
  EvalValue out;
  out.type = ValueType::kVector;
  out.series = builder.Take();
  return out;
}

}  // namespace otelbox::query::promql
