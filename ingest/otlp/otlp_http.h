#pragma once
// The OTLP/HTTP plumbing every signal shares (metrics, logs, traces): content-type
// negotiation, size limit, admission, Content-Encoding, protobuf-or-JSON decoding, and
// replies encoded like the request, as the OpenTelemetry Collector's receiver answers.

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "ingest/admission.h"
#include "ingest/http_exchange.h"

namespace google::protobuf {
class Message;
}

namespace otelbox::ingest::otlp {

enum class OtlpEncoding { kProtobuf, kJson, kUnsupported };

inline constexpr char kProtobufContentType[] = "application/x-protobuf";
inline constexpr char kJsonContentType[] = "application/json";
inline constexpr char kOverloadedMessage[] =
    "otelbox is ingesting as much as it can; retry later";

// The media type without parameters, lower case ("; charset=utf-8" is ignored).
std::string MediaType(std::string_view content_type);
OtlpEncoding EncodingOf(std::string_view content_type);

// The OpenTelemetry Collector's gRPC code → HTTP status mapping.
int HttpStatusFor(absl::StatusCode code);

// text/plain reply; a trailing newline is added when missing.
IngestReply TextReply(int status, std::string message);

// Runs an HTTP ingest handler; an escaping exception is logged as "<what> failed: ..." and
// becomes a 500, so that no input can take the process down.
IngestReply GuardedReply(std::string_view what, const std::function<IngestReply()>& handler);
// `message` serialised like the request was encoded (protobuf or OTLP/JSON).
IngestReply MessageReply(int status, OtlpEncoding enc, const google::protobuf::Message& message);
// A google.rpc.Status body encoded like the request.
IngestReply StatusReply(int http_status, OtlpEncoding enc, const absl::Status& status);

// The front half of an OTLP/HTTP export: 415 for other content types, 413 over the size
// limit (before and after decompression), 429 + Retry-After when admission refuses, 400
// for undecodable bodies. On success fills `message`, sets `*encoding`, keeps the admission
// ticket in `*ticket` (hold it until the data is written) and returns nullopt; otherwise
// returns the reply to send.
std::optional<IngestReply> DecodeOtlpHttpRequest(const IngestRequest& request,
                                                 const IngestLimits& limits, Admission* admission,
                                                 google::protobuf::Message* message,
                                                 OtlpEncoding* encoding,
                                                 std::optional<Admission::Ticket>* ticket);

}  // namespace otelbox::ingest::otlp
