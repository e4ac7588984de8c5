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
#include "ingest/ingest_counters.h"
#include "ingest/otlp/grpc_metrics_service.h"
#include "ingest/otlp/metrics_translator.h"
#include "ingest/otlp/otlp_http.h"
#include "ingest/otlp/otlp_json.h"
#include "ingest/prometheus/remote_write.h"
#include "ingest/string_util.h"
#include "storage/model/tenant.h"

namespace otelbox::ingest {
namespace {

namespace collector = opentelemetry::proto::collector::metrics::v1;

using otlp::HttpStatusFor;
using otlp::MessageReply;
using otlp::StatusReply;
using otlp::TextReply;

constexpr const char* kOverloaded = otlp::kOverloadedMessage;

}  // namespace

struct MetricsIngest::Impl {
  Impl(storage::MetricAppender* a, SelfMetrics* m, IngestLimits l)
      : appender(a),
        counters(m, "otelbox_ingest_received_samples_total", "Samples received by protocol, before storage."),
        limits(l),
        admission(l.max_inflight_bytes) {}

  storage::MetricAppender* appender;
  IngestCounters counters;
  IngestLimits limits;
  Admission admission;

  std::optional<Admission::Ticket> Admit(size_t body_bytes) {
    return admission.TryAcquire(body_bytes * kAdmissionBytesPerBodyByte);
  }

  // The shared OTLP path: translate, append (dropping what storage can't take), and report
  // rejected points for partial success. Thread-safe (the appender is).
  absl::StatusOr<otlp::ExportOutcome> ExportOtlp(std::string_view tenant,
                                                 const collector::ExportMetricsServiceRequest& req,
                                                 std::string_view protocol) {
    otlp::MetricsTranslation tr = otlp::TranslateMetrics(req);
    counters.CountItems(protocol, static_cast<int64_t>(tr.batch.SampleCount()));
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
    google::protobuf::Arena arena;  // one allocation region for the whole request
    auto& req = *google::protobuf::Arena::CreateMessage<collector::ExportMetricsServiceRequest>(&arena);
    otlp::OtlpEncoding enc;
    std::optional<Admission::Ticket> ticket;
    if (auto failed = otlp::DecodeOtlpHttpRequest(request, limits, &admission, &req, &enc, &ticket)) {
      return *std::move(failed);
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
    if (otlp::MediaType(request.content_type) == otlp::kProtobufContentType &&
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
    counters.CountItems("remote_write", static_cast<int64_t>(batch->SampleCount()));
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
  return impl_->counters.CountedReply("otlp http metrics ingest", "otlp_http",
                                      [&] { return impl_->OtlpHttp(request); });
}

IngestReply MetricsIngest::HandleRemoteWrite(const IngestRequest& request) {
  return impl_->counters.CountedReply("remote_write ingest", "remote_write",
                                      [&] { return impl_->RemoteWrite(request); });
}

std::unique_ptr<grpc::Service> MetricsIngest::MakeGrpcService() {
  Impl* impl = impl_.get();
  return otlp::NewGrpcMetricsService(
      [impl](std::string_view tenant, const collector::ExportMetricsServiceRequest& req)
          -> absl::StatusOr<otlp::ExportOutcome> {
        return impl->counters.CountedExport("otlp grpc metrics ingest", "otlp_grpc", impl->admission, req,
                                            [&] { return impl->ExportOtlp(tenant, req, "otlp_grpc"); });
      });
}

}  // namespace otelbox::ingest
