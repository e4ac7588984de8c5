#pragma once
// A trace (storage spans) in the shapes Tempo's trace-by-id endpoints return
// (contracts/tempo.md §4.2): tempopb.Trace is wire-identical to OTLP TracesData, and
// TraceByIDResponse wraps it in field 1. Spans are grouped back into ResourceSpans /
// ScopeSpans by their shared resource and scope. A resource without service.name gets
// service.name="unknown_service" (Grafana drops resources without attributes).

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/model/span.h"

namespace otelbox::web {

// tempopb.Trace / OTLP TracesData, protobuf.
std::string EncodeTraceProto(const std::vector<storage::Span>& spans);
// tempopb.TraceByIDResponse{trace, status=COMPLETE}, protobuf.
std::string EncodeTraceByIdResponseProto(const std::vector<storage::Span>& spans);
// {"resourceSpans":[...]} as Tempo >= 2.6 (proto JSON: base64 ids, enum names).
absl::StatusOr<std::string> EncodeTraceJson(const std::vector<storage::Span>& spans);
// {"trace":{"resourceSpans":[...]},"status":"COMPLETE"}
absl::StatusOr<std::string> EncodeTraceByIdResponseJson(const std::vector<storage::Span>& spans);

}  // namespace otelbox::web
