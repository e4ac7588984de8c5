#pragma once
// HTTP log ingest paths: POST /loki/api/v1/push (Loki push, JSON or snappy protobuf),
// POST /v1/logs and Loki's alias /otlp/v1/logs (OTLP/HTTP logs). Bodies are handed over
// still compressed. Inline, like ingest_routes.h, so that web/ does not link ingest/.

#include "ingest/logs_ingest.h"
#include "web/ingest_routes.h"
#include "web/router.h"

namespace otelbox::web {

// `ingest` must outlive the router.
inline void RegisterLogIngestRoutes(Router* router, ingest::LogsIngest* ingest) {
  auto push = [ingest](const HttpRequest& r) {
    return FromIngestReply(ingest->HandleLokiPush(ToIngestRequest(r)));
  };
  auto otlp = [ingest](const HttpRequest& r) {
    return FromIngestReply(ingest->HandleOtlpHttp(ToIngestRequest(r)));
  };
  router->Handle("/loki/api/v1/push", {"POST"}, push);
  router->Handle("/v1/logs", {"POST"}, otlp);
  router->Handle("/otlp/v1/logs", {"POST"}, otlp);
}

}  // namespace otelbox::web
