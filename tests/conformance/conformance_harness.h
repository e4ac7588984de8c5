#pragma once
// The part of a conformance runner that does not depend on the query language: command
// line flags, finding the scripts, running them file by file, the per-file and total
// report, and gating on the expectations file (expectations_file.h). Each
// <language>_conformance_main.cc describes its language in a ScriptSuite and calls
// RunScriptSuite.
//
// Command line of a script suite:
//   <program> --scripts DIR_OR_FILE [--scripts ...] [--expectations FILE]
//             [--update-expectations] [--verbose|-v] [--file NAME] [--only NAME:LINE]
//             [language switches, e.g. --no-round-trip]
//
// Exit status: 0 = no case outside the expectations failed; 1 = a regression (a failing
// case that is not listed), a script/load error or bad usage; 77 = a --scripts path is
// missing and nothing regressed (CTest reports the test skipped, SKIP_RETURN_CODE).
// The last two lines are always "<name> conformance total:" and
// "N passed, N failed[, N skipped]".

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/conformance/case_result.h"
#include "tests/conformance/expectations_file.h"

namespace otelbox::conformance {

// A missing ../shared: CTest's SKIP_RETURN_CODE for every conformance test.
inline constexpr int kExitSkipped = 77;

// A small command-line parser: flags with a value ("--scripts DIR") and switches.
class Flags {
 public:
  // `--name VALUE` calls on_value(VALUE); the flag may repeat.
  void Value(std::string name, std::function<void(const std::string&)> on_value);
  void String(std::string name, std::string* out);  // last one wins
  void List(std::string name, std::vector<std::string>* out);
  // `--name` sets *out = value.
  void Switch(std::string name, bool* out, bool value = true);

  // False on an unknown argument or a flag missing its value; *bad is that argument.
  bool Parse(int argc, char** argv, std::string* bad) const;

 private:
  struct Flag {
    std::string name;
    std::function<void(const std::string&)> on_value;  // empty for a switch
    bool* target = nullptr;
    bool value = true;
  };
  std::vector<Flag> flags_;
};

// Files ending in `extension` directly in `path` (sorted), or `path` itself when it is a
// file; empty when it is neither.
std::vector<std::string> ListScripts(const std::string& path, const std::string& extension);

// A language's script-driven conformance suite.
struct ScriptSuite {
  // "promql": the program is "promql_conformance", the total "promql conformance total:".
  std::string name;
  std::string language;   // "PromQL": "SKIPPED: no PromQL test scripts at ..."
  std::string extension;  // ".test"
  std::string usage;      // printed on bad usage
  bool count_skipped = false;  // the count lines include "N skipped"
  // Non-empty: the summary also counts cases with a `feature` under this title.
  std::string gated_title = {};
  ExpectationsLayout layout;
  // The language's own switches (e.g. --no-round-trip), registered on these flags
  // before parsing.
  std::function<void(Flags*)> add_flags;
  // Runs one script, evaluating only `only` ("file:line") when that is non-empty.
  std::function<absl::StatusOr<FileResult>(const std::string& path, const std::vector<std::string>& only)>
      run_file;
};

// The whole run: returns the exit status.
int RunScriptSuite(const ScriptSuite& suite, int argc, char** argv);

}  // namespace otelbox::conformance
