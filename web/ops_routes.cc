#include "web/ops_routes.h"

namespace otelbox::web {

void RegisterOpsRoutes(Router* router, std::function<bool()> is_ready, SelfMetrics* metrics) {
  router->Handle("/ready", {"GET"}, [is_ready = std::move(is_ready)](const HttpRequest&) {
    if (is_ready()) return HttpResponse::Text(200, "ready");
    return HttpResponse::Text(503, "not ready");
  });
  router->Handle("/metrics", {"GET"}, [metrics](const HttpRequest&) {
    HttpResponse r;
    r.status = 200;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = metrics->RenderText();
    return r;
  });
}

}  // namespace otelbox::web
