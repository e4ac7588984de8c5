#pragma once
// OTLP/JSON (FACTS.md §2) ⇄ protobuf messages. Works for every OTLP message (metrics, logs,
// traces requests and responses, google.rpc.Status).
//
// Decoding: the standard proto3 JSON mapping plus the OTLP deviations: `traceId`, `spanId`
// and `parentSpanId` anywhere in the tree are hex (case-insensitive; "" = absent), enums may
// be integers or names, 64-bit integers strings or numbers, unknown fields are ignored.
// Encoding: lowerCamelCase keys, enums as integers, ids as lowercase hex, 64-bit integers as
// strings, default-valued fields omitted (a full-success response is `{}`).

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace google::protobuf {
class Message;
}

namespace otelbox::ingest::otlp {

// InvalidArgument for malformed JSON, bad hex ids, or values that do not fit the schema.
absl::Status OtlpJsonToMessage(std::string_view json, google::protobuf::Message* message);

absl::StatusOr<std::string> MessageToOtlpJson(const google::protobuf::Message& message);

// Lowercase hex of raw bytes ("" for empty input).
std::string HexEncode(std::string_view bytes);

}  // namespace otelbox::ingest::otlp
