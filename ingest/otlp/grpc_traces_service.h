#pragma once
// The OTLP/gRPC TraceService (opentelemetry.proto.collector.trace.v1.TraceService/Export).
// Only adapts gRPC (grpc_export.h); the work is done by an export function shared with
// OTLP/HTTP (ingest/traces_ingest.h).

#include <functional>
#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "ingest/otlp/grpc_export.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"

namespace otelbox::ingest::otlp {

// Translate + append; ExportOutcome::rejected counts spans. Thread-safe (gRPC threads).
using TracesExportFn = std::function<absl::StatusOr<ExportOutcome>(
    std::string_view tenant,
    const opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest& request)>;

std::unique_ptr<opentelemetry::proto::collector::trace::v1::TraceService::Service>
NewGrpcTracesService(TracesExportFn export_fn);

}  // namespace otelbox::ingest::otlp
