#pragma once
// Runs LogQL test scripts (tests/conformance/logql_script.h) against the real LogStore and
// query::logql::Engine and judges each `eval` as ../shared/conformance/logql/FORMAT.md §6
// says (upstream runs direction FORWARD, limit 1000, one tenant).
//
// The store: a fresh Database + LogStore in a temp directory per scenario (rebuilt when the
// loads since the last `clear` change), retention off, a fixed clock; after loading, the
// head is flushed so scans read compressed blocks as they do in production.
//
// Not thread-safe; one runner per thread.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/conformance/case_result.h"

namespace otelbox::conformance::logqltest {

struct RunnerOptions {
  // Also check that Print(Parse(query)) parses back to the same text (STYLE.md 3.4).
  bool round_trip = true;
  // Flush the store's head into blocks after loading (false: entries stay in the head).
  bool flush = true;
  // Only evaluate these cases ("file:line"); empty = all.
  std::vector<std::string> only;
};

// Cases and files are reported as conformance::CaseResult / FileResult (case_result.h);
// LogQL cases are never kSkipped and carry no `feature`.

absl::StatusOr<FileResult> RunScriptFile(const std::string& path, const RunnerOptions& options);

}  // namespace otelbox::conformance::logqltest
