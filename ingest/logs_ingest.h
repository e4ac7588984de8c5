#pragma once
// Every log receiver (Loki push JSON and snappy protobuf, OTLP/gRPC, OTLP/HTTP protobuf and
// JSON) decodes into storage::LogBatch, goes through Loki's distributor checks
// (loki/push_validator.h) and appends through this one object.

#include <cstdint>
#include <functional>
#include <memory>

#include "common/self_metrics.h"
#include "ingest/http_exchange.h"
#include "ingest/loki/push_validator.h"
#include "storage/log_appender.h"

namespace grpc {
class Service;
}

namespace otelbox::ingest {

class LogsIngest {
 public:
  // `appender` and `metrics` (may be null) must outlive this object. `now_ns` gives the
  // receive time (default: the system clock).
  LogsIngest(storage::LogAppender* appender, SelfMetrics* metrics, IngestLimits limits,
             loki::PushLimits push_limits = {}, std::function<int64_t()> now_ns = nullptr);
  ~LogsIngest();

  // POST /loki/api/v1/push, as Loki's distributor answers:
  // 204 when everything was stored; 400 with a plain-text body (Loki's messages, grouped)
  // when streams or entries were rejected — the valid rest is stored all the same; 400 for
  // undecodable bodies ("couldn't parse labels: …", bad JSON, bad snappy/protobuf); 413
  // over the size limit; 429 (Retry-After) under overload; 422 for a request without
  // streams.
  IngestReply HandleLokiPush(const IngestRequest& request);

  // POST /v1/logs and Loki's alias /otlp/v1/logs: OTLP/HTTP protobuf or JSON (gzip). 200
  // with ExportLogsServiceResponse; rejected records (Loki's validation and retention) are
  // reported through partial_success with Loki's messages.
  IngestReply HandleOtlpHttp(const IngestRequest& request);

  // opentelemetry.proto.collector.logs.v1.LogsService sharing this object's path.
  std::unique_ptr<grpc::Service> MakeGrpcService();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace otelbox::ingest
