#pragma once
// Values produced by query evaluation (PromQL today; LogQL streams join later).
// Times are milliseconds since the Unix epoch.

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "storage/model/labels.h"
#include "storage/model/sample.h"

namespace otelbox::query {

struct Scalar {
  int64_t t_ms = 0;
  double v = 0;
};

struct String {
  int64_t t_ms = 0;
  std::string v;
};

// One element of an instant vector: a series and its single sample.
struct VectorElement {
  storage::Labels labels;
  int64_t t_ms = 0;
  double v = 0;                             // when h is empty
  std::optional<storage::FloatHistogram> h;  // a native histogram sample instead of v
};
using Vector = std::vector<VectorElement>;

// One series of a matrix, samples ascending by time.
struct MatrixSeries {
  storage::Labels labels;
  std::vector<storage::Sample> samples;
  std::vector<storage::HistogramSample> histograms;  // native histogram points, ascending
};
using Matrix = std::vector<MatrixSeries>;

using Value = std::variant<Scalar, String, Vector, Matrix>;

// "scalar", "string", "vector", "matrix": the resultType of the Prometheus API.
inline const char* ValueTypeName(const Value& v) {
  static constexpr const char* kNames[] = {"scalar", "string", "vector", "matrix"};
  return kNames[v.index()];
}

struct QueryResult {
  Value value;
  std::vector<std::string> warnings;  // shown by Grafana as panel notices
  std::vector<std::string> infos;     // Prometheus' "infos" (e.g. "PromQL info: ...")
};

}  // namespace otelbox::query
