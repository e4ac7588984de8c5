#pragma once
// Arithmetic on native histograms with the semantics of Prometheus'
// model/histogram/float_histogram.go: addition and subtraction reduce both operands to the
// smaller schema and widen the zero bucket to the larger threshold; custom-bucket
// histograms with different bounds are reconciled to the bounds they share; counter-reset
// detection compares bucket by bucket.
//
// Results are always compact (Prometheus' Compact(0)): no empty buckets, spans merged.
// Every comparison in the engine and in the conformance runner is made on compacted
// histograms, so nothing observable depends on the uncompacted layout.

#include <cstdint>
#include <string>
#include <vector>

#include "storage/model/histogram.h"

namespace otelbox::query::promql {

using storage::FloatHistogram;

inline bool UsesCustomBuckets(const FloatHistogram& h) {
  return h.schema == storage::kCustomBucketsSchema;
}

// One bucket with its bounds (Prometheus' histogram.Bucket[float64]).
struct HistogramBucket {
  double lower = 0;
  double upper = 0;
  bool lower_inclusive = false;
  bool upper_inclusive = true;
  double count = 0;
  int32_t index = 0;
};

// Upper bound of exponential bucket `index` at `schema`.
double ExponentialBucketBound(int32_t index, int32_t schema);

// Every non-empty bucket from the most negative to the most positive, the zero bucket
// between (if populated), as Prometheus' AllBucketIterator.
std::vector<HistogramBucket> AllBuckets(const FloatHistogram& h);

// What an addition or subtraction noticed (for the engine's annotations).
struct HistogramOpNotes {
  bool counter_reset_collision = false;  // one operand said reset, the other not
  bool custom_bounds_reconciled = false; // custom buckets with different bounds
};

// h += other (or h -= other). False when one uses custom buckets and the other does not
// (Prometheus' ErrHistogramsIncompatibleSchema); h is then unspecified.
bool HistogramAdd(FloatHistogram* h, const FloatHistogram& other, bool subtract,
                  HistogramOpNotes* notes);

// A running sum of histograms with Kahan-Neumaier compensation on every count, the sum
// and every bucket (Prometheus' FloatHistogram.KahanAdd with its compensation histogram),
// for sum/avg aggregations and sum_over_time/avg_over_time.
class HistogramKahanSum {
 public:
  explicit HistogramKahanSum(const FloatHistogram& first);
  // Adds `h`; false when one uses custom buckets and the other does not.
  bool Add(const FloatHistogram& h, HistogramOpNotes* notes);
  // Scale value and compensation alike (the incremental mean).
  void Mul(double factor);
  void Div(double divisor);
  // Any value (not compensation) is infinite.
  bool HasOverflow() const;
  // Value plus compensation, compact.
  FloatHistogram Result() const;

 private:
  struct Compensated {
    double s = 0;
    double c = 0;
    void Inc(double v);
  };
  FloatHistogram Values() const;  // the uncompensated values as a histogram
  void ReduceTo(int32_t schema);
  void WidenZeroBucket(double threshold);

  FloatHistogram meta_;  // schema, zero threshold, hint, custom bounds (no counts)
  Compensated count_, sum_, zero_;
  std::vector<std::pair<int32_t, Compensated>> pos_, neg_;  // ascending index
};

// Scales counts, sum and every bucket; a negative factor makes it a gauge.
void HistogramMul(FloatHistogram* h, double factor);
// Divides; dividing by 0 removes every bucket (count, sum, zero bucket become ±Inf/NaN).
void HistogramDiv(FloatHistogram* h, double divisor);

// Prometheus' TrimBuckets: `h </ v` (upper) keeps the observations below v, `h >/ v`
// those above, interpolating inside the bucket v falls in; count and sum are re-estimated
// from bucket midpoints when anything was cut.
void HistogramTrimBuckets(FloatHistogram* h, double v, bool upper);

// Removes empty buckets and merges adjacent spans.
void HistogramCompact(FloatHistogram* h);

// `h` reduced to a smaller schema (exponential only; custom buckets are returned as is).
FloatHistogram HistogramToSchema(const FloatHistogram& h, int32_t schema);

// Prometheus' DetectReset: is `cur` a counter reset relative to `prev`?
bool HistogramDetectReset(const FloatHistogram& cur, const FloatHistogram& prev);

// Prometheus' Equals on compacted copies (bit-exact counts).
bool HistogramEquals(const FloatHistogram& a, const FloatHistogram& b);

// Prometheus' FloatHistogram.String(), e.g. "{count:5, sum:3, [-1,-0.5):1, (0.5,1]:4}"
// (what count_values uses as the label value of a histogram).
std::string HistogramString(const FloatHistogram& h);

// Any count, sum or bucket is infinite.
bool HistogramHasOverflow(const FloatHistogram& h);

}  // namespace otelbox::query::promql
