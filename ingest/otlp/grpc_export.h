#pragma once
// The body shared by every OTLP/gRPC Export method (metrics, logs, traces). Services use
// gRPC's raw (ByteBuffer) callback method rather than the generated typed one: with the
// typed method gRPC++ itself rejects an unparseable request with INTERNAL and no message,
// while OTLP asks for INVALID_ARGUMENT (not retryable) naming the problem.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <google/protobuf/arena.h>
#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ingest/admission.h"

namespace google::protobuf {
class Message;
}

namespace otelbox::ingest::otlp {

// What an export reports back: OTLP partial success.
struct ExportOutcome {
  int64_t rejected = 0;       // rejected data points / log records / spans (partial success when > 0)
  std::string error_message;  // why; a non-empty message with 0 rejected is a warning
};

// Called with the tenant (x-scope-orgid metadata, else storage::kDefaultTenant) once
// `request` is parsed; fills the response message. A non-OK status becomes the gRPC status
// with the same code and message.
using RawExportFn = std::function<absl::Status(std::string_view tenant)>;

// Parses `in` into `request` (INVALID_ARGUMENT "cannot decode <type name>: malformed
// protobuf" on failure), runs `fn`, then serialises `response` into `out`. Any exception is
// caught, logged and answered with INTERNAL.
grpc::Status HandleRawExport(grpc::CallbackServerContext* context, const grpc::ByteBuffer& in,
                             google::protobuf::Message* request,
                             const google::protobuf::Message& response, const RawExportFn& fn,
                             grpc::ByteBuffer* out);

// The body of every signal's gRPC export function: admission for `request_bytes` (refused:
// UNAVAILABLE, OTLP's retryable backpressure code — RESOURCE_EXHAUSTED is retried only with
// RetryInfo attached), then `export_fn`; an escaping exception is logged as "<what> failed:
// ..." and becomes INTERNAL.
absl::StatusOr<ExportOutcome> AdmitAndExport(
    std::string_view what, Admission& admission, size_t request_bytes,
    const std::function<absl::StatusOr<ExportOutcome>()>& export_fn);

// The Export method of one OTLP gRPC service (`Grpc` is the generated service class, e.g.
// collector::logs::v1::LogsService), raw callback flavour. `export_fn` does the work shared
// with OTLP/HTTP; `fill_partial_success` writes a non-empty outcome into the response (the
// rejected-count field is named per signal).
template <typename Grpc, typename Request, typename Response>
class OtlpExportService final
    : public Grpc::template WithRawCallbackMethod_Export<typename Grpc::Service> {
 public:
  using ExportFn = std::function<absl::StatusOr<ExportOutcome>(std::string_view tenant,
                                                               const Request& request)>;
  using FillFn = void (*)(const ExportOutcome& outcome, Response* response);

  OtlpExportService(ExportFn export_fn, FillFn fill_partial_success)
      : export_fn_(std::move(export_fn)), fill_(fill_partial_success) {}

  grpc::ServerUnaryReactor* Export(grpc::CallbackServerContext* context,
                                   const grpc::ByteBuffer* request,
                                   grpc::ByteBuffer* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    google::protobuf::Arena arena;
    auto& parsed = *google::protobuf::Arena::CreateMessage<Request>(&arena);
    Response reply;
    reactor->Finish(HandleRawExport(
        context, *request, &parsed, reply,
        [&](std::string_view tenant) -> absl::Status {
          absl::StatusOr<ExportOutcome> out = export_fn_(tenant, parsed);
          if (!out.ok()) return out.status();
          if (out->rejected > 0 || !out->error_message.empty()) fill_(*out, &reply);
          return absl::OkStatus();
        },
        response));
    return reactor;
  }

 private:
  ExportFn export_fn_;
  FillFn fill_;
};

}  // namespace otelbox::ingest::otlp
