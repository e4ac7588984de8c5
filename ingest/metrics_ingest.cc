#include "ingest/metrics_ingest.h"

#include <google/protobuf/arena.h>

#include <exception>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "google/rpc/status.pb.h"
#include "ingest/admission.h"
#include "ingest/compression.h"
#include "ingest/otlp/grpc_metrics_service.h"
#include "ingest/otlp/metrics_translator.h"
#include "ingest/otlp/otlp_json.h"
#include "ingest/prometheus/remote_write.h"
#include "ingest/string_util.h"
#include "storage/model/tenant.h"

namespace otelbox::ingest {
namespace {

namespace collector = opentelemetry::proto::collector::metrics::v1;

constexpr char kProtobufType[] = "application/x-protobuf";
constexpr char kJsonType[] = "application/json";
constexpr char kOverloaded[] = "otelbox is ingesting as much as it can; retry later";

enum class Encoding { kProtobuf, kJson, kUnsupported };

// The media type without parameters ("; charset=utf-8" is ignored, as the Collector does).
std::string MediaType(std::string_view content_type) {
  if (auto semi = content_type.find(';'); semi != std::string_view::npos) {
    content_type = content_type.substr(0, semi);
  }
  return absl::AsciiStrToLower(absl::StripAsciiWhitespace(AbslView(content_type)));
}

Encoding OtlpEncoding(std::string_view content_type) {
  const std::string media = MediaType(content_type);
  if (media == kProtobufType) return Encoding::kProtobuf;
  if (media == kJsonType) return Encoding::kJson;
  return Encoding::kUnsupported;
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

// Serialises `message` like the request was encoded.
IngestReply MessageReply(int status, Encoding enc, const google::protobuf::Message& message) {
  IngestReply reply;
  reply.status = status;
  if (enc == Encoding::kJson) {
    auto json = otlp::MessageToOtlpJson(message);
    if (!json.ok()) return TextReply(500, "cannot encode the response");
    reply.content_type = kJsonType;
    reply.body = *std::move(json);
  } else {
    reply.content_type = kProtobufType;
    reply.body = message.SerializeAsString();
  }
  return reply;
}

// A failure reply: google.rpc.Status encoded like the request (FACTS.md §1).
IngestReply StatusReply(int http_status, Encoding enc, const absl::Status& status) {
  google::rpc::Status body;
  body.set_code(static_cast<int>(status.code()));
  body.set_message(std::string(status.message()));
  return MessageReply(http_status, enc, body);
}

}  // namespace

struct MetricsIngest::Impl {
  Impl(storage::MetricAppender* a, SelfMetrics* m, IngestLimits l)
      : appender(a), metrics(m), limits(l), admission(l.max_inflight_bytes) {}

  storage::MetricAppender* appender;
  SelfMetrics* metrics;
  IngestLimits limits;
  Admission admission;

  std::optional<Admission::Ticket> Admit(size_t body_bytes) {
    return admission.TryAcquire(body_bytes * kAdmissionBytesPerBodyByte);
  }

  void CountRequest(std::string_view protocol, std::string_view code) {
    if (metrics == nullptr) return;
    metrics
        ->GetCounter("otelbox_ingest_requests_total", "Ingest requests by protocol and result.",
                     absl::StrCat("protocol=\"", AbslView(protocol), "\",code=\"", AbslView(code), "\""))
        ->Add();
  }
  void CountSamples(std::string_view protocol, int64_t n) {
    if (metrics == nullptr || n <= 0) return;
    metrics
        ->GetCounter("otelbox_ingest_received_samples_total",
                     "Samples received by protocol, before storage.",
                     absl::StrCat("protocol=\"", AbslView(protocol), "\""))
        ->Add(n);
  }

  // The shared OTLP path: translate, append (dropping what storage can't take), and report
  // rejected points for partial success. Thread-safe (the appender is).
  absl::StatusOr<otlp::ExportOutcome> ExportOtlp(std::string_view tenant,
                                                 const collector::ExportMetricsServiceRequest& req,
                                                 std::string_view protocol) {
    otlp::MetricsTranslation tr = otlp::TranslateMetrics(req);
    CountSamples(protocol, static_cast<int64_t>(tr.batch.SampleCount()));
    otlp::ExportOutcome out;
    out.rejected = tr.rejected_points;
    out.error_message = std::move(tr.first_error);
    if (!tr.batch.series.empty() || !tr.batch.metadata.empty()) {
      auto stats = appender->Append(tenant.empty() ? storage::kDefaultTenant : tenant, tr.batch,
                                    storage::RejectPolicy::kDropSample);
      if (!stats.ok()) return stats.status();
      out.rejected += stats->samples_rejected;
      if (out.error_message.empty() && stats->samples_rejected > 0) {
        out.error_message = stats->first_rejection;
      }
    }
    return out;
  }

  IngestReply OtlpHttp(const IngestRequest& request) {
    const Encoding enc = OtlpEncoding(request.content_type);
    if (enc == Encoding::kUnsupported) {
      return TextReply(415, absl::StrCat("unsupported content type \"", AbslView(request.content_type),
                                         "\"; supported: ", kProtobufType, ", ", kJsonType));
    }
    if (request.body.size() > limits.max_body_bytes) {
      return StatusReply(413, enc,
                         absl::ResourceExhaustedError(absl::StrCat(
                             "request body exceeds the limit of ", limits.max_body_bytes,
                             " bytes")));
    }
    auto ticket = Admit(request.body.size());
    if (!ticket) {
      IngestReply reply = StatusReply(429, enc, absl::ResourceExhaustedError(kOverloaded));
      reply.headers.emplace_back("Retry-After", "1");
      return reply;
    }
    auto body = DecodeHttpContentEncoding(request.content_encoding, request.body,
                                          limits.max_body_bytes);
    if (!body.ok()) {
      const int code =
          body.status().code() == absl::StatusCode::kResourceExhausted ? 413 : 400;
      return StatusReply(code, enc, body.status());
    }
    google::protobuf::Arena arena;  // one allocation region for the whole request
    auto& req = *google::protobuf::Arena::CreateMessage<collector::ExportMetricsServiceRequest>(&arena);
    if (enc == Encoding::kProtobuf) {
      if (!req.ParseFromString(*body)) {
        return StatusReply(400, enc,
                           absl::InvalidArgumentError("cannot decode the protobuf request"));
      }
    } else if (auto st = otlp::OtlpJsonToMessage(*body, &req); !st.ok()) {
      return StatusReply(400, enc, st);
    }
    auto out = ExportOtlp(request.tenant, req, "otlp_http");
    if (!out.ok()) return StatusReply(HttpStatusFor(out.status().code()), enc, out.status());
    collector::ExportMetricsServiceResponse resp;
    if (out->rejected > 0 || !out->error_message.empty()) {
      resp.mutable_partial_success()->set_rejected_data_points(out->rejected);
      resp.mutable_partial_success()->set_error_message(out->error_message);
    }
    return MessageReply(200, enc, resp);
  }

  IngestReply RemoteWrite(const IngestRequest& request) {
    const std::string encoding =
        absl::AsciiStrToLower(absl::StripAsciiWhitespace(AbslView(request.content_encoding)));
    if (!encoding.empty() && encoding != "snappy") {
      return TextReply(415, absl::StrCat("unsupported Content-Encoding \"",
                                         AbslView(request.content_encoding),
                                         "\"; remote write 1.0 requires snappy"));
    }
    // Remote write 2.0 announces itself in the content type; we speak 1.0 only.
    if (MediaType(request.content_type) == kProtobufType &&
        request.content_type.find("io.prometheus.write.v2") != std::string_view::npos) {
      return TextReply(415, "remote write 2.0 (io.prometheus.write.v2.Request) is not supported; "
                            "use prometheus.WriteRequest");
    }
    if (request.body.size() > limits.max_body_bytes) {
      return TextReply(413, absl::StrCat("request body exceeds the limit of ",
                                         limits.max_body_bytes, " bytes"));
    }
    auto ticket = Admit(request.body.size());
    if (!ticket) {
      // Prometheus' remote_write retries 429 (retry_on_http_429) with backoff.
      IngestReply reply = TextReply(429, kOverloaded);
      reply.headers.emplace_back("Retry-After", "1");
      return reply;
    }
    google::protobuf::Arena arena;
    auto* req = google::protobuf::Arena::CreateMessage<::prometheus::WriteRequest>(&arena);
    if (auto decoded = DecodeWriteRequest(request.body, limits.max_body_bytes, req); !decoded.ok()) {
      return TextReply(decoded.code() == absl::StatusCode::kResourceExhausted ? 413 : 400,
                       std::string(decoded.message()));
    }
    auto batch = TranslateWriteRequest(*req);
    if (!batch.ok()) return TextReply(400, std::string(batch.status().message()));
    CountSamples("remote_write", static_cast<int64_t>(batch->SampleCount()));
    if (!batch->series.empty() || !batch->metadata.empty()) {
      const std::string_view tenant =
          request.tenant.empty() ? storage::kDefaultTenant : request.tenant;
      // Prometheus writes all or nothing per request.
      auto stats = appender->Append(tenant, *batch, storage::RejectPolicy::kRejectBatch);
      if (!stats.ok()) {
        return TextReply(HttpStatusFor(stats.status().code()),
                         std::string(stats.status().message()));
      }
    }
    IngestReply reply;
    reply.status = 204;
    return reply;
  }
};

MetricsIngest::MetricsIngest(storage::MetricAppender* appender, SelfMetrics* metrics,
                             IngestLimits limits)
    : impl_(std::make_unique<Impl>(appender, metrics, limits)) {}

MetricsIngest::~MetricsIngest() = default;

IngestReply MetricsIngest::HandleOtlpHttp(const IngestRequest& request) {
  IngestReply reply;
  try {
    reply = impl_->OtlpHttp(request);
  } catch (const std::exception& e) {
    LogError(absl::StrCat("otlp http metrics ingest failed: ", e.what()));
    reply = TextReply(500, "internal error");
  } catch (...) {
    LogError("otlp http metrics ingest failed: unknown exception");
    reply = TextReply(500, "internal error");
  }
  impl_->CountRequest("otlp_http", absl::StrCat(reply.status));
  return reply;
}

IngestReply MetricsIngest::HandleRemoteWrite(const IngestRequest& request) {
  IngestReply reply;
  try {
    reply = impl_->RemoteWrite(request);
  } catch (const std::exception& e) {
    LogError(absl::StrCat("remote_write ingest failed: ", e.what()));
    reply = TextReply(500, "internal error");
  } catch (...) {
    LogError("remote_write ingest failed: unknown exception");
    reply = TextReply(500, "internal error");
  }
  impl_->CountRequest("remote_write", absl::StrCat(reply.status));
  return reply;
}

std::unique_ptr<grpc::Service> MetricsIngest::MakeGrpcService() {
  Impl* impl = impl_.get();
  return otlp::NewGrpcMetricsService(
      [impl](std::string_view tenant, const collector::ExportMetricsServiceRequest& req)
          -> absl::StatusOr<otlp::ExportOutcome> {
        absl::StatusOr<otlp::ExportOutcome> out = absl::InternalError("internal error");
        try {
          // UNAVAILABLE is OTLP's retryable backpressure code (RESOURCE_EXHAUSTED is only
          // retried with RetryInfo attached).
          auto ticket = impl->Admit(req.ByteSizeLong());
          out = ticket ? impl->ExportOtlp(tenant, req, "otlp_grpc")
                       : absl::UnavailableError(kOverloaded);
        } catch (const std::exception& e) {
          LogError(absl::StrCat("otlp grpc metrics ingest failed: ", e.what()));
        } catch (...) {
          LogError("otlp grpc metrics ingest failed: unknown exception");
        }
        impl->CountRequest("otlp_grpc", absl::StatusCodeToString(out.status().code()));
        return out;
      });
}

}  // namespace otelbox::ingest
