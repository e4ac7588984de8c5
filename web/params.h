#pragma once
// Parameter parsing with Prometheus' rules (web/api/v1/api.go): times are float unix
// seconds or RFC3339(Nano); durations are Prometheus duration strings or float seconds.
// Errors are InvalidArgument and name the parameter as Prometheus does:
//   invalid parameter "start": cannot parse "x" to a valid timestamp

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/querier.h"
#include "web/router.h"

namespace otelbox::web {

// Milliseconds, clamped to [kMinTimeMs, kMaxTimeMs]. Error text (without the parameter):
// cannot parse "x" to a valid timestamp
absl::StatusOr<int64_t> ParseTimeMs(std::string_view text);

// Milliseconds. Error text: cannot parse "x" to a valid duration
absl::StatusOr<int64_t> ParseDurationMs(std::string_view text);

// The parameter `name`, or `default_ms` when absent or empty (Prometheus' parseTimeParam).
absl::StatusOr<int64_t> TimeParam(const HttpRequest& request, std::string_view name,
                                  int64_t default_ms);
// Required: an absent parameter is an error (as parseTime("") is).
absl::StatusOr<int64_t> RequiredTimeParam(const HttpRequest& request, std::string_view name);
absl::StatusOr<int64_t> DurationParam(const HttpRequest& request, std::string_view name);

// `limit`: 0 (no limit) when absent or 0; InvalidArgument when not a non-negative integer.
absl::StatusOr<size_t> LimitParam(const HttpRequest& request);

// Every `match[]` parsed as a bare PromQL selector (one matcher set each).
absl::StatusOr<std::vector<storage::MatcherSet>> MatchParams(const HttpRequest& request);

// Prometheus' "U__" value-encoding escape (model.UnescapeName): "U__http_2e_method" ->
// "http.method". Returns `name` unchanged when it is not escaped or the escape is invalid.
std::string UnescapeLabelName(std::string_view name);

}  // namespace otelbox::web
