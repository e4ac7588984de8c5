#pragma once
// Evaluates PromQL over a SeriesQuerier, with Prometheus' semantics for what it supports:
// number/string literals, scalar arithmetic and comparisons (`1+1`, `2 > bool 1`), unary
// minus, instant and range vector selectors with offset, and vector-scalar arithmetic and
// comparisons. Everything else that parses answers Unimplemented("... not supported yet").
//
// Thread-safe: one Engine serves every query concurrently (it holds no per-query state).

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"
#include "query/common/value.h"
#include "storage/querier.h"

namespace otelbox::query::promql {

struct EngineOptions {
  // How far back an instant vector selector looks for the newest sample (Prometheus'
  // --query.lookback-delta, 5m).
  int64_t lookback_delta_ms = 300000;
  // Points per series of a range query, as Prometheus' API limits them.
  int64_t max_points_per_series = 11000;
};

class Engine {
 public:
  // `querier` must outlive the engine.
  explicit Engine(storage::SeriesQuerier* querier, EngineOptions options = {});

  // Evaluates at t_ms. Results: scalar -> Scalar, string -> String, instant vector ->
  // Vector (timestamps = t_ms, sorted by labels), range vector -> Matrix.
  // Errors: InvalidArgument (parse errors, bad types), Unimplemented, or the querier's.
  absl::StatusOr<QueryResult> Instant(std::string_view tenant, std::string_view expr,
                                      int64_t t_ms);

  // Evaluates at start_ms + k*step_ms for every k with that time <= end_ms; always a
  // Matrix (series without points omitted; a scalar becomes one series without labels).
  absl::StatusOr<QueryResult> Range(std::string_view tenant, std::string_view expr,
                                    int64_t start_ms, int64_t end_ms, int64_t step_ms);

 private:
  storage::SeriesQuerier* querier_;
  EngineOptions options_;
};

}  // namespace otelbox::query::promql
