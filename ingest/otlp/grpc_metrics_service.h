#pragma once
// The OTLP/gRPC MetricsService (opentelemetry.proto.collector.metrics.v1.MetricsService/Export).
// The service only adapts gRPC: the tenant comes from the `x-scope-orgid` metadata (else
// storage::kDefaultTenant), the work is done by an export function shared with OTLP/HTTP.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "ingest/otlp/grpc_export.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.grpc.pb.h"

namespace otelbox::ingest::otlp {

// Translate + append. A non-OK status becomes the gRPC status with the same code.
// Must be thread-safe: gRPC calls it from its own threads.
using MetricsExportFn = std::function<absl::StatusOr<ExportOutcome>(
    std::string_view tenant,
    const opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest& request)>;

// Any exception escaping `export_fn` is caught, logged and answered with INTERNAL.
std::unique_ptr<opentelemetry::proto::collector::metrics::v1::MetricsService::Service>
NewGrpcMetricsService(MetricsExportFn export_fn);

}  // namespace otelbox::ingest::otlp
