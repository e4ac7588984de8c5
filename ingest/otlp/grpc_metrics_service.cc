#include "ingest/otlp/grpc_metrics_service.h"

#include <google/protobuf/arena.h>

#include <exception>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ingest/otlp/grpc_export.h"

namespace otelbox::ingest::otlp {
namespace {

namespace collector = opentelemetry::proto::collector::metrics::v1;

// A raw (ByteBuffer) callback method: see grpc_export.h.
class GrpcMetricsService final
    : public collector::MetricsService::WithRawCallbackMethod_Export<collector::MetricsService::Service> {
 public:
  explicit GrpcMetricsService(MetricsExportFn fn) : fn_(std::move(fn)) {}

  grpc::ServerUnaryReactor* Export(grpc::CallbackServerContext* context,
                                   const grpc::ByteBuffer* request,
                                   grpc::ByteBuffer* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(Handle(context, request, response));
    return reactor;
  }

 private:
  grpc::Status Handle(grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
                      grpc::ByteBuffer* response) {
    google::protobuf::Arena arena;
    auto& parsed = *google::protobuf::Arena::CreateMessage<collector::ExportMetricsServiceRequest>(&arena);
    collector::ExportMetricsServiceResponse reply;
    return HandleRawExport(
        context, *request, &parsed, reply,
        [&](std::string_view tenant) -> absl::Status {
          absl::StatusOr<ExportOutcome> out = fn_(tenant, parsed);
          if (!out.ok()) return out.status();
          if (out->rejected > 0 || !out->error_message.empty()) {
            auto* ps = reply.mutable_partial_success();
            ps->set_rejected_data_points(out->rejected);
            ps->set_error_message(out->error_message);
          }
          return absl::OkStatus();
        },
        response);
  }

  MetricsExportFn fn_;
};

}  // namespace

std::unique_ptr<collector::MetricsService::Service> NewGrpcMetricsService(MetricsExportFn fn) {
  return std::make_unique<GrpcMetricsService>(std::move(fn));
}

}  // namespace otelbox::ingest::otlp
