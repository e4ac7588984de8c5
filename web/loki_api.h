#pragma once
// The Loki HTTP API (/loki/api/v1/*) as Grafana's Loki datasource and Logs Drilldown use
// it (contracts/loki.md). Read endpoints accept GET and POST (form body); errors are plain
// text with Loki's status codes (web/loki_errors.h). Live tail is a WebSocket route
// (TailRoute, registered on the HttpServer); the push routes are in loki_push_routes.h.

#include <cstdint>
#include <functional>
#include <string>

#include "query/logql/engine.h"
#include "storage/log_querier.h"
#include "web/router.h"
#include "web/websocket.h"

namespace otelbox::web {

struct LokiApiOptions {
  // What /loki/api/v1/status/buildinfo and drilldown-limits report (a Loki 3.x version:
  // Grafana and Logs Drilldown enable features by it).
  std::string version = "3.5.0";
  // Live tail: at most this many open tail connections (Loki's max_concurrent_tail_requests
  // is 10 per querier); more are refused with 400.
  int max_tail_connections = 32;
  // Lines a tail frame may carry; more wait for the next frame.
  size_t max_tail_frame_lines = 1000;
};

class LokiApi {
 public:
  // `querier`, `engine` and `tailer` (may be null: tail then answers 400) must outlive
  // this object and the routes it registers. `now_ns` is the default query time.
  LokiApi(storage::LogQuerier* querier, query::logql::Engine* engine, storage::LogTailer* tailer,
          std::function<int64_t()> now_ns, LokiApiOptions options = {});
  ~LokiApi();

  // Registers every /loki/api/v1/* read route (and /prometheus/api/v1/rules, the ruler
  // paths Grafana's alerting probes). The router keeps pointers to this object.
  void Register(Router* router);

  // The handler of WebSocket upgrades on /loki/api/v1/tail (HttpServer::HandleWebSocket).
  WebSocketRoute TailRoute();

  HttpResponse Query(const HttpRequest& request);
  HttpResponse QueryRange(const HttpRequest& request);
  HttpResponse Labels(const HttpRequest& request);
  HttpResponse LabelValues(const HttpRequest& request);  // name in request.path_tail
  HttpResponse Series(const HttpRequest& request);
  HttpResponse IndexStats(const HttpRequest& request);
  HttpResponse IndexVolume(const HttpRequest& request);
  HttpResponse IndexVolumeRange(const HttpRequest& request);
  HttpResponse DetectedLabels(const HttpRequest& request);
  HttpResponse DetectedFields(const HttpRequest& request);
  HttpResponse DetectedFieldValues(const HttpRequest& request);  // name in path_tail
  HttpResponse Patterns(const HttpRequest& request);
  HttpResponse DrilldownLimits(const HttpRequest& request);
  HttpResponse BuildInfo(const HttpRequest& request);
  HttpResponse FormatQuery(const HttpRequest& request);

 private:
  HttpResponse Volume(const HttpRequest& request, bool range);

  storage::LogQuerier* querier_;
  query::logql::Engine* engine_;
  storage::LogTailer* tailer_;
  std::function<int64_t()> now_ns_;
  LokiApiOptions options_;
  struct TailState;
  std::shared_ptr<TailState> tail_state_;
};

}  // namespace otelbox::web
