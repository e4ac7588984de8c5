#pragma once
// Zipkin v2 JSON (POST /api/v2/spans, a JSON array of spans) → the internal span model,
// mapped as the OpenTelemetry Collector's zipkin receiver (zipkinv2 translator) maps it:
// - service.name (resource) = localEndpoint.serviceName; tags named like resource
//   semantic conventions (service.*, telemetry.*, host.*, process.*, ...) go to the
//   resource; otel.library.name/version (and otel.scope.name/version) become the scope.
// - kind CLIENT/SERVER/PRODUCER/CONSUMER; no kind: unspecified, or internal when the tag
//   span.kind=internal says so.
// - Status from otel.status_code (+ otel.status_description), or error when an `error`
//   tag is present (the tag is kept unless it is "true"). Besides the Collector's names
//   (STATUS_CODE_ERROR, Error) we accept ERROR/OK/UNSET, which the OpenTelemetry JS
//   exporter sends.
// - timestamp/duration are microseconds; annotations become events (the
//   "name|{json attrs}|dropped" form the Collector's exporter writes is decoded);
//   remoteEndpoint → peer.service, net.peer.ip, net.peer.port; localEndpoint ip/port →
//   net.host.ip, net.host.port; w3c.tracestate → trace state. Tags stay strings.
// - 64-bit trace ids are left-padded with zeros to 128 bits.
// Malformed JSON or a span without a valid traceId/id is InvalidArgument (nothing is kept).

#include <string_view>

#include "absl/status/statusor.h"
#include "storage/model/span.h"

namespace otelbox::ingest::zipkin {

absl::StatusOr<storage::SpanBatch> DecodeZipkinV2Json(std::string_view body);

}  // namespace otelbox::ingest::zipkin
