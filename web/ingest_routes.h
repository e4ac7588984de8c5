#pragma once
// HTTP ingest paths: POST /api/v1/write (remote_write), POST /v1/metrics and its alias
// /api/v1/otlp/v1/metrics (OTLP/HTTP). Bodies are handed over still compressed.

#include <functional>

#include "ingest/http_exchange.h"
#include "ingest/metrics_ingest.h"
#include "web/router.h"

namespace otelbox::web {

struct IngestHandlers {
  std::function<ingest::IngestReply(const ingest::IngestRequest&)> otlp_metrics;
  std::function<ingest::IngestReply(const ingest::IngestRequest&)> remote_write;
};

// Registers the routes that are set in `handlers` (POST only; other methods get 405 naming
// POST, as the OpenTelemetry Collector answers).
void RegisterIngestRoutes(Router* router, IngestHandlers handlers);

// The appliance's form. `ingest` must outlive the router. Inline so that web/ does not
// need to link ingest/ (the appliance links both).
inline void RegisterIngestRoutes(Router* router, ingest::MetricsIngest* ingest) {
  RegisterIngestRoutes(
      router, IngestHandlers{
                  [ingest](const ingest::IngestRequest& r) { return ingest->HandleOtlpHttp(r); },
                  [ingest](const ingest::IngestRequest& r) { return ingest->HandleRemoteWrite(r); },
              });
}

// Builds the transport-neutral request (views into `request`) and maps the reply back.
ingest::IngestRequest ToIngestRequest(const HttpRequest& request);
HttpResponse FromIngestReply(ingest::IngestReply reply);

}  // namespace otelbox::web
