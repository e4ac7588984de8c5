#pragma once
// Evaluates PromQL over a SeriesQuerier with Prometheus 3.x semantics: selectors (offset,
// @, lookback, staleness), subqueries, every binary operator with vector matching,
// aggregations and the functions, on floats and native histograms.
// Each selector reads storage once per query, over the whole range it needs.
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
  // Samples a query may hold in memory (Prometheus' --query.max-samples): beyond it,
  // ResourceExhausted "query processing would load too many samples into memory in ...".
  int64_t max_samples = 50'000'000;
  // Wall-clock budget (--query.timeout): DeadlineExceeded "query timed out in ...".
  int64_t timeout_ms = 120'000;
  // Step of subqueries written without one (`x[5m:]`): the global evaluation interval.
  int64_t default_evaluation_interval_ms = 60'000;
  // Experimental functions and aggregations (sort_by_label, mad_over_time,
  // double_exponential_smoothing/holt_winters, limitk), as
  // --enable-feature=promql-experimental-functions.
  bool enable_experimental = false;
  // --enable-feature=promql-delayed-name-removal: __name__ is removed only when the
  // evaluation ends, so label_replace and `by (__name__)` still see it.
  bool enable_delayed_name_removal = false;
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
