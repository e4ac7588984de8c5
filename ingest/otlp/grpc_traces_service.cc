#include "ingest/otlp/grpc_traces_service.h"

#include "ingest/otlp/grpc_export.h"

namespace otelbox::ingest::otlp {

namespace collector = opentelemetry::proto::collector::trace::v1;

std::unique_ptr<collector::TraceService::Service> NewGrpcTracesService(TracesExportFn export_fn) {
  return std::make_unique<OtlpExportService<collector::TraceService, collector::ExportTraceServiceRequest, collector::ExportTraceServiceResponse>>(
      std::move(export_fn), [](const ExportOutcome& outcome, collector::ExportTraceServiceResponse* response) {
        auto* partial = response->mutable_partial_success();
        partial->set_rejected_spans(outcome.rejected);
        partial->set_error_message(outcome.error_message);
      });
}

}  // namespace otelbox::ingest::otlp
