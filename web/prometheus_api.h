#pragma once
// The Prometheus HTTP API (/api/v1/*) as Grafana's Prometheus datasource uses it
// (contracts/prometheus.md). Every read endpoint accepts GET and POST (form body).

#include <cstdint>
#include <functional>
#include <string>

#include "query/promql/engine.h"
#include "storage/querier.h"
#include "web/router.h"

namespace otelbox::web {

// What /api/v1/status/buildinfo reports. `version` must be semver (Grafana compares it
// with semver.gte); it is the Prometheus version whose API we mirror.
struct BuildInfo {
  std::string version = "3.5.0";
  std::string revision = "unknown";
  std::string branch = "HEAD";
  std::string build_user = "otelbox";
  std::string build_date = "unknown";
  std::string go_version = "n/a";
};

class PrometheusApi {
 public:
  // `querier` and `engine` must outlive this object and the routes it registers.
  // `now_ms` gives the evaluation time of /api/v1/query without `time`. `engine_options`
  // are the ones `engine` was built with: a query with its own `timeout` (capped by
  // engine_options.timeout_ms), `lookback_delta` or `stats` runs on a per-request engine
  // made from them.
  PrometheusApi(storage::SeriesQuerier* querier, query::promql::Engine* engine, BuildInfo info,
                std::function<int64_t()> now_ms,
                query::promql::EngineOptions engine_options = {});

  // Registers every /api/v1/* read route. The router keeps pointers to this object.
  void Register(Router* router);

  HttpResponse Query(const HttpRequest& request);
  HttpResponse QueryRange(const HttpRequest& request);
  HttpResponse Series(const HttpRequest& request);
  HttpResponse Labels(const HttpRequest& request);
  HttpResponse LabelValues(const HttpRequest& request);  // name in request.path_tail
  HttpResponse Metadata(const HttpRequest& request);
  HttpResponse QueryExemplars(const HttpRequest& request);
  HttpResponse BuildInfoHandler(const HttpRequest& request);
  HttpResponse Rules(const HttpRequest& request);
  HttpResponse FormatQuery(const HttpRequest& request);

 private:
  // `limit`, `timeout`, `lookback_delta` and `stats` of /query and /query_range.
  struct QueryOptions;
  // Runs `run` on the shared engine, or on a per-request one when `options` ask for it,
  // then applies `limit` and renders data (+ stats) and the envelope.
  HttpResponse Execute(
      const QueryOptions& options,
      const std::function<absl::StatusOr<query::QueryResult>(query::promql::Engine&)>& run);

  storage::SeriesQuerier* querier_;
  query::promql::Engine* engine_;
  BuildInfo info_;
  std::function<int64_t()> now_ms_;
  query::promql::EngineOptions engine_options_;
};

}  // namespace otelbox::web
