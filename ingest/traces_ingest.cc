#include "ingest/traces_ingest.h"

#include <google/protobuf/arena.h>

#include <exception>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "ingest/admission.h"
#include "ingest/compression.h"
#include "ingest/ingest_counters.h"
#include "ingest/otlp/grpc_traces_service.h"
#include "ingest/otlp/otlp_http.h"
#include "ingest/otlp/traces_translator.h"
#include "ingest/string_util.h"
#include "ingest/zipkin/zipkin_json.h"
#include "storage/model/tenant.h"

namespace otelbox::ingest {
namespace {

namespace collector = opentelemetry::proto::collector::trace::v1;

using otlp::HttpStatusFor;
using otlp::MessageReply;
using otlp::StatusReply;
using otlp::TextReply;

}  // namespace

struct TracesIngest::Impl {
  Impl(storage::SpanAppender* a, SelfMetrics* m, IngestLimits l)
      : appender(a),
        counters(m, "otelbox_ingest_received_spans_total", "Spans received by protocol, before storage."),
        limits(l),
        admission(l.max_inflight_bytes) {}

  storage::SpanAppender* appender;
  IngestCounters counters;
  IngestLimits limits;
  Admission admission;

  // Appends and folds storage's rejections into the OTLP outcome.
  absl::StatusOr<otlp::ExportOutcome> Store(std::string_view tenant, storage::SpanBatch batch,
                                            otlp::ExportOutcome out, std::string_view protocol) {
    counters.CountItems(protocol, static_cast<int64_t>(batch.spans.size()));
    if (batch.spans.empty()) return out;
    auto stats = appender->Append(tenant.empty() ? storage::kDefaultTenant : tenant, std::move(batch));
    if (!stats.ok()) return stats.status();
    out.rejected += stats->spans_rejected;
    if (out.error_message.empty() && stats->spans_rejected > 0) out.error_message = stats->first_rejection;
    return out;
  }

  absl::StatusOr<otlp::ExportOutcome> ExportOtlp(std::string_view tenant,
                                                 const collector::ExportTraceServiceRequest& req,
                                                 std::string_view protocol) {
    otlp::TracesTranslation tr = otlp::TranslateTraces(req);
    otlp::ExportOutcome out;
    out.rejected = tr.rejected_spans;
    out.error_message = std::move(tr.first_error);
    return Store(tenant, std::move(tr.batch), std::move(out), protocol);
  }

  IngestReply OtlpHttp(const IngestRequest& request) {
    google::protobuf::Arena arena;
    auto& req = *google::protobuf::Arena::CreateMessage<collector::ExportTraceServiceRequest>(&arena);
    otlp::OtlpEncoding enc;
    std::optional<Admission::Ticket> ticket;
    if (auto failed = otlp::DecodeOtlpHttpRequest(request, limits, &admission, &req, &enc, &ticket)) {
      return *std::move(failed);
    }
    auto out = ExportOtlp(request.tenant, req, "otlp_http_traces");
    if (!out.ok()) return StatusReply(HttpStatusFor(out.status().code()), enc, out.status());
    collector::ExportTraceServiceResponse resp;
    if (out->rejected > 0 || !out->error_message.empty()) {
      resp.mutable_partial_success()->set_rejected_spans(out->rejected);
      resp.mutable_partial_success()->set_error_message(out->error_message);
    }
    return MessageReply(200, enc, resp);
  }

  IngestReply Zipkin(const IngestRequest& request) {
    const std::string media = otlp::MediaType(request.content_type);
    if (media == "application/x-protobuf" || media == "application/x-thrift") {
      return TextReply(415, absl::StrCat("unsupported content type \"", AbslView(request.content_type),
                                         "\"; Zipkin v2 JSON (application/json) is supported"));
    }
    if (request.body.size() > limits.max_body_bytes) {
      return TextReply(413, absl::StrCat("request body exceeds the limit of ", limits.max_body_bytes, " bytes"));
    }
    auto ticket = admission.TryAcquire(request.body.size() * kAdmissionBytesPerBodyByte);
    if (!ticket) {
      IngestReply reply = TextReply(429, otlp::kOverloadedMessage);
      reply.headers.emplace_back("Retry-After", "1");
      return reply;
    }
    auto body = DecodeHttpContentEncoding(request.content_encoding, request.body, limits.max_body_bytes);
    if (!body.ok()) {
      const int code = body.status().code() == absl::StatusCode::kResourceExhausted ? 413
                       : body.status().code() == absl::StatusCode::kUnimplemented    ? 415
                                                                                     : 400;
      return TextReply(code, std::string(body.status().message()));
    }
    auto batch = zipkin::DecodeZipkinV2Json(*body);
    if (!batch.ok()) return TextReply(400, std::string(batch.status().message()));
    auto out = Store(request.tenant, *std::move(batch), {}, "zipkin");
    if (!out.ok()) return TextReply(HttpStatusFor(out.status().code()), std::string(out.status().message()));
    IngestReply reply;
    reply.status = 202;  // Zipkin's answer
    return reply;
  }
};

TracesIngest::TracesIngest(storage::SpanAppender* appender, SelfMetrics* metrics, IngestLimits limits)
    : impl_(std::make_unique<Impl>(appender, metrics, limits)) {}

TracesIngest::~TracesIngest() = default;

IngestReply TracesIngest::HandleOtlpHttp(const IngestRequest& request) {
  return impl_->counters.CountedReply("otlp http traces ingest", "otlp_http_traces",
                                      [&] { return impl_->OtlpHttp(request); });
}

IngestReply TracesIngest::HandleZipkin(const IngestRequest& request) {
  return impl_->counters.CountedReply("zipkin ingest", "zipkin", [&] { return impl_->Zipkin(request); });
}

std::unique_ptr<grpc::Service> TracesIngest::MakeGrpcService() {
  Impl* impl = impl_.get();
  return otlp::NewGrpcTracesService(
      [impl](std::string_view tenant, const collector::ExportTraceServiceRequest& req)
          -> absl::StatusOr<otlp::ExportOutcome> {
        return impl->counters.CountedExport("otlp grpc traces ingest", "otlp_grpc_traces", impl->admission,
                                            req, [&] { return impl->ExportOtlp(tenant, req, "otlp_grpc_traces"); });
      });
}

}  // namespace otelbox::ingest
