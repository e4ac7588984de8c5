// histogram_quantile and histogram_fraction over classic `le` buckets, as Prometheus' quantile.go
// BucketQuantile: coalesced duplicate bounds, monotonicity forced, linear interpolation
// inside the bucket. Native histograms are not supported.

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>

#include "query/promql/evaluator.h"

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

}  // namespace

EvalValue Evaluator::EvalHistogramQuantile(const Call& c) {
  const bool fraction = c.func == "histogram_fraction";
  const Expr& input = *c.args[fraction ? 2 : 1];
  EvalValue q = Eval(*c.args[0]);
  EvalValue upper;
  if (fraction) upper = Eval(*c.args[1]);
  EvalValue v = Eval(input);
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
      if (!IsNameLabel(l.name)) key.push_back(l);
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
    for (const auto& e : steps[step]) {
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
                     FormatValue(phi), c.args[0]->pos);
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
