// Data-driven TraceQL evaluation: every tests/testdata/traceql/*.test script loads spans
// into an in-memory TraceQuerier and runs search, metrics (range and instant) and error
// cases through query::traceql::Engine, comparing with the expected spansets / series.
//
// Script format (one statement per line, '#' starts a comment line):
//   span trace=1 id=2 parent=1 name="GET /" service=api kind=server status=error
//        start=10s dur=50ms span.http.status_code=500 resource.env=prod
//        scope=grpc scope.version=1.2 instrumentation.lib=x
//        event=exception@5ms event.exception.message="boom" link=7:3 link.kind="follows"
//     Values: "quoted" strings, integers, floats, true/false, [a,b] arrays; else a string.
//     Times are durations after a fixed base (2023-11-14T22:13:20Z).
//   search [start=0s] [end=1h] [limit=20] [most_recent]     then lines:
//     query: <TraceQL>
//     trace <id>: [<span ids>]{<spanset attrs>} [..] ...   (spansets in any order)
//   metrics start=0s end=60s step=10s [exemplars=N]
//     query: <TraceQL>
//     {k="v",n=1} 10s=1 20s=0.5        (timestamps after the base; series in any order)
//     exemplars <n>                     (optional: total exemplars expected)
//   instant start=0s end=60s
//     query: <TraceQL>
//     {k="v"} 3
//   error parse|validate|unsupported|other
//     query: <TraceQL>
//     message: <substring of the error>  (optional)
//   end
// Labels are written with keys sorted, strings quoted, numbers bare.

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "query/traceql/engine.h"
#include "query/traceql/lexer.h"
#include "query/traceql/parser.h"
#include "tests/unit/query/traceql_memory_querier.h"

namespace otelbox::query::traceql {
namespace {

constexpr uint64_t kBaseNs = 1'700'000'000ULL * 1'000'000'000ULL;
constexpr char kTenant[] = "single-tenant";

std::vector<std::string> SplitWords(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  bool quote = false, any = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quote) {
      if (c == '\\' && i + 1 < line.size()) {
        cur.push_back(c);
        cur.push_back(line[++i]);
        continue;
      }
      if (c == '"') quote = false;
      cur.push_back(c);
    } else if (c == '"') {
      quote = true;
      any = true;
      cur.push_back(c);
    } else if (c == ' ' || c == '\t') {
      if (any) out.push_back(cur);
      cur.clear();
      any = false;
    } else {
      cur.push_back(c);
      any = true;
    }
  }
  if (any) out.push_back(cur);
  return out;
}

storage::AttributeValue ParseValue(const std::string& text) {
  storage::AttributeValue v;
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    storage::AttributeArray arr;
    for (absl::string_view p : absl::StrSplit(text.substr(1, text.size() - 2), ',', absl::SkipEmpty()))
      arr.push_back(ParseValue(std::string(p)));
    v.value = std::move(arr);
    return v;
  }
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
    v.value = text.substr(1, text.size() - 2);
    return v;
  }
  int64_t i;
  double d;
  if (absl::SimpleAtoi(text, &i)) {
    v.value = i;
  } else if (text.find_first_of(".eE") != std::string::npos && absl::SimpleAtod(text, &d)) {
    v.value = d;
  } else if (text == "true" || text == "false") {
    v.value = text == "true";
  } else {
    v.value = text;
  }
  return v;
}

std::string Unquote(const std::string& s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}

uint64_t Dur(const std::string& s) {
  int64_t ns = 0;
  if (s == "0") return 0;
  EXPECT_TRUE(ParseTraceQLDuration(s, &ns)) << "bad duration " << s;
  return static_cast<uint64_t>(ns);
}

template <size_t N>
std::array<uint8_t, N> IdBytes(uint64_t v) {
  std::array<uint8_t, N> id{};
  for (size_t i = 0; i < 8 && i < N; ++i) id[N - 1 - i] = static_cast<uint8_t>(v >> (8 * i));
  return id;
}

uint64_t IdValue(const uint8_t* d, size_t n) {
  uint64_t v = 0;
  for (size_t i = (n > 8 ? n - 8 : 0); i < n; ++i) v = (v << 8) | d[i];
  return v;
}

std::string Render(const storage::AttributeValue& v) {
  if (auto* s = std::get_if<std::string>(&v.value)) return "\"" + *s + "\"";
  if (auto* i = std::get_if<int64_t>(&v.value)) return std::to_string(*i);
  if (auto* d = std::get_if<double>(&v.value)) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%g", *d);
    return buf;
  }
  if (auto* b = std::get_if<bool>(&v.value)) return *b ? "true" : "false";
  return "nil";
}

std::string RenderLabels(std::vector<storage::KeyValue> labels) {
  std::sort(labels.begin(), labels.end(),
            [](const auto& a, const auto& b) { return a.key < b.key; });
  std::vector<std::string> parts;
  for (const auto& kv : labels) parts.push_back(kv.key + "=" + Render(kv.value));
  return absl::StrCat("{", absl::StrJoin(parts, ","), "}");
}

storage::Span ParseSpan(const std::vector<std::string>& words, std::string* error) {
  storage::Span s;
  auto resource = std::make_shared<storage::Resource>();
  auto scope = std::make_shared<storage::InstrumentationScope>();
  uint64_t start = 0, dur = 0;
  for (size_t w = 1; w < words.size(); ++w) {
    const std::string& word = words[w];
    size_t eq = word.find('=');
    if (eq == std::string::npos) {
      *error = "expected key=value: " + word;
      return s;
    }
    std::string key = word.substr(0, eq), val = word.substr(eq + 1);
    uint64_t n = 0;
    if (key == "trace") {
      absl::SimpleAtoi(val, &n);
      s.trace_id = IdBytes<16>(n);
    } else if (key == "id") {
      absl::SimpleAtoi(val, &n);
      s.span_id = IdBytes<8>(n);
    } else if (key == "parent") {
      absl::SimpleAtoi(val, &n);
      s.parent_span_id = IdBytes<8>(n);
    } else if (key == "name") {
      s.name = Unquote(val);
    } else if (key == "service") {
      resource->attributes.push_back({"service.name", ParseValue(absl::StrCat("\"", Unquote(val), "\""))});
    } else if (key == "kind") {
      static const std::map<std::string, storage::SpanKind> kinds = {
          {"unspecified", storage::SpanKind::kUnspecified}, {"internal", storage::SpanKind::kInternal},
          {"server", storage::SpanKind::kServer}, {"client", storage::SpanKind::kClient},
          {"producer", storage::SpanKind::kProducer}, {"consumer", storage::SpanKind::kConsumer}};
      s.kind = kinds.at(val);
    } else if (key == "status") {
      s.status_code = val == "error" ? storage::StatusCode::kError
                      : val == "ok"  ? storage::StatusCode::kOk
                                     : storage::StatusCode::kUnset;
    } else if (key == "msg") {
      s.status_message = Unquote(val);
    } else if (key == "start") {
      start = Dur(val);
    } else if (key == "dur") {
      dur = Dur(val);
    } else if (key == "scope") {
      scope->name = Unquote(val);
    } else if (key == "scope.version") {
      scope->version = Unquote(val);
    } else if (key == "event") {
      storage::SpanEvent e;
      size_t at = val.find('@');
      e.name = Unquote(val.substr(0, at));
      e.time_unix_nano = (at == std::string::npos ? 0 : Dur(val.substr(at + 1)));
      s.events.push_back(std::move(e));
    } else if (key == "link") {
      storage::SpanLink l;
      std::vector<std::string> parts = absl::StrSplit(val, ':');
      uint64_t t = 0, sp = 0;
      absl::SimpleAtoi(parts[0], &t);
      if (parts.size() > 1) absl::SimpleAtoi(parts[1], &sp);
      l.trace_id = IdBytes<16>(t);
      l.span_id = IdBytes<8>(sp);
      s.links.push_back(std::move(l));
    } else if (key.rfind("span.", 0) == 0) {
      s.attributes.push_back({key.substr(5), ParseValue(val)});
    } else if (key.rfind("resource.", 0) == 0) {
      resource->attributes.push_back({key.substr(9), ParseValue(val)});
    } else if (key.rfind("instrumentation.", 0) == 0) {
      scope->attributes.push_back({key.substr(16), ParseValue(val)});
    } else if (key.rfind("event.", 0) == 0 && !s.events.empty()) {
      s.events.back().attributes.push_back({key.substr(6), ParseValue(val)});
    } else if (key.rfind("link.", 0) == 0 && !s.links.empty()) {
      s.links.back().attributes.push_back({key.substr(5), ParseValue(val)});
    } else {
      *error = "unknown span field: " + key;
      return s;
    }
  }
  s.start_time_unix_nano = kBaseNs + start;
  s.end_time_unix_nano = kBaseNs + start + dur;
  for (auto& e : s.events) e.time_unix_nano += s.start_time_unix_nano;
  s.resource = resource;
  s.scope = scope;
  return s;
}

std::map<std::string, std::string> Options(const std::vector<std::string>& words) {
  std::map<std::string, std::string> out;
  for (size_t i = 1; i < words.size(); ++i) {
    size_t eq = words[i].find('=');
    out[words[i].substr(0, eq)] = eq == std::string::npos ? "" : words[i].substr(eq + 1);
  }
  return out;
}

// "[1,2]{count()=2}" -> "1,2{count()=2}" with ids sorted.
std::string CanonicalSpanset(const std::string& text) {
  size_t close = text.find(']');
  std::string ids = text.substr(1, close - 1);
  std::string attrs = text.substr(close + 1);
  std::vector<uint64_t> v;
  for (absl::string_view p : absl::StrSplit(ids, ',', absl::SkipEmpty())) {
    uint64_t n;
    if (absl::SimpleAtoi(p, &n)) v.push_back(n);
  }
  std::sort(v.begin(), v.end());
  return absl::StrJoin(v, ",") + attrs;
}

struct Block {
  std::string kind;
  std::map<std::string, std::string> options;
  std::string query;
  std::vector<std::string> expected;
  std::string message;
  int line = 0;
};

class ScriptRunner {
 public:
  explicit ScriptRunner(std::string path) : path_(std::move(path)), engine_(&querier_) {}

  void Run() {
    std::ifstream in(path_);
    ASSERT_TRUE(in) << path_;
    std::string line;
    int line_no = 0;
    std::unique_ptr<Block> block;
    while (std::getline(in, line)) {
      ++line_no;
      std::string trimmed = line.substr(std::min(line.find_first_not_of(" \t"), line.size()));
      if (trimmed.empty() || trimmed[0] == '#') continue;
      if (block) {
        if (trimmed == "end") {
          RunBlock(*block);
          block.reset();
        } else if (trimmed.rfind("query:", 0) == 0) {
          block->query = trimmed.substr(trimmed.find_first_not_of(' ', 6));
        } else if (trimmed.rfind("message:", 0) == 0) {
          block->message = trimmed.substr(trimmed.find_first_not_of(' ', 8));
        } else {
          block->expected.push_back(trimmed);
        }
        continue;
      }
      auto words = SplitWords(trimmed);
      if (words[0] == "span") {
        std::string error;
        storage::Span s = ParseSpan(words, &error);
        ASSERT_TRUE(error.empty()) << path_ << ":" << line_no << ": " << error;
        querier_.Add(kTenant, std::move(s));
      } else if (words[0] == "search" || words[0] == "metrics" || words[0] == "instant" ||
                 words[0] == "error") {
        block = std::make_unique<Block>();
        block->kind = words[0];
        block->options = Options(words);
        block->line = line_no;
      } else {
        FAIL() << path_ << ":" << line_no << ": unknown statement " << words[0];
      }
    }
    ASSERT_FALSE(block) << path_ << ": block without end";
  }

  int cases() const { return cases_; }

 private:
  uint64_t Opt(const Block& b, const std::string& key, uint64_t def) {
    auto it = b.options.find(key);
    return it == b.options.end() ? def : Dur(it->second);
  }
  size_t Count(const Block& b, const std::string& key, size_t def) {
    auto it = b.options.find(key);
    size_t n = def;
    if (it != b.options.end()) absl::SimpleAtoi(it->second, &n);
    return n;
  }

  void RunBlock(const Block& b) {
    ++cases_;
    SCOPED_TRACE(absl::StrCat(path_, ":", b.line, ": ", b.query));
    if (b.kind == "search") RunSearch(b);
    else if (b.kind == "metrics") RunMetrics(b, false);
    else if (b.kind == "instant") RunMetrics(b, true);
    else RunError(b);
  }

  void RunSearch(const Block& b) {
    SearchRequest req;
    req.query = b.query;
    req.start_ns = kBaseNs + Opt(b, "start", 0);
    req.end_ns = kBaseNs + Opt(b, "end", 3600ULL * 1000000000ULL);
    req.limit = Count(b, "limit", 20);
    req.spans_per_spanset = 1000;
    auto res = engine_.Search(kTenant, req);
    ASSERT_TRUE(res.ok()) << res.status();
    std::multiset<std::string> got, want;
    for (const auto& t : res->traces) {
      uint64_t tid = IdValue(t.trace_id.data(), 16);
      for (const auto& ss : t.span_sets) {
        std::vector<uint64_t> ids;
        for (const auto& sp : ss.spans) ids.push_back(IdValue(sp.span_id.data(), 8));
        std::sort(ids.begin(), ids.end());
        EXPECT_EQ(ss.matched, static_cast<int64_t>(ss.spans.size()));
        std::string attrs;
        if (!ss.attributes.empty()) {
          std::vector<std::string> parts;
          for (const auto& kv : ss.attributes) parts.push_back(kv.key + "=" + Render(kv.value));
          std::sort(parts.begin(), parts.end());
          attrs = absl::StrCat("{", absl::StrJoin(parts, ","), "}");
        }
        got.insert(absl::StrCat(tid, ":", absl::StrJoin(ids, ","), attrs));
      }
    }
    for (const auto& line : b.expected) {
      ASSERT_EQ(line.rfind("trace ", 0), 0u) << "expected `trace <id>: [..]`: " << line;
      size_t colon = line.find(':');
      std::string tid = line.substr(6, colon - 6);
      std::string rest = line.substr(colon + 1);
      size_t pos = 0;
      while ((pos = rest.find('[', pos)) != std::string::npos) {
        size_t next = rest.find('[', pos + 1);
        std::string part = rest.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
        while (!part.empty() && part.back() == ' ') part.pop_back();
        want.insert(absl::StrCat(tid, ":", CanonicalSpanset(part)));
        pos = pos + 1;
      }
    }
    EXPECT_EQ(absl::StrJoin(got, " | "), absl::StrJoin(want, " | "));
  }

  void RunMetrics(const Block& b, bool instant) {
    MetricsRequest req;
    req.query = b.query;
    req.start_ns = kBaseNs + Opt(b, "start", 0);
    req.end_ns = kBaseNs + Opt(b, "end", 60ULL * 1000000000ULL);
    req.step_ns = Opt(b, "step", 0);
    req.max_exemplars = Count(b, "exemplars", 0);
    std::map<std::string, std::string> got, want;
    size_t want_exemplars = SIZE_MAX, got_exemplars = 0;
    auto fmt = [](double v) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.6g", v);
      return std::string(buf);
    };
    if (instant) {
      auto res = engine_.MetricsQueryInstant(kTenant, req);
      ASSERT_TRUE(res.ok()) << res.status();
      for (const auto& s : res->series) got[RenderLabels(s.labels)] = fmt(s.value);
    } else {
      auto res = engine_.MetricsQueryRange(kTenant, req);
      ASSERT_TRUE(res.ok()) << res.status();
      for (const auto& s : res->series) {
        std::vector<std::string> samples;
        for (const auto& p : s.samples) {
          int64_t rel_ms = p.timestamp_ms - static_cast<int64_t>(kBaseNs / 1000000);
          samples.push_back(absl::StrCat(rel_ms / 1000, "s=", fmt(p.value)));
        }
        got[RenderLabels(s.labels)] = absl::StrJoin(samples, " ");
        got_exemplars += s.exemplars.size();
        for (const auto& e : s.exemplars) {
          ASSERT_FALSE(e.labels.empty());
          EXPECT_EQ(e.labels[0].key, "trace:id");
        }
      }
    }
    for (const auto& line : b.expected) {
      if (line.rfind("exemplars ", 0) == 0) {
        absl::SimpleAtoi(line.substr(10), &want_exemplars);
        continue;
      }
      size_t close = line.find("} ");
      ASSERT_NE(close, std::string::npos) << "expected `{labels} values`: " << line;
      std::vector<std::string> values = SplitWords(line.substr(close + 2));
      std::vector<std::string> norm;
      for (const auto& v : values) {
        size_t eq = v.find('=');
        double d = 0;
        if (eq == std::string::npos) {
          absl::SimpleAtod(v, &d);
          norm.push_back(fmt(d));
        } else {
          absl::SimpleAtod(v.substr(eq + 1), &d);
          norm.push_back(v.substr(0, eq) + "=" + fmt(d));
        }
      }
      want[line.substr(0, close + 1)] = absl::StrJoin(norm, " ");
    }
    EXPECT_EQ(got, want);
    if (want_exemplars != SIZE_MAX) {
      EXPECT_EQ(got_exemplars, want_exemplars);
    }
  }

  void RunError(const Block& b) {
    absl::Status st;
    if (IsMetricsQuery(b.query)) {
      MetricsRequest req;
      req.query = b.query;
      req.start_ns = kBaseNs;
      req.end_ns = kBaseNs + 60ULL * 1000000000ULL;
      st = engine_.MetricsQueryRange(kTenant, req).status();
    } else {
      SearchRequest req;
      req.query = b.query;
      st = engine_.Search(kTenant, req).status();
    }
    std::string want = b.options.begin() != b.options.end() ? b.options.begin()->first : "";
    ASSERT_FALSE(st.ok());
    EXPECT_TRUE(IsTraceQLQueryError(st) || want == "other") << st;
    if (want == "parse") {
      EXPECT_TRUE(IsParseError(st)) << st;
    }
    if (want == "validate") {
      EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
      EXPECT_FALSE(IsParseError(st)) << st;
    }
    if (want == "unsupported") {
      EXPECT_EQ(st.code(), absl::StatusCode::kUnimplemented) << st;
    }
    if (!b.message.empty()) {
      EXPECT_NE(st.message().find(b.message), std::string::npos) << st;
    }
  }

  std::string path_;
  otelbox::testing::MemoryTraceQuerier querier_;
  Engine engine_;
  int cases_ = 0;
};

TEST(TraceQLEvalScripts, AllScripts) {
  std::filesystem::path dir = OTELBOX_TRACEQL_TESTDATA;
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".test") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty()) << dir;
  int total = 0;
  for (const auto& f : files) {
    ScriptRunner r(f.string());
    r.Run();
    total += r.cases();
  }
  std::printf("traceql eval scripts: %zu files, %d cases\n", files.size(), total);
}

}  // namespace
}  // namespace otelbox::query::traceql
