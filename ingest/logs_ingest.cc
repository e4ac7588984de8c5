#include "ingest/logs_ingest.h"

#include <google/protobuf/arena.h>

#include <chrono>
#include <exception>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "ingest/admission.h"
#include "ingest/compression.h"
#include "ingest/ingest_counters.h"
#include "ingest/loki/push_request.h"
#include "ingest/otlp/grpc_logs_service.h"
#include "ingest/otlp/logs_translator.h"
#include "ingest/otlp/otlp_http.h"
#include "ingest/string_util.h"
#include "storage/model/tenant.h"

namespace otelbox::ingest {
namespace {

namespace collector = opentelemetry::proto::collector::logs::v1;

using otlp::HttpStatusFor;
using otlp::MessageReply;
using otlp::StatusReply;
using otlp::TextReply;

int64_t SystemNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Status → HTTP for the Loki push path: bad input 400, overload 429, the rest as Loki's
// distributor maps server errors (5xx, retried by Promtail/Alloy).
int LokiHttpStatusFor(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument: return 400;
    case absl::StatusCode::kResourceExhausted: return 429;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kCancelled:
    case absl::StatusCode::kDeadlineExceeded: return 503;
    default: return 500;
  }
}

}  // namespace

struct LogsIngest::Impl {
  Impl(storage::LogAppender* a, SelfMetrics* m, IngestLimits l, loki::PushLimits pl,
       std::function<int64_t()> now)
      : appender(a),
        counters(m, "otelbox_ingest_received_log_entries_total",
                 "Log entries received by protocol, before validation and storage."),
        limits(l),
        push_limits(pl),
        now_ns(now ? std::move(now) : SystemNowNs),
        admission(l.max_inflight_bytes) {}

  storage::LogAppender* appender;
  IngestCounters counters;
  IngestLimits limits;
  loki::PushLimits push_limits;
  std::function<int64_t()> now_ns;
  Admission admission;

  // The shared tail of every receiver: distributor checks, append, and the list of Loki
  // messages for whatever was not stored. A Status only when nothing could be written.
  struct Outcome {
    std::vector<std::string> errors;
    int64_t rejected = 0;
  };
  absl::StatusOr<Outcome> Store(std::string_view tenant, std::vector<loki::PushStream> streams,
                                std::string_view protocol) {
    int64_t received = 0;
    for (const auto& s : streams) received += static_cast<int64_t>(s.entries.size());
    counters.CountItems(protocol, received);
    loki::ValidatedPush validated = loki::ValidatePush(std::move(streams), push_limits, now_ns());
    Outcome out;
    out.errors = std::move(validated.errors);
    out.rejected = validated.rejected_entries;
    if (!validated.batch.streams.empty()) {
      auto stats = appender->Append(tenant.empty() ? storage::kDefaultTenant : tenant,
                                    validated.batch);
      if (!stats.ok()) return stats.status();
      out.rejected += stats->entries_rejected;
      for (auto& r : stats->rejections) out.errors.push_back(std::move(r.message));
    }
    return out;
  }

  IngestReply LokiPush(const IngestRequest& request) {
    if (request.body.size() > limits.max_body_bytes) {
      return TextReply(413, absl::StrCat("request body too large: ", request.body.size(),
                                         " bytes, limit: ", limits.max_body_bytes, " bytes"));
    }
    auto ticket = admission.TryAcquire(request.body.size() * kAdmissionBytesPerBodyByte);
    if (!ticket) {
      IngestReply reply = TextReply(429, otlp::kOverloadedMessage);
      reply.headers.emplace_back("Retry-After", "1");
      return reply;
    }
    // Loki: "" and "snappy" pass the body on (protobuf bodies are snappy-decoded below
    // whatever the header says); gzip and deflate are inflated first.
    const std::string_view encoding = request.content_encoding;
    std::string inflated;
    std::string_view body = request.body;
    if (encoding == "gzip" || encoding == "deflate" || encoding == "x-gzip") {
      auto decoded = DecodeHttpContentEncoding(encoding, request.body, limits.max_body_bytes);
      if (!decoded.ok()) {
        return TextReply(decoded.status().code() == absl::StatusCode::kResourceExhausted ? 413 : 400,
                         std::string(decoded.status().message()));
      }
      inflated = *std::move(decoded);
      body = inflated;
    } else if (!encoding.empty() && encoding != "snappy") {
      return TextReply(400, absl::StrCat("Content-Encoding \"", AbslView(encoding), "\" not supported"));
    }
    const bool json = otlp::MediaType(request.content_type) == otlp::kJsonContentType;
    auto streams = json ? loki::DecodePushJson(body)
                        : loki::DecodePushProtobuf(body, /*snappy_compressed=*/true,
                                                   limits.max_body_bytes);
    if (!streams.ok()) {
      return TextReply(streams.status().code() == absl::StatusCode::kResourceExhausted ? 413 : 400,
                       std::string(streams.status().message()));
    }
    if (streams->empty()) {
      return TextReply(422, "error at least one valid stream is required for ingestion");
    }
    for (auto& s : *streams) loki::DiscoverServiceName(&s.labels);
    auto out = Store(request.tenant, *std::move(streams), "loki_push");
    if (!out.ok()) {
      return TextReply(LokiHttpStatusFor(out.status().code()), std::string(out.status().message()));
    }
    if (!out->errors.empty()) return TextReply(400, loki::GroupedErrorText(out->errors));
    IngestReply reply;
    reply.status = 204;
    return reply;
  }

  absl::StatusOr<otlp::ExportOutcome> ExportOtlp(std::string_view tenant,
                                                 const collector::ExportLogsServiceRequest& req,
                                                 std::string_view protocol) {
    auto out = Store(tenant, otlp::TranslateLogs(req, now_ns()), protocol);
    if (!out.ok()) return out.status();
    otlp::ExportOutcome outcome;
    outcome.rejected = out->rejected;
    if (!out->errors.empty()) outcome.error_message = loki::GroupedErrorText(out->errors);
    return outcome;
  }

  IngestReply OtlpHttp(const IngestRequest& request) {
    google::protobuf::Arena arena;
    auto& req = *google::protobuf::Arena::CreateMessage<collector::ExportLogsServiceRequest>(&arena);
    otlp::OtlpEncoding enc;
    std::optional<Admission::Ticket> ticket;
    if (auto failed = otlp::DecodeOtlpHttpRequest(request, limits, &admission, &req, &enc, &ticket)) {
      return *std::move(failed);
    }
    auto out = ExportOtlp(request.tenant, req, "otlp_http_logs");
    if (!out.ok()) return StatusReply(HttpStatusFor(out.status().code()), enc, out.status());
    collector::ExportLogsServiceResponse resp;
    if (out->rejected > 0 || !out->error_message.empty()) {
      resp.mutable_partial_success()->set_rejected_log_records(out->rejected);
      resp.mutable_partial_success()->set_error_message(out->error_message);
    }
    return MessageReply(200, enc, resp);
  }
};

LogsIngest::LogsIngest(storage::LogAppender* appender, SelfMetrics* metrics, IngestLimits limits,
                       loki::PushLimits push_limits, std::function<int64_t()> now_ns)
    : impl_(std::make_unique<Impl>(appender, metrics, limits, push_limits, std::move(now_ns))) {}

LogsIngest::~LogsIngest() = default;

IngestReply LogsIngest::HandleLokiPush(const IngestRequest& request) {
  return impl_->counters.CountedReply("loki push ingest", "loki_push",
                                      [&] { return impl_->LokiPush(request); });
}

IngestReply LogsIngest::HandleOtlpHttp(const IngestRequest& request) {
  return impl_->counters.CountedReply("otlp http logs ingest", "otlp_http_logs",
                                      [&] { return impl_->OtlpHttp(request); });
}

std::unique_ptr<grpc::Service> LogsIngest::MakeGrpcService() {
  Impl* impl = impl_.get();
  return otlp::NewGrpcLogsService(
      [impl](std::string_view tenant, const collector::ExportLogsServiceRequest& req)
          -> absl::StatusOr<otlp::ExportOutcome> {
        return impl->counters.CountedExport("otlp grpc logs ingest", "otlp_grpc_logs", impl->admission, req,
                                            [&] { return impl->ExportOtlp(tenant, req, "otlp_grpc_logs"); });
      });
}

}  // namespace otelbox::ingest
