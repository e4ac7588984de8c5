#pragma once
// Every trace receiver (OTLP/gRPC, OTLP/HTTP protobuf and JSON, Zipkin v2 JSON) decodes
// into storage::SpanBatch and appends through this one object.

#include <memory>

#include "common/self_metrics.h"
#include "ingest/http_exchange.h"
#include "storage/trace_appender.h"

namespace grpc {
class Service;
}

namespace otelbox::ingest {

class TracesIngest {
 public:
  // `appender` and `metrics` (may be null) must outlive this object.
  TracesIngest(storage::SpanAppender* appender, SelfMetrics* metrics, IngestLimits limits);
  ~TracesIngest();

  // POST /v1/traces: OTLP/HTTP protobuf or JSON (gzip), answered as the OpenTelemetry
  // Collector's receiver does (415, 413, 429 + Retry-After, 400 with google.rpc.Status,
  // 200 with ExportTraceServiceResponse; rejected spans through partial_success).
  IngestReply HandleOtlpHttp(const IngestRequest& request);

  // POST /api/v2/spans: Zipkin v2 JSON (gzip). 202 when stored, 400 text for undecodable
  // bodies, 415 for the protobuf encoding (not supported), 413, 429.
  IngestReply HandleZipkin(const IngestRequest& request);

  // opentelemetry.proto.collector.trace.v1.TraceService sharing this object's path.
  std::unique_ptr<grpc::Service> MakeGrpcService();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace otelbox::ingest
