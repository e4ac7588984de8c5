#include "tests/conformance/conformance_harness.h"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <utility>

#include "tests/conformance/promql_text.h"

namespace otelbox::conformance {

void Flags::Value(std::string name, std::function<void(const std::string&)> on_value) {
  flags_.push_back(Flag{std::move(name), std::move(on_value)});
}

void Flags::String(std::string name, std::string* out) {
  Value(std::move(name), [out](const std::string& v) { *out = v; });
}

void Flags::List(std::string name, std::vector<std::string>* out) {
  Value(std::move(name), [out](const std::string& v) { out->push_back(v); });
}

void Flags::Switch(std::string name, bool* out, bool value) {
  flags_.push_back(Flag{std::move(name), nullptr, out, value});
}

bool Flags::Parse(int argc, char** argv, std::string* bad) const {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto flag = std::find_if(flags_.begin(), flags_.end(), [&](const Flag& f) { return f.name == a; });
    if (flag == flags_.end() || (flag->on_value && i + 1 >= argc)) {
      *bad = a;
      return false;
    }
    if (flag->on_value) {
      flag->on_value(argv[++i]);
    } else {
      *flag->target = flag->value;
    }
  }
  return true;
}

std::vector<std::string> ListScripts(const std::string& path, const std::string& extension) {
  std::vector<std::string> out;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    for (const auto& entry : std::filesystem::directory_iterator(path, ec)) {
      if (entry.is_regular_file() && entry.path().extension() == extension) {
        out.push_back(entry.path().string());
      }
    }
    std::sort(out.begin(), out.end());
  } else if (std::filesystem::is_regular_file(path, ec)) {
    out.push_back(path);
  }
  return out;
}

namespace {

struct Args {
  std::vector<std::string> scripts;
  std::string expectations;
  bool update = false;
  bool verbose = false;
  std::set<std::string> files;
  std::vector<std::string> only;
};

bool ParseArgs(const ScriptSuite& suite, int argc, char** argv, Args* args) {
  Flags flags;
  flags.List("--scripts", &args->scripts);
  flags.String("--expectations", &args->expectations);
  flags.Value("--file", [args](const std::string& v) { args->files.insert(v); });
  flags.Value("--only", [args](const std::string& v) {
    args->only.push_back(v);
    args->files.insert(v.substr(0, v.rfind(':')));
  });
  flags.Switch("--update-expectations", &args->update);
  flags.Switch("--verbose", &args->verbose);
  flags.Switch("-v", &args->verbose);
  if (suite.add_flags) suite.add_flags(&flags);
  std::string bad;
  if (!flags.Parse(argc, argv, &bad)) {
    std::cerr << suite.name << "_conformance: bad argument " << bad << "\n";
    return false;
  }
  return !args->scripts.empty();
}

struct Counts {
  int passed = 0, failed = 0, skipped = 0;

  void Add(Outcome o) {
    switch (o) {
      case Outcome::kPassed: ++passed; break;
      case Outcome::kFailed: ++failed; break;
      case Outcome::kSkipped: ++skipped; break;
    }
  }
  void Add(const Counts& c) {
    passed += c.passed;
    failed += c.failed;
    skipped += c.skipped;
  }
  bool empty() const { return passed + failed + skipped == 0; }
  std::string Line(bool with_skipped) const {
    if (!with_skipped) return Cat(passed, " passed, ", failed, " failed");
    return Cat(passed, " passed, ", failed, " failed, ", skipped, " skipped");
  }
};

std::string FileOf(const std::string& key) { return key.substr(0, key.rfind(':')); }

// The outcome of all files against the expectations file.
class Report {
 public:
  Report(const ScriptSuite& suite, const Args& args, Expectations expected)
      : suite_(suite), args_(args), expected_(std::move(expected)) {}

  // Counts one file's cases and prints its lines. False when it had script errors.
  bool AddFile(const FileResult& fr) {
    ran_files_.insert(fr.file);
    Counts c, gated;
    std::map<std::string, int> skips;
    for (const auto& cr : fr.cases) {
      all_keys_.insert(cr.key);
      c.Add(cr.outcome);
      if (!cr.feature.empty()) gated.Add(cr.outcome);
      if (cr.outcome == Outcome::kSkipped) ++skips[cr.reason];
      if (cr.outcome != Outcome::kPassed) {
        ++by_group_[suite_.layout.GroupOf(cr.reason)];
        failing_.push_back(cr);
      }
    }
    std::cout << fr.file << ": " << Line(c) << "  [" << fr.wall_ms << " ms]\n";
    if (!gated.empty()) std::cout << "  experimental/gated: " << Line(gated) << "\n";
    for (const auto& [reason, n] : skips) std::cout << "  skipped: " << n << " " << reason << "\n";
    for (const auto& e : fr.errors) std::cout << "  ERROR " << e << "\n";
    if (args_.verbose) {
      for (const auto& cr : fr.cases) {
        if (cr.outcome != Outcome::kFailed) continue;
        std::cout << "  FAIL " << cr.key << "  [" << cr.reason << "]\n    query: " << cr.query << "\n    "
                  << cr.detail << "\n";
      }
    }
    total_.Add(c);
    gated_.Add(gated);
    return fr.errors.empty();
  }

  void PrintSummary() const {
    std::cout << "\nnot passing, by reason:\n";
    std::vector<std::pair<std::string, int>> groups(by_group_.begin(), by_group_.end());
    std::sort(groups.begin(), groups.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    for (const auto& [group, n] : groups) std::cout << "  " << n << "  " << group << "\n";
    if (!suite_.gated_title.empty()) std::cout << suite_.gated_title << ": " << Line(gated_) << "\n";
  }

  // Failing cases not listed in the expectations file.
  std::vector<const CaseResult*> Regressions() const {
    std::vector<const CaseResult*> out;
    for (const auto& cr : failing_) {
      if (!expected_.contains(cr.key)) out.push_back(&cr);
    }
    return out;
  }

  // --update-expectations: the failing cases, keeping their notes, plus the entries of
  // files (or cases) not run this time as they were. False when it cannot be written.
  bool UpdateExpectations() const {
    const bool filtered = !args_.only.empty();
    Expectations next;
    for (const auto& [key, e] : expected_.entries()) {
      if (!ran_files_.contains(FileOf(key)) || (filtered && !all_keys_.contains(key))) next.Set(key, e);
    }
    for (const auto& cr : failing_) {
      Expectation e{cr.reason, {}};
      if (const Expectation* old = expected_.Find(cr.key)) e.notes = old->notes;
      next.Set(cr.key, std::move(e));
    }
    if (!next.Write(args_.expectations, suite_.layout)) {
      std::cout << "ERROR: cannot write " << args_.expectations << "\n";
      return false;
    }
    std::cout << "\nwrote " << next.entries().size() << " expected failures to " << args_.expectations << "\n";
    return true;
  }

  void PrintRegressionsAndFixes(const std::vector<const CaseResult*>& regressions) const {
    if (!regressions.empty()) {
      std::cout << "\nREGRESSIONS: " << regressions.size() << " failing case(s) not listed in "
                << args_.expectations << ":\n";
      for (const auto* cr : regressions) {
        std::cout << "  " << cr->key << "  " << cr->reason << "\n    query: " << cr->query << "\n";
        if (!cr->detail.empty()) std::cout << "    " << cr->detail << "\n";
      }
    }
    // Listed cases that ran and passed, or that are gone from a file that ran.
    const bool filtered = !args_.only.empty();
    std::set<std::string> failing_keys;
    for (const auto& cr : failing_) failing_keys.insert(cr.key);
    std::vector<std::string> now_passing, stale;
    for (const auto& [key, e] : expected_.entries()) {
      if (!ran_files_.contains(FileOf(key)) || failing_keys.contains(key)) continue;
      if (all_keys_.contains(key)) {
        now_passing.push_back(key);
      } else if (!filtered) {
        stale.push_back(key);
      }
    }
    std::sort(now_passing.begin(), now_passing.end(), CaseKeyLess);
    if (now_passing.empty() && stale.empty()) return;
    std::cout << "\n*** " << now_passing.size() + stale.size()
              << " listed case(s) now pass or no longer exist: REMOVE THEM FROM " << args_.expectations
              << " (or rerun with --update-expectations) ***\n";
    for (const auto& k : now_passing) {
      std::cout << "  now passes: " << k << "  (was: " << expected_.Find(k)->reason << ")\n";
    }
    for (const auto& k : stale) std::cout << "  not a case any more: " << k << "\n";
  }

  void PrintTotal() const {
    std::cout << "\n" << suite_.name << " conformance total:\n" << Line(total_) << "\n";
  }

 private:
  std::string Line(const Counts& c) const { return c.Line(suite_.count_skipped); }

  const ScriptSuite& suite_;
  const Args& args_;
  const Expectations expected_;
  Counts total_, gated_;
  std::map<std::string, int> by_group_;  // not passing, by layout.GroupOf(reason)
  std::vector<CaseResult> failing_;      // failed or skipped
  std::set<std::string> ran_files_;
  std::set<std::string> all_keys_;
};

}  // namespace

int RunScriptSuite(const ScriptSuite& suite, int argc, char** argv) {
  Args args;
  if (!ParseArgs(suite, argc, argv, &args)) {
    std::cerr << suite.usage;
    return 1;
  }
  bool missing_scripts = false;
  bool errors = false;
  std::vector<std::string> paths;
  for (const auto& s : args.scripts) {
    std::vector<std::string> found = ListScripts(s, suite.extension);
    if (found.empty()) {
      std::cout << "SKIPPED: no " << suite.language << " test scripts at " << s
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

  Expectations expected;
  if (!args.expectations.empty()) {
    expected = Expectations::Read(args.expectations);
    if (!expected.exists() && !args.update) {
      std::cout << "WARNING: expectations file " << args.expectations << " not found\n";
    }
  }

  Report report(suite, args, std::move(expected));
  for (const auto& path : paths) {
    absl::StatusOr<FileResult> fr = suite.run_file(path, args.only);
    if (!fr.ok()) {
      std::cout << "ERROR: " << path << ": " << fr.status() << "\n";
      errors = true;
      continue;
    }
    if (!report.AddFile(*fr)) errors = true;
  }
  report.PrintSummary();

  std::vector<const CaseResult*> regressions = report.Regressions();
  if (args.update) {
    if (!report.UpdateExpectations()) errors = true;
  } else if (!args.expectations.empty()) {
    report.PrintRegressionsAndFixes(regressions);
  }

  report.PrintTotal();
  if (errors) return 1;
  // Without --expectations every failing case counts as a regression.
  if (!args.update && !regressions.empty()) return 1;
  if (missing_scripts) return kExitSkipped;
  return 0;
}

}  // namespace otelbox::conformance
