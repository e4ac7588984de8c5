#include "ingest/otlp/grpc_traces_service.h"

#include <google/protobuf/arena.h>

namespace otelbox::ingest::otlp {
namespace {

namespace collector = opentelemetry::proto::collector::trace::v1;

class GrpcTracesService final
    : public collector::TraceService::WithRawCallbackMethod_Export<collector::TraceService::Service> {
 public:
  explicit GrpcTracesService(TracesExportFn fn) : fn_(std::move(fn)) {}

  grpc::ServerUnaryReactor* Export(grpc::CallbackServerContext* context,
                                   const grpc::ByteBuffer* request,
                                   grpc::ByteBuffer* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    google::protobuf::Arena arena;
    auto& parsed = *google::protobuf::Arena::CreateMessage<collector::ExportTraceServiceRequest>(&arena);
    collector::ExportTraceServiceResponse reply;
    reactor->Finish(HandleRawExport(
        context, *request, &parsed, reply,
        [&](std::string_view tenant) -> absl::Status {
          absl::StatusOr<ExportOutcome> out = fn_(tenant, parsed);
          if (!out.ok()) return out.status();
          if (out->rejected > 0 || !out->error_message.empty()) {
            auto* ps = reply.mutable_partial_success();
            ps->set_rejected_spans(out->rejected);
            ps->set_error_message(out->error_message);
          }
          return absl::OkStatus();
        },
        response));
    return reactor;
  }

 private:
  TracesExportFn fn_;
};

}  // namespace

std::unique_ptr<collector::TraceService::Service> NewGrpcTracesService(TracesExportFn fn) {
  return std::make_unique<GrpcTracesService>(std::move(fn));
}

}  // namespace otelbox::ingest::otlp
