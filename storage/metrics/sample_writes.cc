#include "storage/metrics/sample_writes.h"

#include <algorithm>

namespace otelbox::storage {

void SampleWrites::AddHistograms(const HistogramSample* begin, const HistogramSample* end) {
  for (const HistogramSample* h = begin; h != end; ++h) AddHistogram(*h);
}

void SampleWrites::AddHistogram(const HistogramSample& h) {
  histograms_.push_back(h);
  floats_before_.push_back(floats_.size());
}

void SampleWrites::AppendInRange(const SampleWrites& other, int64_t start_ms, int64_t end_ms) {
  auto in_range = [&](int64_t t) { return t >= start_ms && t <= end_ms; };
  if (other.histograms_.empty() && other.floats_ascending_) {
    // An instant query reads the last minutes out of a head holding up to an hour per
    // series: the range is found walking back from the newest sample, which touches only
    // the memory it then copies (a binary search's cache misses cost more, per series).
    const Sample* begin = other.floats_.data();
    const Sample* last = begin + other.floats_.size();
    constexpr int kWalk = 64;  // then a binary search over what is left
    int walked = 0;
    while (last != begin && (last - 1)->t_ms > end_ms && walked++ < kWalk) --last;
    if (walked > kWalk) {
      last = std::upper_bound(begin, last, end_ms,
                              [](int64_t t, const Sample& s) { return t < s.t_ms; });
    }
    const Sample* first = last;
    walked = 0;
    while (first != begin && (first - 1)->t_ms >= start_ms && walked++ < kWalk) --first;
    if (walked > kWalk) {
      first = std::lower_bound(begin, first, start_ms,
                               [](const Sample& s, int64_t t) { return s.t_ms < t; });
    }
    if (first == last) return;
    floats_ascending_ = floats_ascending_ && (floats_.empty() || first->t_ms > floats_.back().t_ms);
    floats_.insert(floats_.end(), first, last);
    return;
  }
  size_t f = 0;
  for (size_t h = 0; h < other.histograms_.size(); ++h) {
    for (; f < other.floats_before_[h]; ++f) {
      if (in_range(other.floats_[f].t_ms)) AddFloat(other.floats_[f]);
    }
    if (in_range(other.histograms_[h].t_ms)) AddHistogram(other.histograms_[h]);
  }
  for (; f < other.floats_.size(); ++f) {
    if (in_range(other.floats_[f].t_ms)) AddFloat(other.floats_[f]);
  }
}

ResolvedSamples SampleWrites::Resolve() const {
  ResolvedSamples out;
  if (histograms_.empty()) {
    std::vector<Sample> sorted = floats_;
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const Sample& a, const Sample& b) { return a.t_ms < b.t_ms; });
    out.floats.reserve(sorted.size());
    for (size_t i = 0; i < sorted.size(); ++i) {
      if (i + 1 < sorted.size() && sorted[i + 1].t_ms == sorted[i].t_ms) continue;
      out.floats.push_back(sorted[i]);
    }
    return out;
  }
  // Every write in write order, then a stable sort by time: the last of equal times is
  // the newest write.
  struct Ref {
    int64_t t_ms;
    bool histogram;
    size_t index;
  };
  std::vector<Ref> refs;
  refs.reserve(size());
  size_t f = 0;
  for (size_t h = 0; h < histograms_.size(); ++h) {
    for (; f < floats_before_[h]; ++f) refs.push_back({floats_[f].t_ms, false, f});
    refs.push_back({histograms_[h].t_ms, true, h});
  }
  for (; f < floats_.size(); ++f) refs.push_back({floats_[f].t_ms, false, f});
  std::stable_sort(refs.begin(), refs.end(), [](const Ref& a, const Ref& b) { return a.t_ms < b.t_ms; });
  for (size_t i = 0; i < refs.size(); ++i) {
    if (i + 1 < refs.size() && refs[i + 1].t_ms == refs[i].t_ms) continue;
    if (refs[i].histogram) {
      out.histograms.push_back(histograms_[refs[i].index]);
    } else {
      out.floats.push_back(floats_[refs[i].index]);
    }
  }
  return out;
}

}  // namespace otelbox::storage
