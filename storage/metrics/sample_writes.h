#pragma once
// The samples of one series in the order they were written, of both kinds (floats and
// native histograms). A timestamp holds one sample of either kind and a later write
// replaces an earlier one whatever their kinds, so resolving needs the write order across
// the two kinds: it is kept as, per histogram, the number of floats written before it,
// which costs the float-only path nothing.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "storage/model/sample.h"

namespace otelbox::storage {

// Samples of both kinds sorted by time, one sample per timestamp across both vectors.
struct ResolvedSamples {
  std::vector<Sample> floats;
  std::vector<HistogramSample> histograms;
};

// Not thread-safe.
class SampleWrites {
 public:
  void AddFloats(const Sample* begin, const Sample* end) {
    for (const Sample* s = begin; s != end; ++s) AddFloat(*s);
  }
  void AddFloat(const Sample& s) {
    floats_ascending_ = floats_ascending_ && (floats_.empty() || s.t_ms > floats_.back().t_ms);
    floats_.push_back(s);
  }
  void AddHistograms(const HistogramSample* begin, const HistogramSample* end);
  void AddHistogram(const HistogramSample& h);
  // Appends `other`'s writes with times in [start_ms, end_ms], keeping their order after
  // this one's (they are newer).
  void AppendInRange(const SampleWrites& other, int64_t start_ms, int64_t end_ms);

  const std::vector<Sample>& floats() const { return floats_; }
  const std::vector<HistogramSample>& histograms() const { return histograms_; }
  size_t size() const { return floats_.size() + histograms_.size(); }
  bool empty() const { return floats_.empty() && histograms_.empty(); }

  // Sorted by time; of the writes with equal timestamps the newest one stays.
  ResolvedSamples Resolve() const;

 private:
  std::vector<Sample> floats_;
  std::vector<HistogramSample> histograms_;
  std::vector<size_t> floats_before_;  // per histogram: floats written before it
  // Every float was written after all earlier ones in time (in-order ingest, the common
  // case): AppendInRange then finds its range by binary search instead of a scan.
  bool floats_ascending_ = true;
};

}  // namespace otelbox::storage
