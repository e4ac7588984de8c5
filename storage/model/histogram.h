#pragma once
// Native histograms, the second metric sample kind (DESIGN.md "Internal model"), with the
// semantics of Prometheus' FloatHistogram: exponential buckets (schema -4..8, base
// 2^(2^-schema)) or custom buckets (schema -53, bounds in custom_values), a zero bucket,
// spans + absolute float bucket counts (not deltas).

#include <cstdint>
#include <vector>

namespace otelbox::storage {

inline constexpr int32_t kCustomBucketsSchema = -53;

enum class CounterResetHint : uint8_t {
  kUnknown = 0,      // may or may not be a reset: detect by comparing with the previous
  kCounterReset = 1, // definitely a reset
  kNotCounterReset = 2,
  kGaugeType = 3,    // a gauge histogram: never a reset
};

struct BucketSpan {
  int32_t offset = 0;  // gap to the previous span's end (first span: index of first bucket)
  uint32_t length = 0;
  bool operator==(const BucketSpan&) const = default;
};

struct FloatHistogram {
  CounterResetHint counter_reset_hint = CounterResetHint::kUnknown;
  int32_t schema = 0;
  double zero_threshold = 0;
  double zero_count = 0;
  double count = 0;
  double sum = 0;
  std::vector<BucketSpan> positive_spans;
  std::vector<BucketSpan> negative_spans;
  std::vector<double> positive_buckets;  // absolute counts, one per bucket in the spans
  std::vector<double> negative_buckets;
  std::vector<double> custom_values;     // upper bounds, only for kCustomBucketsSchema
  bool operator==(const FloatHistogram&) const = default;
};

struct HistogramSample {
  int64_t t_ms = 0;
  FloatHistogram h;
  bool operator==(const HistogramSample&) const = default;
};

}  // namespace otelbox::storage
