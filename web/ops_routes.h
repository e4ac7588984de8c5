#pragma once
// Operational endpoints: /ready and /metrics (otelbox's own telemetry).

#include <functional>

#include "common/self_metrics.h"
#include "web/router.h"

namespace otelbox::web {

// /ready: 200 "ready" when is_ready() else 503 "not ready".
// /metrics: SelfMetrics::RenderText in the Prometheus text format 0.0.4.
// `metrics` must outlive the router.
void RegisterOpsRoutes(Router* router, std::function<bool()> is_ready, SelfMetrics* metrics);

}  // namespace otelbox::web
