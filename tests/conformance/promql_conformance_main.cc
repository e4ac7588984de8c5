// promql_conformance: runs the upstream PromQL test scripts (read at run time from
// ../shared/conformance/promql, never copied into the repo) and our own
// tests/testdata/promql/*.test against the real store and engine, and gates on a
// checked-in list of known failures (STYLE.md 3.4).
//
//   promql_conformance --scripts DIR_OR_FILE [--scripts ...] [--expectations FILE]
//                      [--update-expectations] [--verbose] [--file NAME] [--only FILE:LINE]
//                      [--no-round-trip] [--no-range-check]
//
// Exit status: 0 = no case outside the expectations failed; 1 = a regression (a failing
// case that is not listed), a script/load error or bad usage; 77 = a --scripts path is
// missing and nothing regressed (CTest reports the test skipped, SKIP_RETURN_CODE).
// The last two lines are always "promql conformance total:" and
// "N passed, N failed, N skipped" (CI parses the latter).
// The command line, the report and the expectations file are conformance_harness's; what
// is PromQL's is below.

#include <string>
#include <string_view>

#include "tests/conformance/conformance_harness.h"
#include "tests/conformance/promql_runner.h"

namespace otelbox::conformance {
namespace {

// Every experimental case is one group, whatever went wrong with it.
std::string GroupOf(const std::string& reason) {
  if (std::string_view(reason).starts_with("experimental")) return "experimental";
  return reason.substr(0, reason.find(':'));
}

int Main(int argc, char** argv) {
  RunnerOptions options;
  ScriptSuite suite{
      .name = "promql",
      .language = "PromQL",
      .extension = ".test",
      .usage = "usage: promql_conformance --scripts DIR_OR_FILE [--scripts ...]\n"
               "         [--expectations FILE] [--update-expectations] [--verbose]\n"
               "         [--file NAME.test] [--only NAME.test:LINE] [--no-round-trip]\n"
               "         [--no-range-check]\n",
      // Skipped cases (start timestamps) are reported beside passed and failed.
      .count_skipped = true,
      .gated_title = "experimental/gated cases (FORMAT.md section 16)",
      .layout = {
          .header =
              "# Known-failing PromQL conformance cases (tests/conformance/promql_conformance_main.cc).\n"
              "# One case per line: <file>:<line of its eval>  <reason>. This list only shrinks: the\n"
              "# runner fails on a failing case that is not listed and asks for listed cases that\n"
              "# pass to be removed. Regenerate with --update-expectations (see\n"
              "# tests/conformance/CMakeLists.txt); comment lines directly above an entry are kept.\n"
              "# Skipped cases (start timestamps: not in our storage yet) are\n"
              "# listed too.\n",
          .group_order = {"script error", "error", "not supported yet", "wrong result",
                          "wrong error message", "annotations", "annotations not supported",
                          "range-mode cross-check", "round trip", "experimental", "native histograms",
                          "start timestamps"},
          .group_of = GroupOf,
      },
      .add_flags =
          [&options](Flags* flags) {
            flags->Switch("--no-round-trip", &options.round_trip, false);
            flags->Switch("--no-range-check", &options.range_cross_check, false);
          },
      .run_file =
          [&options](const std::string& path, const std::vector<std::string>& only) {
            options.only = only;
            return RunScriptFile(path, options);
          },
  };
  return RunScriptSuite(suite, argc, argv);
}

}  // namespace
}  // namespace otelbox::conformance

int main(int argc, char** argv) { return otelbox::conformance::Main(argc, argv); }
