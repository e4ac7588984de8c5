#include "ingest/otlp/grpc_logs_service.h"

#include "ingest/otlp/grpc_export.h"

namespace otelbox::ingest::otlp {

namespace collector = opentelemetry::proto::collector::logs::v1;

std::unique_ptr<collector::LogsService::Service> NewGrpcLogsService(LogsExportFn export_fn) {
  return std::make_unique<OtlpExportService<collector::LogsService, collector::ExportLogsServiceRequest, collector::ExportLogsServiceResponse>>(
      std::move(export_fn), [](const ExportOutcome& outcome, collector::ExportLogsServiceResponse* response) {
        auto* partial = response->mutable_partial_success();
        partial->set_rejected_log_records(outcome.rejected);
        partial->set_error_message(outcome.error_message);
      });
}

}  // namespace otelbox::ingest::otlp
