#include "web/ingest_routes.h"

namespace otelbox::web {

ingest::IngestRequest ToIngestRequest(const HttpRequest& request) {
  ingest::IngestRequest r;
  r.tenant = TenantOf(request);
  r.content_type = request.Header("Content-Type");
  r.content_encoding = request.Header("Content-Encoding");
  r.body = request.body;
  return r;
}

HttpResponse FromIngestReply(ingest::IngestReply reply) {
  HttpResponse resp;
  resp.status = reply.status;
  resp.content_type = std::move(reply.content_type);
  resp.body = std::move(reply.body);
  resp.headers = std::move(reply.headers);
  return resp;
}

void RegisterIngestRoutes(Router* router, IngestHandlers handlers) {
  auto wrap = [](std::function<ingest::IngestReply(const ingest::IngestRequest&)> fn) {
    return [fn = std::move(fn)](const HttpRequest& request) {
      return FromIngestReply(fn(ToIngestRequest(request)));
    };
  };
  if (handlers.remote_write) {
    router->Handle("/api/v1/write", {"POST"}, wrap(handlers.remote_write));
  }
  if (handlers.otlp_metrics) {
    router->Handle("/v1/metrics", {"POST"}, wrap(handlers.otlp_metrics));
    router->Handle("/api/v1/otlp/v1/metrics", {"POST"}, wrap(handlers.otlp_metrics));
  }
}

}  // namespace otelbox::web
