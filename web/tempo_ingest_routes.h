#pragma once
// HTTP ingest paths for traces: POST /v1/traces (OTLP/HTTP) and POST /api/v2/spans
// (Zipkin v2 JSON). Inline so that web/ does not link ingest/ (as ingest_routes.h).

#include "ingest/traces_ingest.h"
#include "web/ingest_routes.h"
#include "web/router.h"

namespace otelbox::web {

// `ingest` must outlive the router. POST only (other methods: 405 naming POST).
inline void RegisterTraceIngestRoutes(Router* router, ingest::TracesIngest* ingest) {
  router->Handle("/v1/traces", {"POST"}, [ingest](const HttpRequest& r) {
    return FromIngestReply(ingest->HandleOtlpHttp(ToIngestRequest(r)));
  });
  router->Handle("/api/v2/spans", {"POST"}, [ingest](const HttpRequest& r) {
    return FromIngestReply(ingest->HandleZipkin(ToIngestRequest(r)));
  });
}

}  // namespace otelbox::web
