#include "ingest/otlp/grpc_logs_service.h"

#include <google/protobuf/arena.h>

namespace otelbox::ingest::otlp {
namespace {

namespace collector = opentelemetry::proto::collector::logs::v1;

class GrpcLogsService final
    : public collector::LogsService::WithRawCallbackMethod_Export<collector::LogsService::Service> {
 public:
  explicit GrpcLogsService(LogsExportFn fn) : fn_(std::move(fn)) {}

  grpc::ServerUnaryReactor* Export(grpc::CallbackServerContext* context,
                                   const grpc::ByteBuffer* request,
                                   grpc::ByteBuffer* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    google::protobuf::Arena arena;
    auto& parsed = *google::protobuf::Arena::CreateMessage<collector::ExportLogsServiceRequest>(&arena);
    collector::ExportLogsServiceResponse reply;
    reactor->Finish(HandleRawExport(
        context, *request, &parsed, reply,
        [&](std::string_view tenant) -> absl::Status {
          absl::StatusOr<ExportOutcome> out = fn_(tenant, parsed);
          if (!out.ok()) return out.status();
          if (out->rejected > 0 || !out->error_message.empty()) {
            auto* ps = reply.mutable_partial_success();
            ps->set_rejected_log_records(out->rejected);
            ps->set_error_message(out->error_message);
          }
          return absl::OkStatus();
        },
        response));
    return reactor;
  }

 private:
  LogsExportFn fn_;
};

}  // namespace

std::unique_ptr<collector::LogsService::Service> NewGrpcLogsService(LogsExportFn fn) {
  return std::make_unique<GrpcLogsService>(std::move(fn));
}

}  // namespace otelbox::ingest::otlp
