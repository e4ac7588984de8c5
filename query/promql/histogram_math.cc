#include "query/promql/histogram_math.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstdio>
#include <string>
#include <cstddef>
#include <cmath>
#include <limits>
#include <map>

namespace otelbox::query::promql {
namespace {

struct IndexedCount {
  int32_t index;
  double count;
};
using BucketList = std::vector<IndexedCount>;  // ascending index

// Every bucket described by spans (empty ones included), ascending.
BucketList Expand(const std::vector<storage::BucketSpan>& spans, const std::vector<double>& buckets) {
  BucketList out;
  out.reserve(buckets.size());
  int32_t idx = 0;
  size_t b = 0;
  for (size_t s = 0; s < spans.size(); ++s) {
    idx += spans[s].offset;
    for (uint32_t j = 0; j < spans[s].length && b < buckets.size(); ++j) {
      out.push_back({idx, buckets[b++]});
      ++idx;
    }
  }
  return out;
}

// Writes non-empty buckets back as compact spans.
void Collapse(const BucketList& list, std::vector<storage::BucketSpan>* spans,
              std::vector<double>* buckets) {
  spans->clear();
  buckets->clear();
  int32_t next = 0;  // index after the last written bucket
  for (const auto& b : list) {
    if (b.count == 0) continue;
    if (!spans->empty() && b.index == next) {
      spans->back().length++;
    } else {
      spans->push_back({spans->empty() ? b.index : b.index - next, 1});
    }
    buckets->push_back(b.count);
    next = b.index + 1;
  }
}

int32_t TargetIndex(int32_t idx, int32_t origin, int32_t target) {
  // Valid schemas differ by at most 12; the clamp only keeps bad input defined.
  return ((idx - 1) >> std::clamp(origin - target, 0, 31)) + 1;
}

// Merges buckets into a smaller schema (sums those that fall together).
BucketList Reduce(const BucketList& in, int32_t origin, int32_t target) {
  if (origin == target) return in;
  BucketList out;
  for (const auto& b : in) {
    int32_t t = TargetIndex(b.index, origin, target);
    if (!out.empty() && out.back().index == t) {
      out.back().count += b.count;
    } else {
      out.push_back({t, b.count});
    }
  }
  return out;
}

double Bound(int32_t idx, const FloatHistogram& h) {
  if (UsesCustomBuckets(h)) {
    int32_t n = static_cast<int32_t>(h.custom_values.size());
    if (idx >= n) return INFINITY;
    if (idx < 0) return -INFINITY;
    return h.custom_values[static_cast<size_t>(idx)];
  }
  return ExponentialBucketBound(idx, h.schema);
}

// Prometheus' zeroCountForLargerThreshold: the zero count `h` would have with a zero
// bucket of at least `threshold`; *threshold grows when it falls inside a populated bucket.
double ZeroCountForLargerThreshold(const FloatHistogram& h, double* threshold) {
  if (*threshold == h.zero_threshold) return h.zero_count;
  BucketList pos = Expand(h.positive_spans, h.positive_buckets);
  BucketList neg = Expand(h.negative_spans, h.negative_buckets);
  while (true) {
    double zc = h.zero_count;
    for (const auto& b : pos) {
      double lower = ExponentialBucketBound(b.index - 1, h.schema);
      double upper = ExponentialBucketBound(b.index, h.schema);
      if (lower >= *threshold) break;
      zc += b.count;
      if (upper > *threshold) {
        if (b.count != 0) *threshold = upper;
        break;
      }
    }
    bool redo = false;
    for (const auto& b : neg) {
      double upper = -ExponentialBucketBound(b.index - 1, h.schema);
      double lower = -ExponentialBucketBound(b.index, h.schema);
      if (upper <= -*threshold) break;
      zc += b.count;
      if (lower < -*threshold) {
        if (b.count != 0) {
          *threshold = -lower;
          redo = true;
        }
        break;
      }
    }
    if (!redo) return zc;
  }
}

// Drops the buckets inside the zero bucket (their counts are already in the zero count).
void TrimBucketsInZeroBucket(FloatHistogram* h) {
  BucketList pos = Expand(h->positive_spans, h->positive_buckets);
  BucketList neg = Expand(h->negative_spans, h->negative_buckets);
  for (auto& b : pos) {
    if (ExponentialBucketBound(b.index - 1, h->schema) >= h->zero_threshold) break;
    b.count = 0;
  }
  for (auto& b : neg) {
    if (-ExponentialBucketBound(b.index - 1, h->schema) <= -h->zero_threshold) break;
    b.count = 0;
  }
  Collapse(pos, &h->positive_spans, &h->positive_buckets);
  Collapse(neg, &h->negative_spans, &h->negative_buckets);
}

// Prometheus' adjustCounterReset for addition and subtraction.
bool AdjustCounterReset(FloatHistogram* h, const FloatHistogram& other) {
  using H = storage::CounterResetHint;
  H a = h->counter_reset_hint, b = other.counter_reset_hint;
  if (a == b || a == H::kGaugeType) return false;
  if (b == H::kGaugeType) {
    h->counter_reset_hint = H::kGaugeType;
    return false;
  }
  if (a == H::kUnknown) return false;
  h->counter_reset_hint = H::kUnknown;
  return b != H::kUnknown;
}

// Adds b (negated when subtracting) into a; b's buckets with an upper bound <= threshold
// are ignored (they belong to the zero bucket).
BucketList AddLists(const BucketList& a, const BucketList& b, bool subtract, int32_t schema,
                    double threshold, bool exponential) {
  std::map<int32_t, double> m;
  for (const auto& x : a) m[x.index] += x.count;
  bool below = true;
  for (const auto& x : b) {
    if (below && exponential && ExponentialBucketBound(x.index, schema) <= threshold) continue;
    below = false;
    m[x.index] += subtract ? -x.count : x.count;
  }
  BucketList out;
  out.reserve(m.size());
  for (const auto& [i, c] : m) out.push_back({i, c});
  return out;
}

std::vector<double> IntersectBounds(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> out;
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i] == b[j]) {
      out.push_back(a[i]);
      ++i;
      ++j;
    } else if (a[i] < b[j]) {
      ++i;
    } else {
      ++j;
    }
  }
  return out;
}

// Maps custom buckets onto coarser `target` bounds (a subset of `bounds`).
BucketList MapCustom(const BucketList& in, const std::vector<double>& bounds,
                     const std::vector<double>& target) {
  std::vector<double> counts(target.size() + 1);
  for (const auto& b : in) {
    size_t t = target.size();
    if (b.index >= 0 && static_cast<size_t>(b.index) < bounds.size()) {
      double bound = bounds[static_cast<size_t>(b.index)];
      auto it = std::lower_bound(target.begin(), target.end(), bound);
      if (it != target.end()) t = static_cast<size_t>(it - target.begin());
    }
    counts[t] += b.count;
  }
  BucketList out;
  for (size_t i = 0; i < counts.size(); ++i) out.push_back({static_cast<int32_t>(i), counts[i]});
  return out;
}

bool BitEqual(double a, double b) { return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b); }

}  // namespace

double ExponentialBucketBound(int32_t index, int32_t schema) {
  if (schema > 8 || schema < -4) {
    // Not a valid schema (input may carry anything): the plain formula, never UB.
    return std::exp2(static_cast<double>(index) * std::exp2(-static_cast<double>(schema)));
  }
  if (schema < 0) {
    int64_t exp = static_cast<int64_t>(index) << -schema;
    if (exp == 1024) return std::numeric_limits<double>::max();
    return std::ldexp(1.0, static_cast<int>(std::clamp<int64_t>(exp, -100000, 100000)));
  }
  int32_t frac_idx = index & ((1 << schema) - 1);
  double frac = std::exp2(static_cast<double>(frac_idx) / static_cast<double>(1 << schema)) / 2;
  int64_t exp = (static_cast<int64_t>(index) >> schema) + 1;
  if (frac == 0.5 && exp == 1025) return std::numeric_limits<double>::max();
  return std::ldexp(frac, static_cast<int>(std::clamp<int64_t>(exp, -100000, 100000)));
}

std::vector<HistogramBucket> AllBuckets(const FloatHistogram& h) {
  std::vector<HistogramBucket> out;
  if (UsesCustomBuckets(h)) {
    for (const auto& b : Expand(h.positive_spans, h.positive_buckets)) {
      if (b.count == 0) continue;
      out.push_back({Bound(b.index - 1, h), Bound(b.index, h), b.index == 0, true, b.count, b.index});
    }
    return out;
  }
  BucketList neg = Expand(h.negative_spans, h.negative_buckets);
  for (auto it = neg.rbegin(); it != neg.rend(); ++it) {
    if (it->count == 0) continue;
    HistogramBucket b{-ExponentialBucketBound(it->index, h.schema),
                      -ExponentialBucketBound(it->index - 1, h.schema), true, false, it->count,
                      it->index};
    b.lower_inclusive = b.lower < 0;
    b.upper_inclusive = b.upper > 0;
    if (b.upper < 0 && b.upper > -h.zero_threshold) b.upper = -h.zero_threshold;
    out.push_back(b);
  }
  if (h.zero_count > 0) {
    out.push_back({-h.zero_threshold, h.zero_threshold, true, true, h.zero_count, 0});
  }
  for (const auto& x : Expand(h.positive_spans, h.positive_buckets)) {
    if (x.count == 0) continue;
    HistogramBucket b{ExponentialBucketBound(x.index - 1, h.schema),
                      ExponentialBucketBound(x.index, h.schema), false, true, x.count, x.index};
    b.lower_inclusive = b.lower < 0;
    b.upper_inclusive = b.upper > 0;
    if (b.lower > 0 && b.lower < h.zero_threshold) b.lower = h.zero_threshold;
    out.push_back(b);
  }
  return out;
}

bool HistogramAdd(FloatHistogram* h, const FloatHistogram& other, bool subtract,
                  HistogramOpNotes* notes) {
  if (UsesCustomBuckets(*h) != UsesCustomBuckets(other)) return false;
  if (AdjustCounterReset(h, other)) notes->counter_reset_collision = true;
  double sign = subtract ? -1 : 1;
  h->count += sign * other.count;
  h->sum += sign * other.sum;
  if (UsesCustomBuckets(*h)) {
    BucketList a = Expand(h->positive_spans, h->positive_buckets);
    BucketList b = Expand(other.positive_spans, other.positive_buckets);
    if (h->custom_values != other.custom_values) {
      notes->custom_bounds_reconciled = true;
      std::vector<double> bounds = IntersectBounds(h->custom_values, other.custom_values);
      a = MapCustom(a, h->custom_values, bounds);
      b = MapCustom(b, other.custom_values, bounds);
      h->custom_values = std::move(bounds);
    }
    BucketList sum = AddLists(a, b, subtract, h->schema, 0, false);
    Collapse(sum, &h->positive_spans, &h->positive_buckets);
    return true;
  }
  // Zero buckets: widen both to a threshold that cuts no populated bucket.
  double other_zc = other.zero_count;
  double other_thr = other.zero_threshold;
  // Each round only grows a threshold; NaN (bad input) would never settle.
  while (other_thr != h->zero_threshold && !std::isnan(other_thr) &&
         !std::isnan(h->zero_threshold)) {
    if (h->zero_threshold > other_thr) {
      other_thr = h->zero_threshold;
      other_zc = ZeroCountForLargerThreshold(other, &other_thr);
    }
    if (other_thr > h->zero_threshold) {
      double thr = other_thr;
      h->zero_count = ZeroCountForLargerThreshold(*h, &thr);
      h->zero_threshold = thr;
      TrimBucketsInZeroBucket(h);
    }
  }
  h->zero_count += sign * other_zc;
  int32_t schema = std::min(h->schema, other.schema);
  BucketList hp = Reduce(Expand(h->positive_spans, h->positive_buckets), h->schema, schema);
  BucketList hn = Reduce(Expand(h->negative_spans, h->negative_buckets), h->schema, schema);
  BucketList op = Reduce(Expand(other.positive_spans, other.positive_buckets), other.schema, schema);
  BucketList on = Reduce(Expand(other.negative_spans, other.negative_buckets), other.schema, schema);
  h->schema = schema;
  Collapse(AddLists(hp, op, subtract, schema, h->zero_threshold, true), &h->positive_spans,
           &h->positive_buckets);
  Collapse(AddLists(hn, on, subtract, schema, h->zero_threshold, true), &h->negative_spans,
           &h->negative_buckets);
  return true;
}

void HistogramMul(FloatHistogram* h, double factor) {
  h->zero_count *= factor;
  h->count *= factor;
  h->sum *= factor;
  for (double& b : h->positive_buckets) b *= factor;
  for (double& b : h->negative_buckets) b *= factor;
  if (factor < 0) h->counter_reset_hint = storage::CounterResetHint::kGaugeType;
  HistogramCompact(h);
}

void HistogramDiv(FloatHistogram* h, double divisor) {
  h->zero_count /= divisor;
  h->count /= divisor;
  h->sum /= divisor;
  if (divisor == 0) {
    h->positive_buckets.clear();
    h->negative_buckets.clear();
    h->positive_spans.clear();
    h->negative_spans.clear();
    return;
  }
  for (double& b : h->positive_buckets) b /= divisor;
  for (double& b : h->negative_buckets) b /= divisor;
  if (divisor < 0) h->counter_reset_hint = storage::CounterResetHint::kGaugeType;
  HistogramCompact(h);
}

void HistogramCompact(FloatHistogram* h) {
  BucketList pos = Expand(h->positive_spans, h->positive_buckets);
  BucketList neg = Expand(h->negative_spans, h->negative_buckets);
  Collapse(pos, &h->positive_spans, &h->positive_buckets);
  Collapse(neg, &h->negative_spans, &h->negative_buckets);
}

FloatHistogram HistogramToSchema(const FloatHistogram& h, int32_t schema) {
  if (UsesCustomBuckets(h) || schema >= h.schema) return h;
  FloatHistogram out = h;
  out.schema = schema;
  Collapse(Reduce(Expand(h.positive_spans, h.positive_buckets), h.schema, schema),
           &out.positive_spans, &out.positive_buckets);
  Collapse(Reduce(Expand(h.negative_spans, h.negative_buckets), h.schema, schema),
           &out.negative_spans, &out.negative_buckets);
  return out;
}

namespace {

// Buckets of `h` at `schema` (<= h.schema), skipping the leading ones whose upper bound
// is <= threshold (Prometheus' floatBucketIterator with absoluteStartValue).
BucketList BucketsFrom(const std::vector<storage::BucketSpan>& spans,
                       const std::vector<double>& buckets, int32_t origin, int32_t schema,
                       double threshold, bool exponential) {
  BucketList all = Reduce(Expand(spans, buckets), origin, schema);
  if (!exponential || threshold == 0) return all;
  size_t i = 0;
  while (i < all.size() && ExponentialBucketBound(all[i].index, schema) <= threshold) ++i;
  return BucketList(all.begin() + static_cast<std::ptrdiff_t>(i), all.end());
}

bool DetectResetIn(const BucketList& cur, const BucketList& prev) {
  size_t c = 0;
  for (const auto& p : prev) {
    while (c < cur.size() && cur[c].index < p.index) ++c;
    if (c == cur.size() || cur[c].index > p.index) {
      if (p.count != 0) return true;
    } else if (cur[c].count < p.count) {
      return true;
    }
  }
  return false;
}

// Custom buckets with different bounds: compare cumulative counts at the shared bounds.
bool DetectResetMismatchedBounds(const FloatHistogram& cur, const FloatHistogram& prev) {
  std::vector<double> shared = IntersectBounds(cur.custom_values, prev.custom_values);
  shared.push_back(INFINITY);
  auto sums = [&](const FloatHistogram& h) {
    std::vector<double> out(shared.size());
    for (const auto& b : Expand(h.positive_spans, h.positive_buckets)) {
      double upper = Bound(b.index, h);
      auto it = std::lower_bound(shared.begin(), shared.end(), upper);
      if (it != shared.end()) out[static_cast<size_t>(it - shared.begin())] += b.count;
    }
    return out;
  };
  std::vector<double> c = sums(cur), p = sums(prev);
  for (size_t i = 0; i < shared.size(); ++i) {
    if (c[i] < p[i]) return true;
  }
  return false;
}

}  // namespace

bool HistogramDetectReset(const FloatHistogram& cur, const FloatHistogram& prev) {
  using H = storage::CounterResetHint;
  if (cur.counter_reset_hint == H::kCounterReset) return true;
  if (cur.counter_reset_hint == H::kNotCounterReset) return false;
  if (cur.count < prev.count) return true;
  if (UsesCustomBuckets(cur)) {
    if (!UsesCustomBuckets(prev)) return true;
    if (cur.custom_values != prev.custom_values) return DetectResetMismatchedBounds(cur, prev);
  } else if (UsesCustomBuckets(prev)) {
    return true;
  }
  if (cur.schema > prev.schema) return true;
  if (cur.zero_threshold < prev.zero_threshold) return true;
  double thr = cur.zero_threshold;
  double prev_zc = UsesCustomBuckets(prev) ? prev.zero_count : ZeroCountForLargerThreshold(prev, &thr);
  if (thr != cur.zero_threshold) return true;
  if (cur.zero_count < prev_zc) return true;
  bool exp = !UsesCustomBuckets(cur);
  if (DetectResetIn(BucketsFrom(cur.positive_spans, cur.positive_buckets, cur.schema, cur.schema,
                                cur.zero_threshold, exp),
                    BucketsFrom(prev.positive_spans, prev.positive_buckets, prev.schema,
                                cur.schema, cur.zero_threshold, exp))) {
    return true;
  }
  return DetectResetIn(BucketsFrom(cur.negative_spans, cur.negative_buckets, cur.schema,
                                   cur.schema, cur.zero_threshold, exp),
                       BucketsFrom(prev.negative_spans, prev.negative_buckets, prev.schema,
                                   cur.schema, cur.zero_threshold, exp));
}

bool HistogramEquals(const FloatHistogram& x, const FloatHistogram& y) {
  FloatHistogram a = x, b = y;
  HistogramCompact(&a);
  HistogramCompact(&b);
  if (a.schema != b.schema || !BitEqual(a.count, b.count) || !BitEqual(a.sum, b.sum)) return false;
  if (UsesCustomBuckets(a) && a.custom_values != b.custom_values) return false;
  if (a.zero_threshold != b.zero_threshold || !BitEqual(a.zero_count, b.zero_count)) return false;
  if (a.positive_spans != b.positive_spans || a.negative_spans != b.negative_spans) return false;
  auto same = [](const std::vector<double>& p, const std::vector<double>& q) {
    if (p.size() != q.size()) return false;
    for (size_t i = 0; i < p.size(); ++i) {
      if (!BitEqual(p[i], q[i])) return false;
    }
    return true;
  };
  return same(a.positive_buckets, b.positive_buckets) && same(a.negative_buckets, b.negative_buckets);
}

bool HistogramHasOverflow(const FloatHistogram& h) {
  if (std::isinf(h.count) || std::isinf(h.sum) || std::isinf(h.zero_count)) return true;
  for (double b : h.positive_buckets) {
    if (std::isinf(b)) return true;
  }
  for (double b : h.negative_buckets) {
    if (std::isinf(b)) return true;
  }
  return false;
}

}  // namespace otelbox::query::promql

namespace otelbox::query::promql {
namespace {

double FractionBelowInBucket(const HistogramBucket& b, double v, bool linear) {
  if (linear) return (v - b.lower) / (b.upper - b.lower);
  double log_lower = std::log2(std::fabs(b.lower));
  double log_upper = std::log2(std::fabs(b.upper));
  double log_v = std::log2(std::fabs(v));
  if (v > 0) return (log_v - log_lower) / (log_upper - log_lower);
  return 1 - ((log_v - log_upper) / (log_lower - log_upper));
}

// Midpoint of the part of a bucket that survives a trim (arithmetic for custom buckets,
// geometric for exponential ones).
double SurvivingMidpoint(double lower, double upper, bool positive, bool linear) {
  if (std::isinf(lower)) {
    if (std::isinf(upper)) return 0;
    return upper > 0 ? upper / 2 : upper;
  }
  if (std::isinf(upper)) return lower;
  if (linear) return (lower + upper) / 2;
  double geo = std::sqrt(std::fabs(lower * upper));
  return positive ? geo : -geo;
}

// A bucket with an infinite bound: (kept count, midpoint).
std::pair<double, double> TrimInfiniteBucket(bool upper_trim, const HistogramBucket& b, double v) {
  auto zero_if_inf = [](double x) { return std::isinf(x) ? 0.0 : x; };
  if (std::isinf(b.lower) && b.lower < 0) {
    if (upper_trim) {
      if (v >= b.upper) return {b.count, 0};
      if (v > 0 && b.upper > 0 && !std::isinf(b.upper)) return {b.count * v / b.upper, v / 2};
      if (b.upper <= 0) return {b.count, v};
      return {0, zero_if_inf(b.upper)};
    }
    if (v <= b.lower) return {b.count, 0};
    if (v >= 0 && b.upper > v && !std::isinf(b.upper)) {
      return {b.count * (1 - v / b.upper), (v + b.upper) / 2};
    }
    return {0, zero_if_inf(b.upper)};
  }
  if (upper_trim) return {0, zero_if_inf(b.lower)};
  if (v >= b.lower) return {b.count, v};
  return {0, zero_if_inf(b.lower)};
}

std::pair<double, double> TrimBucket(const HistogramBucket& b, double v, bool upper_trim,
                                     bool positive, bool custom) {
  if ((std::isinf(b.lower) && b.lower < 0) || (std::isinf(b.upper) && b.upper > 0)) {
    return TrimInfiniteBucket(upper_trim, b, v);
  }
  double under;
  if (v <= b.lower) {
    under = 0;
  } else if (v >= b.upper) {
    under = b.count;
  } else {
    under = b.count * FractionBelowInBucket(b, v, custom);
  }
  if (upper_trim) return {under, SurvivingMidpoint(b.lower, v, positive, custom)};
  return {b.count - under, SurvivingMidpoint(v, b.upper, positive, custom)};
}

}  // namespace

void HistogramTrimBuckets(FloatHistogram* h, double v, bool upper) {
  bool custom = UsesCustomBuckets(*h);
  double new_count = 0, new_sum = 0;
  bool trimmed = false, has_pos = false, has_neg = false;
  auto side = [&](std::vector<storage::BucketSpan>* spans, std::vector<double>* buckets,
                  bool positive) {
    BucketList list = Expand(*spans, *buckets);
    for (auto& x : list) {
      if (x.count == 0) continue;
      (positive ? has_pos : has_neg) = true;
      HistogramBucket b;
      b.count = x.count;
      if (positive) {
        b.lower = Bound(x.index - 1, *h);
        b.upper = Bound(x.index, *h);
      } else {
        b.lower = -Bound(x.index, *h);
        b.upper = -Bound(x.index - 1, *h);
      }
      bool keep_all = upper ? b.upper <= v : b.lower >= v;
      bool partial = upper ? b.lower < v : b.upper > v;
      if (keep_all) {
        new_count += b.count;
        new_sum += SurvivingMidpoint(b.lower, b.upper, positive, custom) * b.count;
      } else if (partial) {
        auto [keep, mid] = TrimBucket(b, v, upper, positive, custom);
        new_count += keep;
        new_sum += mid * keep;
        if (x.count != keep) {
          x.count = keep;
          trimmed = true;
        }
      } else {
        x.count = 0;
        trimmed = true;
      }
    }
    Collapse(list, spans, buckets);
  };
  side(&h->positive_spans, &h->positive_buckets, true);
  side(&h->negative_spans, &h->negative_buckets, false);
  if (h->zero_count > 0) {
    double lower = -h->zero_threshold, up = h->zero_threshold;
    if (has_neg && !has_pos) up = 0;
    if (has_pos && !has_neg) lower = 0;
    double keep = 0, mid = 0;
    if (upper) {
      if (v <= lower) {
        keep = 0;
      } else if (v >= up) {
        keep = h->zero_count;
        mid = (lower + up) / 2;
      } else {
        keep = h->zero_count * (v - lower) / (up - lower);
        mid = (lower + v) / 2;
      }
    } else {
      if (v <= lower) {
        keep = h->zero_count;
        mid = (lower + up) / 2;
      } else if (v >= up) {
        keep = 0;
      } else {
        keep = h->zero_count * (up - v) / (up - lower);
        mid = (v + up) / 2;
      }
    }
    if (h->zero_count != keep) {
      h->zero_count = keep;
      trimmed = true;
    }
    new_sum += mid * keep;
    new_count += keep;
  }
  if (trimmed) {
    h->count = new_count;
    h->sum = new_sum;
  }
}

}  // namespace otelbox::query::promql

namespace otelbox::query::promql {
namespace {

// Go's %g (shortest): exponent form when the exponent is < -4 or >= 6.
std::string GoFormatG(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == 0) return std::signbit(v) ? "-0" : "0";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string sci(buf, r.ptr);
  size_t e = sci.find('e');
  int exp = std::stoi(sci.substr(e + 1));
  if (exp < -4 || exp >= 6) {
    std::string mant = sci.substr(0, e);
    char eb[16];
    std::snprintf(eb, sizeof eb, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    return mant + eb;
  }
  r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  return std::string(buf, r.ptr);
}

std::string BucketString(const HistogramBucket& b) {
  return std::string(b.lower_inclusive ? "[" : "(") + GoFormatG(b.lower) + "," +
         GoFormatG(b.upper) + (b.upper_inclusive ? "]" : ")") + ":" + GoFormatG(b.count);
}

}  // namespace

std::string HistogramString(const FloatHistogram& h) {
  std::string out = "{count:" + GoFormatG(h.count) + ", sum:" + GoFormatG(h.sum);
  // Bounds as the bucket iterators give them (not clipped at the zero threshold).
  for (const auto& b : AllBuckets(h)) {
    HistogramBucket x = b;
    bool zero = !UsesCustomBuckets(h) && x.lower <= 0 && x.upper >= 0 && x.lower_inclusive &&
                x.upper_inclusive;
    if (!zero && !UsesCustomBuckets(h)) {
      if (x.upper > 0) {
        x.lower = ExponentialBucketBound(x.index - 1, h.schema);
      } else {
        x.upper = -ExponentialBucketBound(x.index - 1, h.schema);
      }
    }
    out += ", " + BucketString(x);
  }
  return out + "}";
}

}  // namespace otelbox::query::promql

namespace otelbox::query::promql {

void HistogramKahanSum::Compensated::Inc(double v) {
  double t = s + v;
  if (std::isinf(t)) {
    c = 0;
  } else if (std::fabs(s) >= std::fabs(v)) {
    c += (s - t) + v;
  } else {
    c += (v - t) + s;
  }
  s = t;
}

HistogramKahanSum::HistogramKahanSum(const FloatHistogram& first) {
  meta_ = first;
  meta_.positive_spans.clear();
  meta_.positive_buckets.clear();
  meta_.negative_spans.clear();
  meta_.negative_buckets.clear();
  count_.s = first.count;
  sum_.s = first.sum;
  zero_.s = first.zero_count;
  for (const auto& b : Expand(first.positive_spans, first.positive_buckets)) {
    pos_.push_back({b.index, {b.count, 0}});
  }
  for (const auto& b : Expand(first.negative_spans, first.negative_buckets)) {
    neg_.push_back({b.index, {b.count, 0}});
  }
}

FloatHistogram HistogramKahanSum::Values() const {
  FloatHistogram h = meta_;
  h.count = count_.s;
  h.sum = sum_.s;
  h.zero_count = zero_.s;
  BucketList p, n;
  for (const auto& [i, v] : pos_) p.push_back({i, v.s});
  for (const auto& [i, v] : neg_) n.push_back({i, v.s});
  // Keep empty buckets: they hold no count but Expand/Collapse would drop them anyway.
  Collapse(p, &h.positive_spans, &h.positive_buckets);
  Collapse(n, &h.negative_spans, &h.negative_buckets);
  return h;
}

void HistogramKahanSum::ReduceTo(int32_t schema) {
  if (schema >= meta_.schema) return;
  auto reduce = [&](std::vector<std::pair<int32_t, Compensated>>* side) {
    std::vector<std::pair<int32_t, Compensated>> out;
    for (const auto& [i, v] : *side) {
      int32_t t = TargetIndex(i, meta_.schema, schema);
      if (!out.empty() && out.back().first == t) {
        out.back().second.Inc(v.s);
        out.back().second.c += v.c;
      } else {
        out.push_back({t, v});
      }
    }
    *side = std::move(out);
  };
  reduce(&pos_);
  reduce(&neg_);
  meta_.schema = schema;
}

void HistogramKahanSum::WidenZeroBucket(double threshold) {
  meta_.zero_threshold = threshold;
  std::erase_if(pos_, [&](const auto& b) {
    if (ExponentialBucketBound(b.first - 1, meta_.schema) >= threshold) return false;
    zero_.Inc(b.second.s);
    zero_.Inc(b.second.c);
    return true;
  });
  std::erase_if(neg_, [&](const auto& b) {
    if (-ExponentialBucketBound(b.first - 1, meta_.schema) <= -threshold) return false;
    zero_.Inc(b.second.s);
    zero_.Inc(b.second.c);
    return true;
  });
}

bool HistogramKahanSum::Add(const FloatHistogram& other, HistogramOpNotes* notes) {
  if (UsesCustomBuckets(meta_) != UsesCustomBuckets(other)) return false;
  if (AdjustCounterReset(&meta_, other)) notes->counter_reset_collision = true;
  count_.Inc(other.count);
  sum_.Inc(other.sum);
  auto add_list = [](std::vector<std::pair<int32_t, Compensated>>* side, const BucketList& add) {
    std::map<int32_t, Compensated> m(side->begin(), side->end());
    for (const auto& b : add) m[b.index].Inc(b.count);
    side->assign(m.begin(), m.end());
  };
  if (UsesCustomBuckets(meta_)) {
    BucketList b = Expand(other.positive_spans, other.positive_buckets);
    if (meta_.custom_values != other.custom_values) {
      notes->custom_bounds_reconciled = true;
      std::vector<double> bounds = IntersectBounds(meta_.custom_values, other.custom_values);
      std::map<int32_t, Compensated> mapped;
      for (const auto& [i, v] : pos_) {
        int32_t t = static_cast<int32_t>(bounds.size());
        if (i >= 0 && static_cast<size_t>(i) < meta_.custom_values.size()) {
          auto it = std::lower_bound(bounds.begin(), bounds.end(),
                                     meta_.custom_values[static_cast<size_t>(i)]);
          if (it != bounds.end()) t = static_cast<int32_t>(it - bounds.begin());
        }
        mapped[t].Inc(v.s);
        mapped[t].Inc(v.c);
      }
      pos_.assign(mapped.begin(), mapped.end());
      b = MapCustom(b, other.custom_values, bounds);
      meta_.custom_values = std::move(bounds);
    }
    add_list(&pos_, b);
    return true;
  }
  // Zero buckets: both widened to a threshold cutting no populated bucket.
  double other_zc = other.zero_count;
  double other_thr = other.zero_threshold;
  while (other_thr != meta_.zero_threshold && !std::isnan(other_thr) &&
         !std::isnan(meta_.zero_threshold)) {
    if (meta_.zero_threshold > other_thr) {
      other_thr = meta_.zero_threshold;
      other_zc = ZeroCountForLargerThreshold(other, &other_thr);
    }
    if (other_thr > meta_.zero_threshold) {
      double thr = other_thr;
      ZeroCountForLargerThreshold(Values(), &thr);
      WidenZeroBucket(thr);
    }
  }
  zero_.Inc(other_zc);
  int32_t schema = std::min(meta_.schema, other.schema);
  ReduceTo(schema);
  auto above = [&](const BucketList& in) {
    BucketList out;
    bool below = true;
    for (const auto& b : in) {
      if (below && ExponentialBucketBound(b.index, schema) <= meta_.zero_threshold) continue;
      below = false;
      out.push_back(b);
    }
    return out;
  };
  add_list(&pos_, above(Reduce(Expand(other.positive_spans, other.positive_buckets),
                               other.schema, schema)));
  add_list(&neg_, above(Reduce(Expand(other.negative_spans, other.negative_buckets),
                               other.schema, schema)));
  return true;
}

void HistogramKahanSum::Mul(double factor) {
  for (Compensated* v : {&count_, &sum_, &zero_}) {
    v->s *= factor;
    v->c *= factor;
  }
  for (auto* side : {&pos_, &neg_}) {
    for (auto& [i, v] : *side) {
      v.s *= factor;
      v.c *= factor;
    }
  }
  if (factor < 0) meta_.counter_reset_hint = storage::CounterResetHint::kGaugeType;
}

void HistogramKahanSum::Div(double divisor) {
  for (Compensated* v : {&count_, &sum_, &zero_}) {
    v->s /= divisor;
    v->c /= divisor;
  }
  if (divisor == 0) {
    pos_.clear();
    neg_.clear();
    return;
  }
  for (auto* side : {&pos_, &neg_}) {
    for (auto& [i, v] : *side) {
      v.s /= divisor;
      v.c /= divisor;
    }
  }
  if (divisor < 0) meta_.counter_reset_hint = storage::CounterResetHint::kGaugeType;
}

bool HistogramKahanSum::HasOverflow() const {
  if (std::isinf(count_.s) || std::isinf(sum_.s) || std::isinf(zero_.s)) return true;
  for (const auto* side : {&pos_, &neg_}) {
    for (const auto& [i, v] : *side) {
      if (std::isinf(v.s)) return true;
    }
  }
  return false;
}

FloatHistogram HistogramKahanSum::Result() const {
  FloatHistogram h = meta_;
  h.count = count_.s + count_.c;
  h.sum = sum_.s + sum_.c;
  h.zero_count = zero_.s + zero_.c;
  BucketList p, n;
  for (const auto& [i, v] : pos_) p.push_back({i, v.s + v.c});
  for (const auto& [i, v] : neg_) n.push_back({i, v.s + v.c});
  Collapse(p, &h.positive_spans, &h.positive_buckets);
  Collapse(n, &h.negative_spans, &h.negative_buckets);
  return h;
}

}  // namespace otelbox::query::promql
