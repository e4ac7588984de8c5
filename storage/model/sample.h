#pragma once
// The metric half of the internal model: series, samples, exemplars, metadata.

#include <bit>
#include <cstdint>
#include <string>
#include <vector>

#include "storage/model/histogram.h"
#include "storage/model/labels.h"

namespace otelbox::storage {

struct Sample {
  int64_t t_ms = 0;
  double value = 0;
  bool operator==(const Sample&) const = default;
};

// Prometheus' staleness marker: a specific NaN that means "series ended here".
inline constexpr uint64_t kStaleNaNBits = 0x7ff0000000000002ULL;
inline double StaleNaN() { return std::bit_cast<double>(kStaleNaNBits); }
inline bool IsStaleNaN(double v) { return std::bit_cast<uint64_t>(v) == kStaleNaNBits; }

struct Exemplar {
  Labels labels;  // trace_id, span_id, filtered attributes
  int64_t t_ms = 0;
  double value = 0;
  bool operator==(const Exemplar&) const = default;
};

// Persisted as a number: values are never renumbered.
enum class MetricType : uint8_t {
  kUnknown = 0,
  kCounter = 1,
  kGauge = 2,
  kHistogram = 3,
  kGaugeHistogram = 4,
  kSummary = 5,
  kInfo = 6,
  kStateset = 7,
};
// "counter", "gauge", ... as /api/v1/metadata prints them.
const char* MetricTypeName(MetricType type);

struct MetricMetadata {
  std::string family;  // metric family name, without _bucket/_sum/_count
  MetricType type = MetricType::kUnknown;
  std::string help;
  std::string unit;
  bool operator==(const MetricMetadata&) const = default;
};

struct SeriesSamples {
  Labels labels;                   // includes __name__
  std::vector<Sample> samples;     // any order; duplicates allowed
  std::vector<HistogramSample> histograms;  // native histograms; same rules as samples
  std::vector<Exemplar> exemplars;
};

// What every metrics receiver produces and MetricAppender consumes.
struct MetricBatch {
  std::vector<SeriesSamples> series;
  std::vector<MetricMetadata> metadata;

  // Samples of both kinds: a native histogram counts as one sample.
  size_t SampleCount() const {
    size_t n = 0;
    for (const auto& s : series) n += s.samples.size() + s.histograms.size();
    return n;
  }
};

}  // namespace otelbox::storage
