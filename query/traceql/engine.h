#pragma once
// TraceQL as Tempo evaluates it, over storage::TraceQuerier: search (spanset filters,
// structural operators, pipelines with aggregates, by/select/coalesce) and TraceQL metrics
// (rate, count_over_time, {min,max,avg,sum}_over_time, quantile_over_time,
// histogram_over_time with by(), compare(), second stages topk/bottomk/filters, math
// between queries).
//
// Errors (what web/tempo_api maps to HTTP):
//   InvalidArgument  the query does not parse ("parse error at line L, col C: ...") or fails
//                    validation ("span filter field expressions must resolve to a boolean: ...")
//   Unimplemented    the query is valid TraceQL that Tempo does not execute either
//                    ("parent not yet supported")
//   Both are Tempo's 400 "invalid TraceQL query: <message>" (IsTraceQLQueryError).
//   Anything else comes from the querier (Unavailable, DeadlineExceeded, ...) or a limit
//   (ResourceExhausted).
//
// Thread-safe: one Engine serves every query concurrently (no per-query state is kept).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "storage/model/span.h"
#include "storage/trace_querier.h"

namespace otelbox::query::traceql {

struct EngineOptions {
  // Spans a metrics query may read before it is refused (ResourceExhausted).
  int64_t max_metrics_spans = 50'000'000;
  // Series a metrics query may produce (Tempo's max_response_series).
  int64_t max_series = 1000;
  // Wall-clock budget of one query: DeadlineExceeded after it.
  int64_t timeout_ms = 120'000;
};

// ---- /api/search (tempo.md §4.3) ----

struct SearchRequest {
  std::string_view query;   // TraceQL; empty means `{}`
  uint64_t start_ns = storage::kMinSpanTimeNs;  // inclusive, on span start times
  uint64_t end_ns = storage::kMaxSpanTimeNs;
  size_t limit = 20;        // traces
  size_t spans_per_spanset = 3;  // Tempo's spss
};

struct SearchSpan {
  storage::SpanId span_id{};
  std::string name;
  uint64_t start_time_unix_nano = 0;
  uint64_t duration_nanos = 0;
  // The attributes the query referenced (and select()ed), as Tempo returns them: keys
  // without scope for attributes ("http.status_code"), intrinsic names for intrinsics
  // ("status" -> string "error", "kind" -> "server", "duration" -> int ns ...).
  std::vector<storage::KeyValue> attributes;
};

struct SearchSpanSet {
  std::vector<SearchSpan> spans;  // the first spans_per_spanset, in trace (start time) order
  int64_t matched = 0;            // spans that matched before the spss cut
  // by() labels and scalar results of the spanset (e.g. "by(resource.service.name)" ->
  // {"by(resource.service.name)": "api"}, "count()" -> 3).
  std::vector<storage::KeyValue> attributes;
};

struct SearchTrace {
  storage::TraceId trace_id{};
  std::string root_service_name;  // "<root span not yet received>" without a root span
  std::string root_trace_name;
  uint64_t start_time_unix_nano = 0;  // earliest span start
  uint64_t duration_ms = 0;           // latest end - earliest start
  std::vector<SearchSpanSet> span_sets;
  struct ServiceStats {
    std::string service;
    int64_t span_count = 0;
    int64_t error_count = 0;
  };
  std::vector<ServiceStats> service_stats;  // sorted by service
};

struct SearchMetrics {
  int64_t inspected_traces = 0;
  int64_t inspected_spans = 0;
  int64_t inspected_bytes = 0;
  int64_t total_blocks = 0;
};

struct SearchResponse {
  std::vector<SearchTrace> traces;  // newest first (by start_time_unix_nano), at most limit
  SearchMetrics metrics;
};

// ---- /api/metrics/query_range and /api/metrics/query (tempo.md §4.6) ----

struct MetricsRequest {
  std::string_view query;
  uint64_t start_ns = 0;
  uint64_t end_ns = 0;
  // Range queries: 0 picks Tempo's default for the range. Ignored by instant queries.
  uint64_t step_ns = 0;
  // Exemplars per query (0 = none); Tempo's `exemplars` parameter.
  size_t max_exemplars = 0;
};

struct MetricsSample {
  int64_t timestamp_ms = 0;
  double value = 0;
};

struct MetricsExemplar {
  // {"trace:id": "<hex>"} plus the span id under "span:id", as Tempo's engine emits.
  std::vector<storage::KeyValue> labels;
  double value = 0;
  int64_t timestamp_ms = 0;
};

struct MetricsSeries {
  // Tempo's label keys: the by() attribute as written ("resource.service.name",
  // "span.http.path", "name"), "p" for quantiles, "__bucket" for histograms; a series of
  // an un-grouped query has the label {"__name__": "rate"|"count_over_time"|...}.
  // Values keep their TraceQL type (string, int, double, bool).
  std::vector<storage::KeyValue> labels;
  // Ascending, stamped with the interval end (Tempo's right-closed step intervals). Counts
  // and rates are 0 where nothing matched; other aggregates leave such steps out.
  std::vector<MetricsSample> samples;
  std::vector<MetricsExemplar> exemplars;
};

struct QueryRangeResponse {
  std::vector<MetricsSeries> series;  // sorted by labels
  int64_t inspected_spans = 0;
  int64_t inspected_traces = 0;
  int64_t inspected_bytes = 0;
  uint64_t step_ns = 0;  // the step used (after the default was applied)
};

struct InstantSeries {
  std::vector<storage::KeyValue> labels;
  double value = 0;
};

struct QueryInstantResponse {
  std::vector<InstantSeries> series;
  int64_t inspected_spans = 0;
};

// A prefilter a TraceQL query implies, for callers that hand it to storage themselves
// (web/tempo_api's tag values with `q`). Over-approximates the query: every span the query
// could match satisfies it.
struct TagFilter {
  std::vector<storage::SpanCondition> conditions;
  bool all_conditions = true;
};

class Engine {
 public:
  // `querier` must outlive the engine.
  explicit Engine(storage::TraceQuerier* querier, EngineOptions options = {});

  // TraceQL search: traces with the spansets the query matched. Metrics queries are
  // refused (InvalidArgument), as Tempo's search endpoint does.
  absl::StatusOr<SearchResponse> Search(std::string_view tenant, const SearchRequest& request);

  // A metrics query over [start_ns, end_ns] in steps of step_ns: Tempo aligns steps to
  // multiples of step_ns; sample timestamps are step starts in ms.
  absl::StatusOr<QueryRangeResponse> MetricsQueryRange(std::string_view tenant,
                                                       const MetricsRequest& request);

  // One value per series for the whole [start_ns, end_ns] (a range query with one step).
  absl::StatusOr<QueryInstantResponse> MetricsQueryInstant(std::string_view tenant,
                                                           const MetricsRequest& request);

 private:
  storage::TraceQuerier* querier_;
  EngineOptions options_;
};

// Parses and validates without evaluating: OK, or the error Search would return.
absl::Status CheckQuery(std::string_view query);

// True when `query` parses as a metrics query (`... | rate()` etc.).
bool IsMetricsQuery(std::string_view query);

// The prefilter of a search query (InvalidArgument/Unimplemented as above). For a query
// whose conditions cannot be pushed down, an empty filter (all spans).
absl::StatusOr<TagFilter> ExtractTagFilter(std::string_view query);

// True for the errors Tempo answers 400 "invalid TraceQL query: ..." (parse, validation,
// unsupported).
bool IsTraceQLQueryError(const absl::Status& status);

// Tempo's default step for a range with no `step` (DefaultQueryRangeStep): about 240
// points, rounded down to 1h/5m/1m/15s/5s/1s (under a minute: multiples of 50 ms).
uint64_t DefaultStepNs(uint64_t start_ns, uint64_t end_ns);

}  // namespace otelbox::query::traceql
