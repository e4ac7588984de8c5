#pragma once
// Every metrics receiver (OTLP/gRPC, OTLP/HTTP protobuf and JSON, Prometheus remote_write)
// decodes into storage::MetricBatch and appends through this one object.

#include <memory>
#include <string_view>

#include "common/self_metrics.h"
#include "ingest/http_exchange.h"
#include "storage/appender.h"

namespace grpc {
class Service;
}

namespace otelbox::ingest {

class MetricsIngest {
 public:
  // `appender` and `metrics` must outlive this object.
  MetricsIngest(storage::MetricAppender* appender, SelfMetrics* metrics, IngestLimits limits);
  ~MetricsIngest();

  // POST /v1/metrics (and the alias /api/v1/otlp/v1/metrics). Behaves as the OpenTelemetry
  // Collector's OTLP receiver does: 415 for other content types, 400 with a google.rpc.Status
  // body (encoded like the request) for undecodable bodies, 413 over the size limit, 200 with
  // ExportMetricsServiceResponse (partial_success set when points were rejected).
  IngestReply HandleOtlpHttp(const IngestRequest& request);

  // POST /api/v1/write: Prometheus remote_write 1.0 (snappy-compressed protobuf).
  // 204 on success, 400 with a plain-text message naming the problem as Prometheus does.
  IngestReply HandleRemoteWrite(const IngestRequest& request);

  // The gRPC service opentelemetry.proto.collector.metrics.v1.MetricsService, sharing this
  // object's translation and append path. Tenant from the x-scope-orgid metadata.
  std::unique_ptr<grpc::Service> MakeGrpcService();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace otelbox::ingest
