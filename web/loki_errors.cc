#include "web/loki_errors.h"

#include <string>

namespace otelbox::web {

HttpResponse LokiErrorResponse(const absl::Status& status) {
  int code = 500;
  std::string body(status.message());
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kUnimplemented:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kOutOfRange:
      code = 400;
      break;
    case absl::StatusCode::kDeadlineExceeded:
      code = 504;
      body =
          "request timed out, decrease the duration of the request or add more label matchers "
          "(prefer exact match over regex match) to reduce the amount of data processed";
      break;
    case absl::StatusCode::kCancelled:
      code = 499;
      body = "the request was cancelled by the client";
      break;
    case absl::StatusCode::kUnavailable:
      code = 503;
      break;
    default:
      break;
  }
  HttpResponse resp = HttpResponse::Text(code, std::move(body));
  resp.headers.emplace_back("X-Content-Type-Options", "nosniff");
  return resp;
}

HttpResponse LokiBadRequest(std::string message) {
  return LokiErrorResponse(absl::InvalidArgumentError(std::move(message)));
}

}  // namespace otelbox::web
