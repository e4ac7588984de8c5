#include "ingest/otlp/grpc_metrics_service.h"

#include "ingest/otlp/grpc_export.h"

namespace otelbox::ingest::otlp {

namespace collector = opentelemetry::proto::collector::metrics::v1;

std::unique_ptr<collector::MetricsService::Service> NewGrpcMetricsService(MetricsExportFn export_fn) {
  return std::make_unique<OtlpExportService<collector::MetricsService, collector::ExportMetricsServiceRequest, collector::ExportMetricsServiceResponse>>(
      std::move(export_fn), [](const ExportOutcome& outcome, collector::ExportMetricsServiceResponse* response) {
        auto* partial = response->mutable_partial_success();
        partial->set_rejected_data_points(outcome.rejected);
        partial->set_error_message(outcome.error_message);
      });
}

}  // namespace otelbox::ingest::otlp
