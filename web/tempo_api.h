#pragma once
// The Tempo HTTP API as Grafana's Tempo datasource uses it (contracts/tempo.md): echo,
// trace by id (v1/v2, protobuf and JSON), TraceQL and tag search, tag names and values
// (v1/v2), TraceQL metrics (range and instant), build info. Errors are Tempo's: plain
// text with 400 (bad request or query), 404 (unknown trace), 500.

#include <cstdint>
#include <functional>
#include <string>

#include "query/traceql/engine.h"
#include "storage/trace_querier.h"
#include "web/router.h"

namespace otelbox::web {

// What /api/status/buildinfo reports: a Tempo version whose API we mirror (semver; Grafana
// gates streaming UI on it).
struct TempoBuildInfo {
  std::string version = "2.7.0";
  std::string revision = "unknown";
  std::string branch = "HEAD";
  std::string build_user = "otelbox";
  std::string build_date = "unknown";
  std::string go_version = "n/a";
};

class TempoApi {
 public:
  // `querier` and `engine` must outlive this object and its routes. `now_ms`: the clock
  // for default time ranges.
  TempoApi(storage::TraceQuerier* querier, query::traceql::Engine* engine, TempoBuildInfo info,
           std::function<int64_t()> now_ms);

  // Registers every Tempo read route (GET; POST is accepted too, as Tempo's mux does).
  void Register(Router* router);

  HttpResponse Echo(const HttpRequest& request);
  HttpResponse TraceById(const HttpRequest& request, bool v2);  // id in path_tail
  HttpResponse Search(const HttpRequest& request);
  HttpResponse SearchTags(const HttpRequest& request, bool v2);
  HttpResponse SearchTagValues(const HttpRequest& request, bool v2);  // tag in path_tail
  HttpResponse MetricsQueryRange(const HttpRequest& request);
  HttpResponse MetricsQueryInstant(const HttpRequest& request);
  HttpResponse BuildInfo(const HttpRequest& request);

 private:
  storage::TraceQuerier* querier_;
  query::traceql::Engine* engine_;
  TempoBuildInfo info_;
  std::function<int64_t()> now_ms_;
};

// Helpers exposed for tests.
// 1–32 hex characters (any case), left-padded with zeros; InvalidArgument otherwise.
absl::StatusOr<storage::TraceId> ParseTraceIdHex(std::string_view hex);
// Go's time.ParseDuration ("1h30m", "1.5s", "100ms", "250us", "10ns") in ns.
absl::StatusOr<int64_t> ParseGoDurationNs(std::string_view text);
// Tempo's time parameters: unix seconds (integer or fractional), unix nanoseconds (integers
// above 1e11 s are read as ns), or RFC3339.
absl::StatusOr<uint64_t> ParseTempoTimeNs(std::string_view text);

}  // namespace otelbox::web
