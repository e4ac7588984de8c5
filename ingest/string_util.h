#pragma once
// Debian's Abseil is built with its own absl::string_view (ABSL_OPTION_USE_STD_STRING_VIEW
// is 0), so std::string_view does not convert implicitly. These spell the conversion.

#include <string_view>

#include "absl/strings/string_view.h"

namespace otelbox::ingest {

inline absl::string_view AbslView(std::string_view s) { return {s.data(), s.size()}; }
inline std::string_view StdView(absl::string_view s) { return {s.data(), s.size()}; }

}  // namespace otelbox::ingest
