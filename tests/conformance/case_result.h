#pragma once
// What a script runner (promql_runner, logql_runner) reports per case and per file; the
// harness (conformance_harness.h) judges these against the expectations file.

#include <cstdint>
#include <string>
#include <vector>

namespace otelbox::conformance {

// kSkipped: the case cannot be set up faithfully (PromQL: start timestamps); it is listed
// in the expectations file like a failure, so the list only shrinks when support lands.
enum class Outcome { kPassed, kFailed, kSkipped };

struct CaseResult {
  std::string key;  // "file:LINE", LINE = the eval header's 1-based line
  int line = 0;
  std::string query;
  Outcome outcome = Outcome::kPassed;
  std::string reason;   // one line, what the expectations file lists; empty when passed
  std::string detail;   // longer explanation for --verbose
  std::string feature;  // experimental/gated construct used (PromQL), e.g. "limitk"; "" if none
};

struct FileResult {
  std::string file;  // base name
  std::vector<CaseResult> cases;
  std::vector<std::string> errors;  // script or setup errors outside eval blocks
  int64_t wall_ms = 0;
};

}  // namespace otelbox::conformance
