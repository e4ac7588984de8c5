// TraceQL parse/validate conformance over Tempo's test_examples.yaml (read at run time from
// ../shared/conformance/traceql, never copied): every `valid` query parses and validates,
// every `parse_fails` query is refused by the parser, every `validate_fails` query parses
// and is refused by validation with an ordinary error, every `unsupported` query parses
// and is refused with "not yet supported". `valid` and `unsupported` queries also make a
// print -> parse round trip that must print the same text again, and every `valid` query
// must execute (search or metrics) without error over a small trace. Known failures are
// listed, with a reason, in traceql_expectations.txt (read by conformance_harness's
// Expectations, keyed by "<category>\t<query as written>").
//
// Usage: traceql_conformance --examples <test_examples.yaml> [--expectations <file>]
//                            [--verbose]
// Exit: 0 all as expected, 1 unexpected failures, 77 the examples file is missing.

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "query/traceql/engine.h"
#include "query/traceql/parser.h"
#include "tests/conformance/conformance_harness.h"

namespace {

using otelbox::query::traceql::IsParseError;
using otelbox::query::traceql::Parse;
using otelbox::query::traceql::Validate;

struct Example {
  std::string category;
  std::string raw;    // the YAML scalar as written (identifies the case)
  std::string query;  // its value
};

// Reads the value of a YAML flow scalar: '...' ('' escapes a quote) or "..." (backslash
// escapes). Returns false for anything else.
bool ReadQuoted(const std::string& text, size_t start, std::string* value, size_t* end) {
  char q = text[start];
  value->clear();
  size_t i = start + 1;
  while (i < text.size()) {
    char c = text[i];
    if (q == '\'') {
      if (c == '\'') {
        if (i + 1 < text.size() && text[i + 1] == '\'') {
          value->push_back('\'');
          i += 2;
          continue;
        }
        *end = i + 1;
        return true;
      }
      value->push_back(c);
      ++i;
    } else {
      if (c == '"') {
        *end = i + 1;
        return true;
      }
      if (c == '\\' && i + 1 < text.size()) {
        char e = text[i + 1];
        switch (e) {
          case 't': value->push_back('\t'); break;
          case 'n': value->push_back('\n'); break;
          case 'r': value->push_back('\r'); break;
          case '0': value->push_back('\0'); break;
          default: value->push_back(e); break;  // \" \\ \/
        }
        i += 2;
        continue;
      }
      value->push_back(c);
      ++i;
    }
  }
  return false;
}

// The file is a mapping of five keys to lists of quoted strings, with # comments.
bool LoadExamples(const std::string& path, std::vector<Example>* out, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = "cannot open " + path;
    return false;
  }
  std::string line, category;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    if (first == 0) {
      size_t colon = line.find(':');
      if (colon == std::string::npos) {
        *error = "line " + std::to_string(line_no) + ": expected a key";
        return false;
      }
      category = line.substr(0, colon);
      continue;
    }
    if (line[first] != '-') {
      *error = "line " + std::to_string(line_no) + ": expected a list item";
      return false;
    }
    size_t v = line.find_first_not_of(" \t", first + 1);
    if (v == std::string::npos || (line[v] != '\'' && line[v] != '"')) {
      *error = "line " + std::to_string(line_no) + ": expected a quoted string";
      return false;
    }
    Example ex;
    ex.category = category;
    size_t end = 0;
    if (!ReadQuoted(line, v, &ex.query, &end)) {
      *error = "line " + std::to_string(line_no) + ": unterminated string";
      return false;
    }
    ex.raw = line.substr(v, end - v);
    out->push_back(std::move(ex));
  }
  return true;
}

// "" when the outcome is the one the category asks for, else what happened.
std::string Check(const Example& ex) {
  auto parsed = Parse(ex.query);
  if (ex.category == "parse_fails") {
    if (parsed.ok()) return "parsed";
    if (!IsParseError(parsed.status())) return "non-parse error: " + std::string(parsed.status().message());
    return "";
  }
  if (!parsed.ok()) return std::string(parsed.status().message());
  absl::Status st = Validate(*parsed);
  if (ex.category == "valid") {
    return st.ok() ? "" : "validation: " + std::string(st.message());
  }
  if (ex.category == "validate_fails") {
    if (st.ok()) return "validated";
    if (st.code() != absl::StatusCode::kInvalidArgument) return "unsupported: " + std::string(st.message());
    return "";
  }
  if (ex.category == "unsupported") {
    if (st.ok()) return "validated";
    if (st.code() != absl::StatusCode::kUnimplemented) return "ordinary error: " + std::string(st.message());
    return "";
  }
  return "unknown category";
}

// Upstream's third test: print, parse the print, print again; both prints must agree.
std::string RoundTrip(const Example& ex) {
  auto parsed = Parse(ex.query);
  if (!parsed.ok()) return "does not parse";
  std::string printed = parsed->ToString();
  auto again = Parse(printed);
  if (!again.ok()) return "printed form `" + printed + "` does not parse: " + std::string(again.status().message());
  std::string printed2 = again->ToString();
  if (printed2 != printed) return "`" + printed + "` reprints as `" + printed2 + "`";
  return "";
}

constexpr uint64_t kStartNs = 1'700'000'000'000'000'000ULL;

// A store holding one small trace (a server span, a client child with an event and an
// error, a grandchild) that every fetch returns whole: execution must succeed for every
// valid query, whatever it matches.
class OneTraceQuerier : public otelbox::storage::TraceQuerier {
 public:
  OneTraceQuerier() {
    using namespace otelbox::storage;
    auto res = std::make_shared<Resource>();
    res->attributes.push_back({"service.name", {std::string("api")}});
    auto scope = std::make_shared<InstrumentationScope>();
    scope->name = "grpc";
    for (int i = 1; i <= 3; ++i) {
      Span s;
      s.resource = res;
      s.scope = scope;
      s.trace_id[15] = 1;
      s.span_id[7] = static_cast<uint8_t>(i);
      if (i > 1) s.parent_span_id[7] = static_cast<uint8_t>(i - 1);
      s.name = "op" + std::to_string(i);
      s.kind = i == 1 ? SpanKind::kServer : SpanKind::kClient;
      s.status_code = i == 2 ? StatusCode::kError : StatusCode::kUnset;
      s.start_time_unix_nano = kStartNs + 60'000'000'000ULL * i;
      s.end_time_unix_nano = s.start_time_unix_nano + 1'000'000'000ULL * i;
      s.attributes.push_back({"a", {int64_t{i}}});
      s.attributes.push_back({"field", {double{1.5 * i}}});
      s.attributes.push_back({"http.status", {int64_t{200 + 100 * i}}});
      SpanEvent ev;
      ev.name = "exception";
      ev.time_unix_nano = s.start_time_unix_nano + 10;
      s.events.push_back(ev);
      spans_.push_back(std::move(s));
    }
  }
  absl::StatusOr<std::vector<otelbox::storage::Span>> FindTrace(
      std::string_view, const otelbox::storage::TraceId&, uint64_t, uint64_t) override {
    return spans_;
  }
  absl::Status FetchTraces(std::string_view, const otelbox::storage::TraceFetchRequest&,
                           const otelbox::storage::TraceVisitor& visit,
                           otelbox::storage::TraceFetchStats*) override {
    otelbox::storage::FetchedTrace t;
    t.trace_id = spans_[0].trace_id;
    t.spans = spans_;
    visit(std::move(t));
    return absl::OkStatus();
  }
  absl::StatusOr<otelbox::storage::ScopedTagNames> TagNames(
      std::string_view, const otelbox::storage::TagRequest&) override {
    return otelbox::storage::ScopedTagNames{};
  }
  absl::StatusOr<std::vector<otelbox::storage::TagValue>> TagValues(
      std::string_view, const otelbox::storage::TagRequest&) override {
    return std::vector<otelbox::storage::TagValue>{};
  }

 private:
  std::vector<otelbox::storage::Span> spans_;
};

// Upstream's second test, in our terms: the engine accepts every valid query.
std::string Execute(const Example& ex) {
  OneTraceQuerier querier;
  otelbox::query::traceql::Engine engine(&querier);
  absl::Status st;
  if (otelbox::query::traceql::IsMetricsQuery(ex.query)) {
    otelbox::query::traceql::MetricsRequest req;
    req.query = ex.query;
    req.start_ns = kStartNs;
    req.end_ns = kStartNs + 3'600'000'000'000ULL;
    req.max_exemplars = 10;
    st = engine.MetricsQueryRange("tenant", req).status();
  } else {
    otelbox::query::traceql::SearchRequest req;
    req.query = ex.query;
    st = engine.Search("tenant", req).status();
  }
  return st.ok() ? "" : std::string(st.message());
}

}  // namespace

int main(int argc, char** argv) {
  using otelbox::conformance::Expectations;
  std::string examples_path, expectations_path;
  bool verbose = false;
  otelbox::conformance::Flags flags;
  flags.String("--examples", &examples_path);
  flags.String("--expectations", &expectations_path);
  flags.Switch("--verbose", &verbose);
  std::string bad;
  if (!flags.Parse(argc, argv, &bad)) {
    std::cerr << "usage: traceql_conformance --examples FILE [--expectations FILE] [--verbose]\n";
    return 2;
  }
  std::ifstream probe(examples_path);
  if (examples_path.empty() || !probe) {
    std::cout << "traceql_conformance: " << examples_path
              << " not found (../shared missing?): skipped\n";
    return otelbox::conformance::kExitSkipped;
  }
  std::vector<Example> examples;
  std::string error;
  if (!LoadExamples(examples_path, &examples, &error)) {
    std::cerr << "traceql_conformance: " << error << "\n";
    return 1;
  }
  // Lines "<category>\t<raw yaml scalar>\t# reason", keyed by "<category>\t<raw>".
  Expectations expected;
  if (!expectations_path.empty()) {
    expected = Expectations::Read(expectations_path, otelbox::conformance::KeyUpToSecondTab);
  }

  std::map<std::string, std::pair<int, int>> counts;  // category -> (passed, total)
  int unexpected = 0, known = 0, fixed = 0;
  auto record = [&](const std::string& category, const Example& ex, const std::string& why) {
    auto& c = counts[category];
    ++c.second;
    bool listed = expected.contains(category + "\t" + ex.raw);
    if (why.empty()) {
      ++c.first;
      if (listed) {
        ++fixed;
        std::cout << "FIXED (remove from expectations) " << category << " " << ex.raw << "\n";
      }
    } else if (listed) {
      ++known;
      if (verbose) std::cout << "known   " << category << " " << ex.raw << ": " << why << "\n";
    } else {
      ++unexpected;
      std::cout << "FAIL    " << category << " " << ex.raw << ": " << why << "\n";
    }
  };
  for (const auto& ex : examples) {
    record(ex.category, ex, Check(ex));
    if (ex.category == "valid" || ex.category == "unsupported") {
      record("roundtrip", ex, RoundTrip(ex));
    }
    if (ex.category == "valid") record("execute", ex, Execute(ex));
  }
  for (const auto& [category, c] : counts) {
    std::cout << category << ": " << c.first << "/" << c.second << " as expected\n";
  }
  std::cout << "total: " << examples.size() << " queries; " << unexpected
            << " unexpected failures, " << known << " known (expectations), " << fixed
            << " fixed\n";
  return unexpected == 0 ? 0 : 1;
}
