#include "ingest/otlp/grpc_export.h"

#include <google/protobuf/message.h>

#include <exception>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "ingest/otlp/otlp_http.h"
#include "ingest/string_util.h"
#include "storage/model/tenant.h"

namespace otelbox::ingest::otlp {

grpc::Status HandleRawExport(grpc::CallbackServerContext* context, const grpc::ByteBuffer& in,
                             google::protobuf::Message* request,
                             const google::protobuf::Message& response, const RawExportFn& fn,
                             grpc::ByteBuffer* out) {
  const std::string type_name = request->GetDescriptor()->name();
  try {
    std::vector<grpc::Slice> slices;
    std::string bytes;
    if (in.Dump(&slices).ok()) {
      for (const auto& slice : slices) {
        bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
      }
    }
    if (!request->ParseFromString(bytes)) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          absl::StrCat("cannot decode ", type_name, ": malformed protobuf"));
    }
    std::string tenant(storage::kDefaultTenant);
    // gRPC lower-cases metadata keys.
    const auto& md = context->client_metadata();
    if (auto it = md.find("x-scope-orgid"); it != md.end() && !it->second.empty()) {
      tenant.assign(it->second.data(), it->second.size());
    }
    if (absl::Status st = fn(tenant); !st.ok()) {
      return grpc::Status(static_cast<grpc::StatusCode>(st.code()), std::string(st.message()));
    }
    std::string serialized = response.SerializeAsString();
    grpc::Slice slice(serialized);
    *out = grpc::ByteBuffer(&slice, 1);
    return grpc::Status::OK;
  } catch (const std::exception& e) {
    LogError(absl::StrCat("otlp grpc export of ", type_name, " failed: ", e.what()));
  } catch (...) {
    LogError(absl::StrCat("otlp grpc export of ", type_name, " failed: unknown exception"));
  }
  return grpc::Status(grpc::StatusCode::INTERNAL, "internal error");
}

absl::StatusOr<ExportOutcome> AdmitAndExport(
    std::string_view what, Admission& admission, size_t request_bytes,
    const std::function<absl::StatusOr<ExportOutcome>()>& export_fn) {
  try {
    auto ticket = admission.TryAcquire(request_bytes * kAdmissionBytesPerBodyByte);
    if (!ticket) return absl::UnavailableError(kOverloadedMessage);
    return export_fn();
  } catch (const std::exception& e) {
    LogError(absl::StrCat(AbslView(what), " failed: ", e.what()));
  } catch (...) {
    LogError(absl::StrCat(AbslView(what), " failed: unknown exception"));
  }
  return absl::InternalError("internal error");
}

}  // namespace otelbox::ingest::otlp
