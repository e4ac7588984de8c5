// LogQL pipeline stage throughput over synthetic application logs (logfmt and JSON lines):
// line filters in GB/s (the scan hot path; target >= 1 GB/s per core for plain substrings),
// parsers / formatters in lines/s. Prints figures; asserts nothing.
//
//   build/bench/logql_pipeline_bench [--mb 256] [--only "|= \"error\""]

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "query/logql/log_pipeline.h"

using otelbox::query::logql::CompareOp;
using otelbox::query::logql::Label;
using otelbox::query::logql::LabelFilterSpec;
using otelbox::query::logql::LabelsBuilder;
using otelbox::query::logql::LineFilterOp;
using otelbox::query::logql::LineFilterTerm;
using otelbox::query::logql::Pipeline;
using otelbox::query::logql::Stage;

namespace {

std::vector<std::string> MakeLines(bool json, size_t total_bytes) {
  std::mt19937_64 rng(42);
  const char* levels[] = {"info", "info", "info", "debug", "warn", "error"};
  const char* paths[] = {"/api/v1/query", "/api/v1/push", "/ready", "/metrics", "/loki/api/v1/tail"};
  const char* methods[] = {"GET", "POST", "PUT"};
  std::vector<std::string> lines;
  size_t bytes = 0;
  char buf[512];
  while (bytes < total_bytes) {
    const char* lvl = levels[rng() % 6];
    const char* path = paths[rng() % 5];
    const char* method = methods[rng() % 3];
    int status = (rng() % 20 == 0) ? 500 : 200;
    unsigned dur = static_cast<unsigned>(rng() % 5000);
    unsigned trace = static_cast<unsigned>(rng());
    int n;
    if (json) {
      n = std::snprintf(buf, sizeof(buf),
                        R"({"ts":"2026-01-01T00:00:%02u.%06uZ","level":"%s","caller":"handler.go:%u","msg":"request served","method":"%s","path":"%s","status":%d,"duration":"%ums","traceID":"%08x%08x","user":{"id":"u%u","org":"o%u"}})",
                        dur % 60, dur * 7, lvl, dur % 300, method, path, status, dur, trace,
                        trace ^ 0x5bd1e995u, dur % 97, dur % 13);
    } else {
      n = std::snprintf(buf, sizeof(buf),
                        "ts=2026-01-01T00:00:%02u.%06uZ level=%s caller=handler.go:%u msg=\"request served\" method=%s path=%s status=%d duration=%ums traceID=%08x%08x user=u%u org=o%u",
                        dur % 60, dur * 7, lvl, dur % 300, method, path, status, dur, trace,
                        trace ^ 0x5bd1e995u, dur % 97, dur % 13);
    }
    lines.emplace_back(buf, static_cast<size_t>(n));
    bytes += static_cast<size_t>(n);
  }
  return lines;
}

struct Figure {
  double seconds;
  size_t kept;
};

Figure RunPipeline(Pipeline& p, const std::vector<std::string>& lines, const std::vector<Label>& stream,
                   int repeats) {
  LabelsBuilder lbs;
  lbs.SetStream(&stream);
  size_t kept = 0;
  auto start = std::chrono::steady_clock::now();
  for (int r = 0; r < repeats; ++r) {
    int64_t ts = 0;
    for (const std::string& l : lines) {
      lbs.StartEntry({});
      std::string_view line = l;
      if (p.Process(++ts, line, lbs)) ++kept;
    }
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {s / repeats, kept / static_cast<size_t>(repeats)};
}

template <typename T>
std::unique_ptr<Stage> Must(T s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, std::string(s.status().message()).c_str());
    std::exit(1);
  }
  return std::move(*s);
}

void Report(const char* name, const Figure& f, const std::vector<std::string>& lines, size_t bytes) {
  double gbps = static_cast<double>(bytes) / f.seconds / 1e9;
  double mlps = static_cast<double>(lines.size()) / f.seconds / 1e6;
  std::printf("  %-52s %7.2f GB/s  %7.2f M lines/s  kept %zu\n", name, gbps, mlps, f.kept);
}

}  // namespace

int main(int argc, char** argv) {
  size_t mb = 128;
  std::string only;  // run only the cases whose name contains this
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--mb") == 0) mb = static_cast<size_t>(std::atoi(argv[i + 1]));
    if (std::strcmp(argv[i], "--only") == 0) only = argv[i + 1];
  }
  const std::vector<Label> stream = {{"app", "api"}, {"env", "prod"}};
  for (bool json : {false, true}) {
    auto lines = MakeLines(json, mb << 20);
    size_t bytes = 0;
    for (const auto& l : lines) bytes += l.size();
    std::printf("%s lines: %zu lines, %.1f MB, avg %.0f B/line\n", json ? "JSON" : "logfmt",
                lines.size(), bytes / 1048576.0, static_cast<double>(bytes) / lines.size());
    struct Case {
      const char* name;
      std::vector<std::unique_ptr<Stage>> stages;
      int repeats;
    };
    std::vector<Case> cases;
    auto add = [&](const char* name, int repeats, auto&&... stages) {
      Case c{name, {}, repeats};
      (c.stages.push_back(std::move(stages)), ...);
      cases.push_back(std::move(c));
    };
    add("no stages (builder reset + loop)", 5);
    add("|= \"error\"", 5, Must(otelbox::query::logql::MakeLineFilter(LineFilterOp::kContains, {{"error"}}), "f"));
    add("|= \"handler.go:299\" (rare)", 5,
        Must(otelbox::query::logql::MakeLineFilter(LineFilterOp::kContains, {{"handler.go:299"}}), "f"));
    add("!= \"debug\"", 5, Must(otelbox::query::logql::MakeLineFilter(LineFilterOp::kNotContains, {{"debug"}}), "f"));
    add("|~ \"(?i)ERROR\"", 5, Must(otelbox::query::logql::MakeLineFilter(LineFilterOp::kRegex, {{"(?i)ERROR"}}), "f"));
    add("|~ \"status.?.?5[0-9][0-9]\"", 2,
        Must(otelbox::query::logql::MakeLineFilter(LineFilterOp::kRegex, {{"status.?.?5[0-9][0-9]"}}), "f"));
    add("|~ \"panic: .*goroutine [0-9]+\" (prefilter rejects)", 5,
        Must(otelbox::query::logql::MakeLineFilter(LineFilterOp::kRegex, {{"panic: .*goroutine [0-9]+"}}), "f"));
    add("|~ \"error|warn\"", 5,
        Must(otelbox::query::logql::MakeLineFilter(LineFilterOp::kRegex, {{"error|warn"}}), "f"));
    add("|= \"error\" or \"warn\"", 5,
        Must(otelbox::query::logql::MakeLineFilter(LineFilterOp::kContains, {{"error"}, {"warn"}}), "f"));
    add("|> \"<_>level=error<_>\"", 5,
        Must(otelbox::query::logql::MakeLineFilter(LineFilterOp::kPattern, {{"<_>level=error<_>"}}), "f"));
    add("|= ip(\"10.0.0.0/8\")", 2,
        Must(otelbox::query::logql::MakeLineFilter(LineFilterOp::kContains, {{"10.0.0.0/8", true}}), "f"));
    if (json) {
      add("| json", 1, Must(otelbox::query::logql::MakeJsonParser({}), "json"));
      add("| json status=\"status\", user=\"user.id\"", 1,
          Must(otelbox::query::logql::MakeJsonParser({{"status", "status"}, {"user", "user.id"}}), "json"));
      add("| json | status >= 500", 1, Must(otelbox::query::logql::MakeJsonParser({}), "json"),
          Must(otelbox::query::logql::MakeLabelFilter(LabelFilterSpec::Number("status", CompareOp::kGte, 500)), "lf"));
    } else {
      add("| logfmt", 1, Must(otelbox::query::logql::MakeLogfmtParser(false, false, {}), "logfmt"));
      add("| logfmt | duration > 2s", 1, Must(otelbox::query::logql::MakeLogfmtParser(false, false, {}), "logfmt"),
          Must(otelbox::query::logql::MakeLabelFilter(LabelFilterSpec::Duration("duration", CompareOp::kGt, 2000000000)), "lf"));
      add("| pattern \"<_> level=<level> <_>\"", 1,
          Must(otelbox::query::logql::MakePatternParser("<_> level=<level> <_>"), "pattern"));
      add("| regexp \"level=(?P<level>\\\\w+)\"", 1,
          Must(otelbox::query::logql::MakeRegexpParser(R"(level=(?P<level>\w+))"), "regexp"));
      add("| logfmt | line_format \"{{.level}} {{.msg}}\"", 1,
          Must(otelbox::query::logql::MakeLogfmtParser(false, false, {}), "logfmt"),
          Must(otelbox::query::logql::MakeLineFormat("{{.level}} {{.msg}}"), "lf"));
      add("| logfmt | line_format \"{{.level | ToUpper}}\"", 1,
          Must(otelbox::query::logql::MakeLogfmtParser(false, false, {}), "logfmt"),
          Must(otelbox::query::logql::MakeLineFormat("{{.level | ToUpper}}"), "lf"));
    }
    {
      // Reference: memchr for an absent byte, i.e. what this machine scans right now (the
      // host is shared, so compare filters against this rather than across runs).
      auto start = std::chrono::steady_clock::now();
      size_t hits = 0;
      for (int r = 0; r < 5; ++r) {
        for (const auto& l : lines) hits += std::memchr(l.data(), '\x01', l.size()) != nullptr;
      }
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / 5;
      Report("reference: memchr per line (absent byte)", {secs, hits}, lines, bytes);
    }
    for (auto& c : cases) {
      if (!only.empty() && std::string(c.name).find(only) == std::string::npos) continue;
      Pipeline p(std::move(c.stages));
      Report(c.name, RunPipeline(p, lines, stream, c.repeats), lines, bytes);
    }
  }
  return 0;
}
