#pragma once
// The one mapping from absl::Status to Prometheus' API error envelope and HTTP status
// (web/api/v1/api.go respondError), STYLE.md 3.3:
//   InvalidArgument -> 400 bad_data         Unimplemented -> 422 execution ("not supported yet")
//   ResourceExhausted, FailedPrecondition -> 422 execution
//   DeadlineExceeded -> 503 timeout  Cancelled -> 503 canceled  Unavailable -> 503 unavailable
//   anything else -> 500 internal

#include <string>

#include "absl/status/status.h"
#include "web/router.h"

namespace otelbox::web {

struct PrometheusError {
  int http_status;
  const char* error_type;  // bad_data, execution, timeout, canceled, unavailable, internal
  std::string message;
};

PrometheusError ClassifyStatus(const absl::Status& status);

// {"status":"error","errorType":"bad_data","error":"…"} with the matching HTTP status.
HttpResponse PrometheusErrorResponse(const absl::Status& status);

}  // namespace otelbox::web
