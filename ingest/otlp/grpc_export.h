#pragma once
// The body shared by every OTLP/gRPC Export method (metrics, logs, traces). Services use
// gRPC's raw (ByteBuffer) callback method rather than the generated typed one: with the
// typed method gRPC++ itself rejects an unparseable request with INTERNAL and no message,
// while OTLP asks for INVALID_ARGUMENT (not retryable) naming the problem.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"

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

}  // namespace otelbox::ingest::otlp
