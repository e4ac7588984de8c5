#pragma once
// The only read seam between query/ or web/ and storage/ (STYLE.md 3.6).
// Times are inclusive milliseconds since the Unix epoch.

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/model/labels.h"
#include "storage/model/matcher.h"
#include "storage/model/sample.h"

namespace otelbox::storage {

inline constexpr int64_t kMinTimeMs = std::numeric_limits<int64_t>::min() / 2;
inline constexpr int64_t kMaxTimeMs = std::numeric_limits<int64_t>::max() / 2;

struct SeriesData {
  Labels labels;
  std::vector<Sample> samples;  // ascending by time, unique timestamps
  // Native histogram samples, ascending, unique timestamps. A timestamp is in at most one
  // of the two vectors (a later write of the other kind replaces the earlier one).
  std::vector<HistogramSample> histograms;
};

struct SeriesExemplars {
  Labels series_labels;
  std::vector<Exemplar> exemplars;  // ascending by time
};

// A list of matchers that a series must all satisfy; several of them are OR-ed, as the
// repeated match[] parameter of the Prometheus API is.
using MatcherSet = std::vector<Matcher>;

class SeriesQuerier {
 public:
  virtual ~SeriesQuerier() = default;

  // Series matching every matcher that have samples in [start_ms, end_ms], with those
  // samples. At least one matcher must not match the empty string (as in Prometheus);
  // otherwise InvalidArgument. Sorted by labels.
  virtual absl::StatusOr<std::vector<SeriesData>> Select(std::string_view tenant,
                                                          const MatcherSet& matchers,
                                                          int64_t start_ms, int64_t end_ms) = 0;

  // Label sets of series matching any of `sets` that were written in the day partitions
  // overlapping [start_ms, end_ms]. Sorted, at most `limit` (0 = no limit).
  virtual absl::StatusOr<std::vector<Labels>> Series(std::string_view tenant,
                                                     const std::vector<MatcherSet>& sets,
                                                     int64_t start_ms, int64_t end_ms,
                                                     size_t limit) = 0;

  // Label names (empty `sets`: of all series) in the day partitions overlapping the range.
  virtual absl::StatusOr<std::vector<std::string>> LabelNames(
      std::string_view tenant, const std::vector<MatcherSet>& sets, int64_t start_ms,
      int64_t end_ms, size_t limit) = 0;

  virtual absl::StatusOr<std::vector<std::string>> LabelValues(
      std::string_view tenant, std::string_view name, const std::vector<MatcherSet>& sets,
      int64_t start_ms, int64_t end_ms, size_t limit) = 0;

  // Metadata by family; `metric` empty means all families. `limit` counts families.
  virtual absl::StatusOr<std::vector<MetricMetadata>> Metadata(std::string_view tenant,
                                                               std::string_view metric,
                                                               size_t limit) = 0;

  virtual absl::StatusOr<std::vector<SeriesExemplars>> Exemplars(std::string_view tenant,
                                                                 const MatcherSet& matchers,
                                                                 int64_t start_ms,
                                                                 int64_t end_ms) = 0;
};

}  // namespace otelbox::storage
