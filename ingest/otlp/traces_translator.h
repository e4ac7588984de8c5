#pragma once
// OTLP traces → the internal span model (storage/model/span.h). Everything OTLP carries
// is kept: resource and scope (shared by their spans), attributes of every type, events,
// links, status, kind, trace state, flags and dropped counts. A pure function.
//
// A span whose trace id is not 16 bytes (or all zero) or whose span id is not 8 bytes (or
// all zero) cannot be stored or found: it is rejected and counted for OTLP partial success,
// the rest of the request is kept. A parent span id that is not 8 bytes is treated as
// absent (root span).

#include <cstdint>
#include <string>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "opentelemetry/proto/common/v1/common.pb.h"
#include "storage/model/span.h"

namespace otelbox::ingest::otlp {

struct TracesTranslation {
  storage::SpanBatch batch;
  int64_t rejected_spans = 0;
  std::string first_error;  // reason for the first rejected span, "" when none
};

TracesTranslation TranslateTraces(
    const opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest& request);

// OTLP AnyValue / KeyValue lists → the model (shared with other translators).
storage::AttributeValue ToAttributeValue(const opentelemetry::proto::common::v1::AnyValue& v);
storage::AttributeList ToAttributeList(
    const google::protobuf::RepeatedPtrField<opentelemetry::proto::common::v1::KeyValue>& kvs);

}  // namespace otelbox::ingest::otlp
