#include "ingest/otlp/grpc_metrics_service.h"

#include <exception>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "storage/model/tenant.h"

namespace otelbox::ingest::otlp {
namespace {

namespace collector = opentelemetry::proto::collector::metrics::v1;

class GrpcMetricsService final : public collector::MetricsService::Service {
 public:
  explicit GrpcMetricsService(MetricsExportFn fn) : fn_(std::move(fn)) {}

  grpc::Status Export(grpc::ServerContext* context,
                      const collector::ExportMetricsServiceRequest* request,
                      collector::ExportMetricsServiceResponse* response) override {
    try {
      std::string tenant(storage::kDefaultTenant);
      // gRPC lower-cases metadata keys.
      const auto& md = context->client_metadata();
      if (auto it = md.find("x-scope-orgid"); it != md.end() && !it->second.empty()) {
        tenant.assign(it->second.data(), it->second.size());
      }
      absl::StatusOr<ExportOutcome> out = fn_(tenant, *request);
      if (!out.ok()) {
        return grpc::Status(static_cast<grpc::StatusCode>(out.status().code()),
                            std::string(out.status().message()));
      }
      if (out->rejected > 0 || !out->error_message.empty()) {
        auto* ps = response->mutable_partial_success();
        ps->set_rejected_data_points(out->rejected);
        ps->set_error_message(out->error_message);
      }
      return grpc::Status::OK;
    } catch (const std::exception& e) {
      LogError(absl::StrCat("otlp grpc metrics export failed: ", e.what()));
    } catch (...) {
      LogError("otlp grpc metrics export failed: unknown exception");
    }
    return grpc::Status(grpc::StatusCode::INTERNAL, "internal error");
  }

 private:
  MetricsExportFn fn_;
};

}  // namespace

std::unique_ptr<collector::MetricsService::Service> NewGrpcMetricsService(MetricsExportFn fn) {
  return std::make_unique<GrpcMetricsService>(std::move(fn));
}

}  // namespace otelbox::ingest::otlp
