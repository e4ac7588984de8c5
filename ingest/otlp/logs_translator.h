#pragma once
// OTLP logs → Loki streams, as Loki's OTLP endpoint maps them (pkg/loghttp/push/otlp.go;
// contracts/otlp-to-prometheus.md §B). A pure function.
//
//   stream labels   resource attributes in Loki's default index-label list (service.name,
//                   service.namespace, service.instance.id, deployment.environment[.name],
//                   cloud.region, cloud.availability_zone, k8s.*.name, container.name),
//                   sanitised (dots → `_`); service_name discovered or "unknown_service"
//   metadata        log attributes, observed_timestamp, severity_number, severity_text,
//                   dropped_attributes_count, flags, trace_id, span_id, event_name, then the
//                   other resource attributes, then scope attributes + scope_name /
//                   scope_version / scope_dropped_attributes_count (map values flattened
//                   as parent_child)
//   line            the body as a string (maps/arrays as JSON with sorted keys, bytes base64)
//   timestamp       time_unix_nano, else observed_time_unix_nano, else `now_ns`
// The distributor steps (label limits, line size, detected_level) follow in
// loki/push_validator.h.

#include <cstdint>
#include <string>
#include <vector>

#include "ingest/loki/push_request.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/common/v1/common.pb.h"

namespace otelbox::ingest::otlp {

// Streams grouped by label set, in first-seen order; entries in request order.
std::vector<loki::PushStream> TranslateLogs(
    const opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest& request,
    int64_t now_ns);

// An AnyValue as pdata's Value.AsString() renders it (what Loki stores): strings verbatim,
// ints decimal, doubles in shortest form, bools true/false, bytes base64, maps and arrays
// as JSON (map keys sorted), empty "".
std::string AnyValueAsString(const opentelemetry::proto::common::v1::AnyValue& value);

}  // namespace otelbox::ingest::otlp
