#pragma once
// The OTLP/gRPC LogsService (opentelemetry.proto.collector.logs.v1.LogsService/Export).
// Only adapts gRPC (grpc_export.h); the work is done by an export function shared with
// OTLP/HTTP (ingest/logs_ingest.h).

#include <functional>
#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "ingest/otlp/grpc_export.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.grpc.pb.h"

namespace otelbox::ingest::otlp {

// Translate + validate + append; ExportOutcome::rejected counts log records.
// Must be thread-safe: gRPC calls it from its own threads.
using LogsExportFn = std::function<absl::StatusOr<ExportOutcome>(
    std::string_view tenant,
    const opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest& request)>;

std::unique_ptr<opentelemetry::proto::collector::logs::v1::LogsService::Service>
NewGrpcLogsService(LogsExportFn export_fn);

}  // namespace otelbox::ingest::otlp
