#pragma once
// Parameter parsing with Loki's rules (pkg/loghttp/params.go). Times are nanoseconds:
// a value with '.' is float seconds, an integer of at most 10 digits is seconds, a longer
// one nanoseconds, else RFC3339(Nano). Durations are float seconds or Prometheus
// durations ("15000ms", "1m"). Errors are InvalidArgument with Loki's wording.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "web/router.h"

namespace otelbox::web {

absl::StatusOr<int64_t> ParseLokiTimeNs(std::string_view text);
absl::StatusOr<int64_t> ParseLokiDurationNs(std::string_view text);

// `start`, `end`, `since` as Loki's bounds(): end defaults to now; start to
// min(end, now) - since (since defaults to 1h).
struct LokiBounds {
  int64_t start_ns = 0;
  int64_t end_ns = 0;
};
absl::StatusOr<LokiBounds> ParseLokiBounds(const HttpRequest& request, int64_t now_ns);

// `limit` (default `def`): "limit must be a positive value" when <= 0.
absl::StatusOr<int64_t> ParseLokiLimit(const HttpRequest& request, int64_t def = 100);

// `direction`: "forward" / "backward" (any case), default backward. True for forward.
absl::StatusOr<bool> ParseLokiDirectionForward(const HttpRequest& request);

// Every value of `match[]` and `match` (Loki's series query), deduplicated, sorted; a lone
// "{}" means "all streams" (empty result).
std::vector<std::string> LokiSeriesMatchers(const HttpRequest& request);

}  // namespace otelbox::web
