// logql_conformance: runs Loki's LogQL test scripts (read at run time from
// ../shared/conformance/logql, never copied into the repo) and our own
// tests/testdata/logql/*.logqltest against the real LogStore and LogQL engine, and gates on
// a checked-in list of known failures (STYLE.md 3.4), as promql_conformance does.
//
//   logql_conformance --scripts DIR_OR_FILE [--scripts ...] [--expectations FILE]
//                     [--update-expectations] [--verbose] [--file NAME] [--only FILE:LINE]
//                     [--no-round-trip] [--no-flush]
//
// Exit status: 0 = no case outside the expectations failed; 1 = a regression (a failing
// case that is not listed), a script/load error or bad usage; 77 = a --scripts path is
// missing and nothing regressed (CTest reports the test skipped, SKIP_RETURN_CODE).
// Per file and in total it prints "N passed, N failed"; the last two lines are
// "logql conformance total:" and the total.
// The command line, the report and the expectations file are conformance_harness's; what
// is LogQL's is below.

#include <string>

#include "tests/conformance/conformance_harness.h"
#include "tests/conformance/logql_runner.h"

namespace otelbox::conformance {
namespace {

int Main(int argc, char** argv) {
  logqltest::RunnerOptions options;
  ScriptSuite suite{
      .name = "logql",
      .language = "LogQL",
      .extension = ".logqltest",
      .usage = "usage: logql_conformance --scripts DIR_OR_FILE [--scripts ...]\n"
               "         [--expectations FILE] [--update-expectations] [--verbose]\n"
               "         [--file NAME.logqltest] [--only NAME.logqltest:LINE]\n"
               "         [--no-round-trip] [--no-flush]\n",
      .layout = {
          .header =
              "# Known-failing LogQL conformance cases (tests/conformance/logql_conformance_main.cc).\n"
              "# One case per line: <file>:<line of its eval>  <reason>. This list only shrinks: the\n"
              "# runner fails on a failing case that is not listed and asks for listed cases that\n"
              "# pass to be removed. Regenerate with --update-expectations (see\n"
              "# tests/conformance/CMakeLists.txt); comment lines directly above an entry are kept.\n",
          .group_order = {"script error", "error", "expected failure", "wrong result type", "wrong result",
                          "wrong error message", "round trip"},
      },
      .add_flags =
          [&options](Flags* flags) {
            flags->Switch("--no-round-trip", &options.round_trip, false);
            flags->Switch("--no-flush", &options.flush, false);
          },
      .run_file =
          [&options](const std::string& path, const std::vector<std::string>& only) {
            options.only = only;
            return logqltest::RunScriptFile(path, options);
          },
  };
  return RunScriptSuite(suite, argc, argv);
}

}  // namespace
}  // namespace otelbox::conformance

int main(int argc, char** argv) { return otelbox::conformance::Main(argc, argv); }
