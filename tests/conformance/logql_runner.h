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

namespace otelbox::conformance::logqltest {

struct RunnerOptions {
  // Also check that Print(Parse(query)) parses back to the same text (STYLE.md 3.4).
  bool round_trip = true;
  // Flush the store's head into blocks after loading (false: entries stay in the head).
  bool flush = true;
  // Only evaluate these cases ("file:line"); empty = all.
  std::vector<std::string> only;
};

enum class Outcome { kPassed, kFailed };

struct CaseResult {
  std::string key;  // "file.logqltest:LINE"
  int line = 0;
  std::string query;
  Outcome outcome = Outcome::kPassed;
  std::string reason;  // one line, what the expectations file lists; empty when passed
  std::string detail;  // longer explanation for --verbose
};

struct FileResult {
  std::string file;  // base name
  std::vector<CaseResult> cases;
  std::vector<std::string> errors;  // script or setup errors outside eval blocks
  int64_t wall_ms = 0;
};

absl::StatusOr<FileResult> RunScriptFile(const std::string& path, const RunnerOptions& options);

}  // namespace otelbox::conformance::logqltest
