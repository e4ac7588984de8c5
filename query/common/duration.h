#pragma once
// Prometheus duration strings (model.ParseDuration / model.Duration.String):
// "1y2w3d4h5m6s7ms", units in that order, each at most once; "0" is allowed.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace otelbox::query {

// Milliseconds, or InvalidArgument `not a valid duration string: "x"`.
absl::StatusOr<int64_t> ParseDuration(std::string_view text);

// The inverse: 90000 -> "1m30s", 0 -> "0s", negative values get a leading '-'.
std::string FormatDuration(int64_t ms);

}  // namespace otelbox::query
