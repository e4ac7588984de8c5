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

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/conformance/logql_runner.h"
#include "tests/conformance/promql_text.h"

namespace otelbox::conformance {
namespace {

using logqltest::CaseResult;
using logqltest::FileResult;
using logqltest::Outcome;
using logqltest::RunnerOptions;
using logqltest::RunScriptFile;

constexpr int kExitSkipped = 77;

struct Args {
  std::vector<std::string> scripts;
  std::string expectations;
  bool update = false;
  bool verbose = false;
  std::set<std::string> files;
  RunnerOptions runner;
};

void Usage() {
  std::cerr << "usage: logql_conformance --scripts DIR_OR_FILE [--scripts ...]\n"
               "         [--expectations FILE] [--update-expectations] [--verbose]\n"
               "         [--file NAME.logqltest] [--only NAME.logqltest:LINE]\n"
               "         [--no-round-trip] [--no-flush]\n";
}

bool ParseArgs(int argc, char** argv, Args* args) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    std::string v;
    if (a == "--scripts" && value(&v)) {
      args->scripts.push_back(v);
    } else if (a == "--expectations" && value(&v)) {
      args->expectations = v;
    } else if (a == "--file" && value(&v)) {
      args->files.insert(v);
    } else if (a == "--only" && value(&v)) {
      args->runner.only.push_back(v);
      args->files.insert(v.substr(0, v.rfind(':')));
    } else if (a == "--update-expectations") {
      args->update = true;
    } else if (a == "--verbose" || a == "-v") {
      args->verbose = true;
    } else if (a == "--no-round-trip") {
      args->runner.round_trip = false;
    } else if (a == "--no-flush") {
      args->runner.flush = false;
    } else {
      std::cerr << "logql_conformance: bad argument " << a << "\n";
      return false;
    }
  }
  return !args->scripts.empty();
}

// ---- The expectations file: "file:line  reason", grouped under "# == group ==" lines.
// Other comment lines directly above an entry belong to it (a note on a compatibility
// choice) and survive --update-expectations while the case still fails.

struct Expectation {
  std::string reason;
  std::vector<std::string> notes;  // comment lines kept with the entry
};

std::map<std::string, Expectation> ReadExpectations(const std::string& path, bool* exists) {
  std::map<std::string, Expectation> out;
  std::ifstream in(path);
  *exists = static_cast<bool>(in);
  std::vector<std::string> notes;
  std::string line;
  while (std::getline(in, line)) {
    std::string_view l = Trim(line);
    if (l.empty() || std::string_view(l).starts_with("# ==")) {
      notes.clear();
      continue;
    }
    if (std::string_view(l).starts_with("#")) {
      notes.emplace_back(l);
      continue;
    }
    size_t sp = l.find_first_of(" \t");
    std::string key(l.substr(0, sp));
    std::string reason(sp == std::string_view::npos ? "" : Trim(l.substr(sp)));
    out[key] = Expectation{reason, std::move(notes)};
    notes.clear();
  }
  return out;
}

std::string Category(const std::string& reason) { return reason.substr(0, reason.find(':')); }

int CategoryRank(const std::string& c) {
  static const std::vector<std::string> kOrder = {
      "script error", "error", "expected failure", "wrong result type", "wrong result",
      "wrong error message", "round trip"};
  auto it = std::find(kOrder.begin(), kOrder.end(), c);
  return it == kOrder.end() ? static_cast<int>(kOrder.size()) : static_cast<int>(it - kOrder.begin());
}

// "functions.test:12" sorts by file, then numerically by line.
bool KeyLess(const std::string& a, const std::string& b) {
  auto split = [](const std::string& k) {
    size_t c = k.rfind(':');
    return std::make_pair(k.substr(0, c), c == std::string::npos ? 0 : std::atoi(k.c_str() + c + 1));
  };
  return split(a) < split(b);
}

bool WriteExpectations(const std::string& path, const std::map<std::string, Expectation>& entries) {
  std::map<std::string, std::vector<std::string>> groups;
  for (const auto& [key, e] : entries) groups[Category(e.reason)].push_back(key);
  std::vector<std::string> names;
  for (const auto& [name, keys] : groups) names.push_back(name);
  std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
    return std::make_pair(CategoryRank(a), a) < std::make_pair(CategoryRank(b), b);
  });
  std::ofstream out(path, std::ios::trunc);
  if (!out) return false;
  out << "# Known-failing LogQL conformance cases (tests/conformance/logql_conformance_main.cc).\n"
         "# One case per line: <file>:<line of its eval>  <reason>. This list only shrinks: the\n"
         "# runner fails on a failing case that is not listed and asks for listed cases that\n"
         "# pass to be removed. Regenerate with --update-expectations (see\n"
         "# tests/conformance/CMakeLists.txt); comment lines directly above an entry are kept.\n";
  for (const auto& name : names) {
    auto& keys = groups[name];
    std::sort(keys.begin(), keys.end(), KeyLess);
    out << "\n# == " << name << " (" << keys.size() << ") ==\n";
    for (const auto& key : keys) {
      const Expectation& e = entries.at(key);
      for (const auto& n : e.notes) out << n << "\n";
      out << key << "  " << e.reason << "\n";
    }
  }
  return static_cast<bool>(out);
}

std::vector<std::string> ListScripts(const std::string& path) {
  std::vector<std::string> out;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    for (const auto& entry : std::filesystem::directory_iterator(path, ec)) {
      if (entry.is_regular_file() && entry.path().extension() == ".logqltest") {
        out.push_back(entry.path().string());
      }
    }
    std::sort(out.begin(), out.end());
  } else if (std::filesystem::is_regular_file(path, ec)) {
    out.push_back(path);
  }
  return out;
}

struct Counts {
  int passed = 0, failed = 0;
  std::string Line() const { return Cat(passed, " passed, ", failed, " failed"); }
};

int Main(int argc, char** argv) {
  Args args;
  if (!ParseArgs(argc, argv, &args)) {
    Usage();
    return 1;
  }
  bool missing_scripts = false;
  bool errors = false;
  std::vector<std::string> paths;
  for (const auto& s : args.scripts) {
    std::vector<std::string> found = ListScripts(s);
    if (found.empty()) {
      std::cout << "SKIPPED: no LogQL test scripts at " << s
                << " (the shared conformance folder is not checked out here)\n";
      missing_scripts = true;
    }
    for (auto& p : found) {
      std::string base = std::filesystem::path(p).filename().string();
      if (!args.files.empty() && !args.files.contains(base)) continue;
      paths.push_back(std::move(p));
    }
  }
  std::set<std::string> bases;
  for (const auto& p : paths) {
    if (!bases.insert(std::filesystem::path(p).filename().string()).second) {
      std::cout << "ERROR: two scripts are named " << std::filesystem::path(p).filename()
                << "; case keys (file:line) must be unique\n";
      return 1;
    }
  }

  bool expectations_exist = false;
  std::map<std::string, Expectation> expected;
  if (!args.expectations.empty()) {
    expected = ReadExpectations(args.expectations, &expectations_exist);
    if (!expectations_exist && !args.update) {
      std::cout << "WARNING: expectations file " << args.expectations << " not found\n";
    }
  }

  Counts total;
  std::map<std::string, int> by_reason;
  std::vector<CaseResult> failing;
  std::set<std::string> ran_files;
  std::set<std::string> all_keys;
  for (const auto& path : paths) {
    absl::StatusOr<FileResult> fr = RunScriptFile(path, args.runner);
    if (!fr.ok()) {
      std::cout << "ERROR: " << path << ": " << fr.status() << "\n";
      errors = true;
      continue;
    }
    ran_files.insert(fr->file);
    Counts c;
    for (const auto& cr : fr->cases) {
      all_keys.insert(cr.key);
      if (cr.outcome == Outcome::kPassed) {
        ++c.passed;
      } else {
        ++c.failed;
        ++by_reason[Category(cr.reason)];
        failing.push_back(cr);
      }
    }
    std::cout << fr->file << ": " << c.Line() << "  [" << fr->wall_ms << " ms]\n";
    for (const auto& e : fr->errors) {
      std::cout << "  ERROR " << e << "\n";
      errors = true;
    }
    if (args.verbose) {
      for (const auto& cr : fr->cases) {
        if (cr.outcome != Outcome::kFailed) continue;
        std::cout << "  FAIL " << cr.key << "  [" << cr.reason << "]\n    query: " << cr.query << "\n    "
                  << cr.detail << "\n";
      }
    }
    total.passed += c.passed;
    total.failed += c.failed;
  }

  std::cout << "\nnot passing, by reason:\n";
  std::vector<std::pair<std::string, int>> reasons(by_reason.begin(), by_reason.end());
  std::sort(reasons.begin(), reasons.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  for (const auto& [reason, n] : reasons) std::cout << "  " << n << "  " << reason << "\n";

  auto file_of = [](const std::string& key) { return key.substr(0, key.rfind(':')); };
  const bool filtered = !args.runner.only.empty();
  std::vector<const CaseResult*> regressions;
  for (const auto& cr : failing) {
    if (!expected.contains(cr.key)) regressions.push_back(&cr);
  }
  std::set<std::string> failing_keys;
  for (const auto& cr : failing) failing_keys.insert(cr.key);
  std::vector<std::string> now_passing, stale;
  for (const auto& [key, e] : expected) {
    if (!ran_files.contains(file_of(key)) || failing_keys.contains(key)) continue;
    if (all_keys.contains(key)) {
      now_passing.push_back(key);
    } else if (!filtered) {
      stale.push_back(key);
    }
  }
  std::sort(now_passing.begin(), now_passing.end(), KeyLess);

  if (args.update) {
    std::map<std::string, Expectation> next;
    for (const auto& [key, e] : expected) {
      // Entries of files (or cases) not run this time stay as they were.
      if (!ran_files.contains(file_of(key)) || (filtered && !all_keys.contains(key))) next[key] = e;
    }
    for (const auto& cr : failing) {
      Expectation e{cr.reason, {}};
      if (auto it = expected.find(cr.key); it != expected.end()) e.notes = it->second.notes;
      next[cr.key] = std::move(e);
    }
    if (!WriteExpectations(args.expectations, next)) {
      std::cout << "ERROR: cannot write " << args.expectations << "\n";
      errors = true;
    } else {
      std::cout << "\nwrote " << next.size() << " expected failures to " << args.expectations << "\n";
    }
  } else if (!args.expectations.empty()) {
    if (!regressions.empty()) {
      std::cout << "\nREGRESSIONS: " << regressions.size() << " failing case(s) not listed in "
                << args.expectations << ":\n";
      for (const auto* cr : regressions) {
        std::cout << "  " << cr->key << "  " << cr->reason << "\n    query: " << cr->query << "\n";
        if (!cr->detail.empty()) std::cout << "    " << cr->detail << "\n";
      }
    }
    if (!now_passing.empty() || !stale.empty()) {
      std::cout << "\n*** " << now_passing.size() + stale.size()
                << " listed case(s) now pass or no longer exist: REMOVE THEM FROM "
                << args.expectations << " (or rerun with --update-expectations) ***\n";
      for (const auto& k : now_passing) std::cout << "  now passes: " << k << "  (was: " << expected[k].reason << ")\n";
      for (const auto& k : stale) std::cout << "  not a case any more: " << k << "\n";
    }
  }

  std::cout << "\nlogql conformance total:\n" << total.Line() << "\n";
  if (errors) return 1;
  // Without --expectations every failing case counts as a regression.
  if (!args.update && !regressions.empty()) return 1;
  if (missing_scripts) return kExitSkipped;
  return 0;
}

}  // namespace
}  // namespace otelbox::conformance

int main(int argc, char** argv) { return otelbox::conformance::Main(argc, argv); }
