#include "ingest/otlp/otlp_http.h"

#include <google/protobuf/message.h>

#include <exception>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "google/rpc/status.pb.h"
#include "ingest/compression.h"
#include "ingest/otlp/otlp_json.h"
#include "ingest/string_util.h"

namespace otelbox::ingest::otlp {

std::string MediaType(std::string_view content_type) {
  if (auto semi = content_type.find(';'); semi != std::string_view::npos) {
    content_type = content_type.substr(0, semi);
  }
  return absl::AsciiStrToLower(absl::StripAsciiWhitespace(AbslView(content_type)));
}

OtlpEncoding EncodingOf(std::string_view content_type) {
  const std::string media = MediaType(content_type);
  if (media == kProtobufContentType) return OtlpEncoding::kProtobuf;
  if (media == kJsonContentType) return OtlpEncoding::kJson;
  return OtlpEncoding::kUnsupported;
}

// The OpenTelemetry Collector's gRPC → HTTP mapping (FACTS.md §1).
int HttpStatusFor(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk: return 200;
    case absl::StatusCode::kInvalidArgument: return 400;
    case absl::StatusCode::kUnauthenticated: return 401;
    case absl::StatusCode::kPermissionDenied: return 403;
    case absl::StatusCode::kUnimplemented: return 404;
    case absl::StatusCode::kResourceExhausted: return 429;
    case absl::StatusCode::kCancelled:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDataLoss: return 503;
    default: return 500;
  }
}

IngestReply TextReply(int status, std::string message) {
  IngestReply reply;
  reply.status = status;
  reply.content_type = "text/plain; charset=utf-8";
  reply.body = std::move(message);
  if (!reply.body.empty() && reply.body.back() != '\n') reply.body.push_back('\n');
  return reply;
}

IngestReply GuardedReply(std::string_view what, const std::function<IngestReply()>& handler) {
  try {
    return handler();
  } catch (const std::exception& e) {
    LogError(absl::StrCat(AbslView(what), " failed: ", e.what()));
  } catch (...) {
    LogError(absl::StrCat(AbslView(what), " failed: unknown exception"));
  }
  return TextReply(500, "internal error");
}

IngestReply MessageReply(int status, OtlpEncoding enc, const google::protobuf::Message& message) {
  IngestReply reply;
  reply.status = status;
  if (enc == OtlpEncoding::kJson) {
    auto json = MessageToOtlpJson(message);
    if (!json.ok()) return TextReply(500, "cannot encode the response");
    reply.content_type = kJsonContentType;
    reply.body = *std::move(json);
  } else {
    reply.content_type = kProtobufContentType;
    reply.body = message.SerializeAsString();
  }
  return reply;
}

IngestReply StatusReply(int http_status, OtlpEncoding enc, const absl::Status& status) {
  google::rpc::Status body;
  body.set_code(static_cast<int>(status.code()));
  body.set_message(std::string(status.message()));
  return MessageReply(http_status, enc, body);
}

std::optional<IngestReply> DecodeOtlpHttpRequest(const IngestRequest& request,
                                                 const IngestLimits& limits, Admission* admission,
                                                 google::protobuf::Message* message,
                                                 OtlpEncoding* encoding,
                                                 std::optional<Admission::Ticket>* ticket) {
  const OtlpEncoding enc = EncodingOf(request.content_type);
  *encoding = enc;
  if (enc == OtlpEncoding::kUnsupported) {
    return TextReply(415, absl::StrCat("unsupported content type \"",
                                       AbslView(request.content_type), "\"; supported: ",
                                       kProtobufContentType, ", ", kJsonContentType));
  }
  if (request.body.size() > limits.max_body_bytes) {
    return StatusReply(413, enc,
                       absl::ResourceExhaustedError(absl::StrCat(
                           "request body exceeds the limit of ", limits.max_body_bytes, " bytes")));
  }
  // Ticket is move-constructible only: emplace rather than assign.
  if (auto admitted = admission->TryAcquire(request.body.size() * kAdmissionBytesPerBodyByte)) {
    ticket->emplace(std::move(*admitted));
  } else {
    IngestReply reply = StatusReply(429, enc, absl::ResourceExhaustedError(kOverloadedMessage));
    reply.headers.emplace_back("Retry-After", "1");
    return reply;
  }
  auto body =
      DecodeHttpContentEncoding(request.content_encoding, request.body, limits.max_body_bytes);
  if (!body.ok()) {
    const int code = body.status().code() == absl::StatusCode::kResourceExhausted ? 413 : 400;
    return StatusReply(code, enc, body.status());
  }
  if (enc == OtlpEncoding::kProtobuf) {
    if (!message->ParseFromString(*body)) {
      return StatusReply(400, enc, absl::InvalidArgumentError("cannot decode the protobuf request"));
    }
  } else if (auto st = OtlpJsonToMessage(*body, message); !st.ok()) {
    return StatusReply(400, enc, st);
  }
  return std::nullopt;
}

}  // namespace otelbox::ingest::otlp
