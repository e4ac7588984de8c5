#pragma once
// Runs parsed PromQL test scripts (tests/conformance/promql_script.h) against the real
// metric store and query::promql::Engine, and judges each `eval` as upstream's promqltest
// does (../shared/conformance/promql/FORMAT.md §11-§13).
//
// Per file: a fresh Database + MetricStore in a temp directory, retention off and a fixed
// clock (scripts live around t = 0); `clear` opens a new one. The engine is used only
// through Engine::Instant / Engine::Range and the value types of query/common/value.h.
//
// Outcomes:
//  * passed / failed: the case ran; a failure carries a short classification (`reason`,
//    what the expectations file lists) and a longer `detail` (expected vs got).
//  * skipped: the case cannot be set up faithfully because our storage lacks what it
//    needs: start timestamps (§6; "start timestamps"). Skipped cases are listed in the
//    expectations file too, so the list only shrinks when support lands.
// Native histograms (§5, §7) are loaded with their counter-reset hints set as Prometheus'
// TSDB reports them back (see HintAsStored in the .cc).
// Cases using experimental/feature-gated constructs (§14, §16) run normally and carry
// `feature` so they can be reported separately.
//
// Not thread-safe; one runner per thread.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/conformance/case_result.h"

namespace otelbox::conformance {

struct RunnerOptions {
  // Also check that Print(Parse(expr)) parses back to the same text (STYLE.md 3.4).
  bool round_trip = true;
  // Upstream's range-mode cross-check of instant queries (FORMAT.md §15.2): run the
  // expression as a range query from T-1m to T+1m step 1m and compare the points at T.
  bool range_cross_check = true;
  // Only evaluate these cases ("file:line"); empty = all.
  std::vector<std::string> only;
};

// Reads, parses and runs one script. Errors only when the file cannot be read or a store
// cannot be opened (the case results so far are lost then).
absl::StatusOr<FileResult> RunScriptFile(const std::string& path, const RunnerOptions& options);

// The experimental/gated construct an expression uses (FORMAT.md §14 table), or "".
std::string GatedFeature(const std::string& expr);

}  // namespace otelbox::conformance
