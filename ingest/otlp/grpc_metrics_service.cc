#include "ingest/otlp/grpc_metrics_service.h"

#include <google/protobuf/arena.h>

#include <exception>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "storage/model/tenant.h"

namespace otelbox::ingest::otlp {
namespace {

namespace collector = opentelemetry::proto::collector::metrics::v1;

// A raw (ByteBuffer) callback method rather than the generated typed one: with the typed
// method gRPC++ itself rejects an unparseable request with INTERNAL and no message, while
// OTLP asks for INVALID_ARGUMENT (not retryable) naming the problem.
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
    try {
      std::vector<grpc::Slice> slices;
      google::protobuf::Arena arena;
      auto& parsed = *google::protobuf::Arena::CreateMessage<collector::ExportMetricsServiceRequest>(&arena);
      std::string bytes;
      if (request->Dump(&slices).ok()) {
        for (const auto& slice : slices) {
          bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
        }
      }
      if (!parsed.ParseFromString(bytes)) {
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                            "cannot decode ExportMetricsServiceRequest: malformed protobuf");
      }
      std::string tenant(storage::kDefaultTenant);
      // gRPC lower-cases metadata keys.
      const auto& md = context->client_metadata();
      if (auto it = md.find("x-scope-orgid"); it != md.end() && !it->second.empty()) {
        tenant.assign(it->second.data(), it->second.size());
      }
      absl::StatusOr<ExportOutcome> out = fn_(tenant, parsed);
      if (!out.ok()) {
        return grpc::Status(static_cast<grpc::StatusCode>(out.status().code()),
                            std::string(out.status().message()));
      }
      collector::ExportMetricsServiceResponse reply;
      if (out->rejected > 0 || !out->error_message.empty()) {
        auto* ps = reply.mutable_partial_success();
        ps->set_rejected_data_points(out->rejected);
        ps->set_error_message(out->error_message);
      }
      std::string serialized = reply.SerializeAsString();
      grpc::Slice slice(serialized);
      *response = grpc::ByteBuffer(&slice, 1);
      return grpc::Status::OK;
    } catch (const std::exception& e) {
      LogError(absl::StrCat("otlp grpc metrics export failed: ", e.what()));
    } catch (...) {
      LogError("otlp grpc metrics export failed: unknown exception");
    }
    return grpc::Status(grpc::StatusCode::INTERNAL, "internal error");
  }

  MetricsExportFn fn_;
};

}  // namespace

std::unique_ptr<collector::MetricsService::Service> NewGrpcMetricsService(MetricsExportFn fn) {
  return std::make_unique<GrpcMetricsService>(std::move(fn));
}

}  // namespace otelbox::ingest::otlp
