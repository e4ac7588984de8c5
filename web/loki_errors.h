#pragma once
// The one mapping from absl::Status to Loki's error replies (pkg/util/server/error.go
// WriteError): plain text (no JSON envelope), with
//   InvalidArgument, ResourceExhausted (query limits), Unimplemented, FailedPrecondition,
//   NotFound -> 400 (Grafana shows the text; 5xx bodies are hidden from the UI)
//   DeadlineExceeded -> 504 with Loki's "request timed out, ..." text
//   Cancelled -> 499 "the request was cancelled by the client"
//   Unavailable -> 503, anything else -> 500

#include "absl/status/status.h"
#include "web/router.h"

namespace otelbox::web {

HttpResponse LokiErrorResponse(const absl::Status& status);

// 400 with `message` as the body.
HttpResponse LokiBadRequest(std::string message);

}  // namespace otelbox::web
