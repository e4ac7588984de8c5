#include "web/api_errors.h"

#include "web/json_writer.h"

namespace otelbox::web {

PrometheusError ClassifyStatus(const absl::Status& status) {
  std::string msg(status.message());
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument: return {400, "bad_data", msg};
    case absl::StatusCode::kUnimplemented:
      // Valid PromQL we can't evaluate yet: an execution error, never "bad input".
      if (msg.find("not supported yet") == std::string::npos) msg = "not supported yet: " + msg;
      return {422, "execution", msg};
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kFailedPrecondition: return {422, "execution", msg};
    case absl::StatusCode::kDeadlineExceeded: return {503, "timeout", msg};
    case absl::StatusCode::kCancelled: return {503, "canceled", msg};
    case absl::StatusCode::kUnavailable: return {503, "unavailable", msg};
    default: return {500, "internal", msg};
  }
}

HttpResponse PrometheusErrorResponse(const absl::Status& status) {
  PrometheusError e = ClassifyStatus(status);
  std::string body = "{\"status\":\"error\",\"errorType\":\"";
  body += e.error_type;
  body += "\",\"error\":";
  AppendJsonString(&body, e.message);
  body += '}';
  return HttpResponse::Json(e.http_status, std::move(body));
}

}  // namespace otelbox::web
