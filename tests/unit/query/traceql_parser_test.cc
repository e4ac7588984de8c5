// TraceQL lexer/parser/printer details and the search response shape.

#include <string>

#include "gtest/gtest.h"
#include "query/traceql/engine.h"
#include "query/traceql/fetch_conditions.h"
#include "query/traceql/lexer.h"
#include "query/traceql/parser.h"
#include "tests/unit/query/traceql_memory_querier.h"

namespace otelbox::query::traceql {
namespace {

std::string Printed(const std::string& q) {
  auto r = Parse(q);
  return r.ok() ? r->ToString() : std::string(r.status().message());
}

TEST(TraceQLLexer, DurationsAndAttributes) {
  auto toks = Lex("{ span.http.url =~ \"a.*\" && duration > 1h30m && .\"a b\" = 1.5 }");
  ASSERT_GE(toks.size(), 10u);
  EXPECT_EQ(toks[1].type, Tok::kSpanDot);
  EXPECT_EQ(toks[2].type, Tok::kIdentifier);
  EXPECT_EQ(toks[2].text, "http.url");
  EXPECT_EQ(toks[3].type, Tok::kEndAttribute);
  int64_t ns = 0;
  ASSERT_TRUE(ParseTraceQLDuration("1h30m", &ns));
  EXPECT_EQ(ns, 5400LL * 1000000000LL);
  ASSERT_TRUE(ParseTraceQLDuration("1.5s", &ns));
  EXPECT_EQ(ns, 1500000000LL);
  ASSERT_TRUE(ParseTraceQLDuration("250us", &ns));
  EXPECT_EQ(ns, 250000LL);
}

TEST(TraceQLParser, PrecedenceMatchesTempo) {
  // && and || bind equally (left to right), as in Tempo's grammar.
  EXPECT_EQ(Printed("{ .a = 1 || .b = 2 && .c = 3 }"),
            "{ ((.a = 1) || (.b = 2)) && (.c = 3) }");
  EXPECT_EQ(Printed("{ -.a * 2 = 1 }"), "{ (-(.a * 2)) = 1 }");
  EXPECT_EQ(Printed("{ .a + 1 != nil }"), "{ (.a + 1) != nil }");
  EXPECT_EQ(Printed("{ 2 ^ 3 ^ 2 = 1 }"), "{ (2 ^ (3 ^ 2)) = 1 }");
  EXPECT_EQ(Printed("{ a } > { b } && { c }"),
            "parse error at line 1, col 5: unknown identifier: a");
}

TEST(TraceQLParser, PrintsStringsThatParseBack) {
  for (const char* q : {"{ .a = \"x`y\" }", "{ .a = \"tab\\there\" }", "{ .a = `raw` }"}) {
    auto r = Parse(q);
    ASSERT_TRUE(r.ok()) << q;
    auto again = Parse(r->ToString());
    ASSERT_TRUE(again.ok()) << r->ToString();
    EXPECT_EQ(again->ToString(), r->ToString());
    EXPECT_EQ(again->pipeline->elements[0]->expr->rhs->value.s,
              r->pipeline->elements[0]->expr->rhs->value.s);
  }
}

TEST(TraceQLParser, ErrorPositions) {
  auto r = Parse("{ .a = 1 }\n| count() >");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "parse error at line 2, col 12: syntax error: unexpected $end");
  auto m = Parse("{ } | rate() | topk(-1)");
  ASSERT_FALSE(m.ok());
  EXPECT_TRUE(IsParseError(m.status()));
}

TEST(TraceQLParser, DeepNestingIsLinear) {
  std::string q;
  for (int i = 0; i < 120; ++i) q += "(";
  q += "{ .a = 1 }";
  for (int i = 0; i < 120; ++i) q += ")";
  EXPECT_TRUE(Parse(q).ok());
  std::string bad = q + " +";
  EXPECT_FALSE(Parse(bad).ok());
  // Hostile nesting is refused before it can exhaust the stack.
  EXPECT_TRUE(IsParseError(Parse(std::string(100000, '(')).status()));
  EXPECT_TRUE(IsParseError(Parse("{ " + std::string(100000, '!') + "true }").status()));
  std::string long_query = "{ .a = 1";
  for (int i = 0; i < 5000; ++i) long_query += " && .a = 1";
  EXPECT_TRUE(IsParseError(Parse(long_query + " }").status()));
}

TEST(TraceQLPlan, PushesDownConjunctionsAndDisjunctions) {
  auto r = ParseAndValidate("{ resource.service.name = \"api\" && duration > 100ms && .x + 1 = 2 }");
  ASSERT_TRUE(r.ok()) << r.status();
  FetchPlan p = PlanFetch(*r->pipeline);
  EXPECT_TRUE(p.all_conditions);
  ASSERT_EQ(p.conditions.size(), 2u);
  EXPECT_EQ(p.conditions[0].scope, storage::TraceScope::kResource);
  EXPECT_EQ(p.conditions[0].key, "service.name");
  EXPECT_EQ(p.conditions[1].intrinsic, storage::Intrinsic::kDuration);
  EXPECT_EQ(p.conditions[1].op, storage::ConditionOp::kGt);
  EXPECT_FALSE(p.needs_whole_trace);

  auto o = ParseAndValidate("{ 500 <= .status || name = \"x\" }");
  ASSERT_TRUE(o.ok());
  FetchPlan po = PlanFetch(*o->pipeline);
  EXPECT_FALSE(po.all_conditions);
  ASSERT_EQ(po.conditions.size(), 2u);
  EXPECT_EQ(po.conditions[0].op, storage::ConditionOp::kGe);  // flipped

  // Structural: whole traces, and only traces with a right-hand match are needed.
  auto s = ParseAndValidate("{ kind = server } >> { status = error && span.db.system = \"pg\" }");
  ASSERT_TRUE(s.ok());
  FetchPlan ps = PlanFetch(*s->pipeline);
  EXPECT_TRUE(ps.needs_whole_trace);
  EXPECT_TRUE(ps.all_conditions);
  ASSERT_EQ(ps.conditions.size(), 2u);
  EXPECT_EQ(ps.conditions[0].intrinsic, storage::Intrinsic::kStatus);

  // && of two filters on candidate spans: either side's spans must come back.
  auto a = ParseAndValidate("{ name = \"a\" } && { name = \"b\" }");
  ASSERT_TRUE(a.ok());
  FetchPlan pa = PlanFetch(*a->pipeline);
  EXPECT_FALSE(pa.needs_whole_trace);
  EXPECT_FALSE(pa.all_conditions);
  EXPECT_EQ(pa.conditions.size(), 2u);
}

TEST(TraceQLPlan, PartsReadBeyondIntrinsicsAndResource) {
  auto parts = [](const char* q) {
    auto r = ParseAndValidate(q);
    EXPECT_TRUE(r.ok()) << q << ": " << r.status();
    return r.ok() ? PartsRead(PlanFetch(*r->pipeline).output_attributes) : SpanParts{};
  };
  SpanParts p = parts("{ resource.service.name = \"api\" && duration > 1s && name = \"x\" }");
  EXPECT_FALSE(p.span_attributes);
  EXPECT_FALSE(p.events_and_links);
  EXPECT_TRUE(parts("{ span.http.method = \"GET\" }").span_attributes);
  EXPECT_TRUE(parts("{ .http.method = \"GET\" }").span_attributes);  // unscoped: span first
  EXPECT_TRUE(parts("{ } | select(span.user)").span_attributes);
  EXPECT_TRUE(parts("{ } | avg(span.size) > 2").span_attributes);
  EXPECT_TRUE(parts("{ event:name = \"exception\" }").events_and_links);
  EXPECT_TRUE(parts("{ event.exception.type = \"E\" }").events_and_links);
  EXPECT_TRUE(parts("{ link:traceID != nil }").events_and_links);
  EXPECT_FALSE(parts("{ instrumentation.name = \"lib\" }").span_attributes);
}

TEST(TraceQLEngine, SearchResponseShape) {
  otelbox::testing::MemoryTraceQuerier q;
  auto res = std::make_shared<storage::Resource>();
  res->attributes.push_back({"service.name", {std::string("api")}});
  storage::Span root;
  root.resource = res;
  root.trace_id[15] = 7;
  root.span_id[7] = 1;
  root.name = "GET /";
  root.kind = storage::SpanKind::kServer;
  root.start_time_unix_nano = 1000000000;
  root.end_time_unix_nano = 1500000000;
  storage::Span child = root;
  child.span_id[7] = 2;
  child.parent_span_id[7] = 1;
  child.name = "db";
  child.status_code = storage::StatusCode::kError;
  child.start_time_unix_nano = 1100000000;
  child.end_time_unix_nano = 1200000000;
  child.attributes.push_back({"db.rows", {int64_t{3}}});
  q.Add("t", root);
  q.Add("t", child);
  Engine engine(&q);
  SearchRequest req;
  req.query = "{ status = error && span.db.rows > 1 }";
  auto r = engine.Search("t", req);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->traces.size(), 1u);
  const SearchTrace& t = r->traces[0];
  EXPECT_EQ(t.root_service_name, "api");
  EXPECT_EQ(t.root_trace_name, "GET /");
  EXPECT_EQ(t.start_time_unix_nano, 1000000000u);
  EXPECT_EQ(t.duration_ms, 500u);
  ASSERT_EQ(t.span_sets.size(), 1u);
  ASSERT_EQ(t.span_sets[0].spans.size(), 1u);
  const SearchSpan& s = t.span_sets[0].spans[0];
  EXPECT_EQ(s.name, "db");
  EXPECT_EQ(s.duration_nanos, 100000000u);
  bool saw_status = false, saw_rows = false;
  for (const auto& kv : s.attributes) {
    if (kv.key == "status") saw_status = std::get<std::string>(kv.value.value) == "error";
    if (kv.key == "db.rows") saw_rows = std::get<int64_t>(kv.value.value) == 3;
  }
  EXPECT_TRUE(saw_status);
  EXPECT_TRUE(saw_rows);
  // The prefilter reached storage; the candidate-only fetch was completed by FindTrace.
  EXPECT_FALSE(q.last_request().whole_traces);
  EXPECT_EQ(q.last_request().conditions.size(), 2u);
  ASSERT_EQ(t.service_stats.size(), 1u);
  EXPECT_EQ(t.service_stats[0].span_count, 2);
  EXPECT_EQ(t.service_stats[0].error_count, 1);

  // spss cuts the spans of a spanset but `matched` counts them all.
  req.query = "{ kind = server }";
  req.spans_per_spanset = 1;
  auto cut = engine.Search("t", req);
  ASSERT_TRUE(cut.ok());
  ASSERT_EQ(cut->traces.size(), 1u);
  ASSERT_EQ(cut->traces[0].span_sets.size(), 1u);
  EXPECT_EQ(cut->traces[0].span_sets[0].matched, 2);
  EXPECT_EQ(cut->traces[0].span_sets[0].spans.size(), 1u);

  req.query = "{ } | rate()";
  EXPECT_EQ(engine.Search("t", req).status().code(), absl::StatusCode::kInvalidArgument);
  req.query = "{ .a = ";
  auto bad = engine.Search("t", req);
  EXPECT_TRUE(IsTraceQLQueryError(bad.status()));
  EXPECT_TRUE(IsParseError(bad.status()));
}

TEST(TraceQLEngine, MostRecentKeepsTheNewestTraces) {
  otelbox::testing::MemoryTraceQuerier q;
  auto res = std::make_shared<storage::Resource>();
  for (int t = 1; t <= 300; ++t) {
    storage::Span s;
    s.resource = res;
    s.trace_id[14] = static_cast<uint8_t>(t >> 8);
    s.trace_id[15] = static_cast<uint8_t>(t);
    s.span_id[7] = 1;
    // Trace ids and start times in different orders, so scan order is not time order.
    s.start_time_unix_nano = 1000000000ULL * static_cast<uint64_t>((t * 37) % 300 + 1);
    s.end_time_unix_nano = s.start_time_unix_nano + 1000;
    q.Add("t", s);
  }
  Engine engine(&q);
  SearchRequest req;
  req.query = "{ } with(most_recent=true)";
  req.limit = 5;
  auto r = engine.Search("t", req);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->traces.size(), 5u);
  for (size_t i = 0; i < 5; ++i)
    EXPECT_EQ(r->traces[i].start_time_unix_nano, 1000000000ULL * (300 - i));
  req.query = "{ }";
  auto any = engine.Search("t", req);
  ASSERT_TRUE(any.ok());
  EXPECT_EQ(any->traces.size(), 5u);
}

TEST(TraceQLEngine, MetricsSeriesLimit) {
  otelbox::testing::MemoryTraceQuerier q;
  for (int i = 1; i <= 3; ++i) {
    storage::Span s;
    s.resource = std::make_shared<storage::Resource>();
    s.trace_id[15] = static_cast<uint8_t>(i);
    s.span_id[7] = 1;
    s.name = "op" + std::to_string(i);
    s.start_time_unix_nano = 1000000000ULL * i;
    s.end_time_unix_nano = s.start_time_unix_nano + 1000;
    q.Add("t", s);
  }
  EngineOptions opts;
  opts.max_series = 2;
  Engine engine(&q, opts);
  MetricsRequest req;
  req.query = "{ } | count_over_time() by (name)";
  req.start_ns = 0;
  req.end_ns = 10000000000ULL;
  req.step_ns = 1000000000ULL;
  EXPECT_EQ(engine.MetricsQueryRange("t", req).status().code(),
            absl::StatusCode::kResourceExhausted);
  req.query = "{ name != \"op3\" } | count_over_time() by (name)";
  auto ok = engine.MetricsQueryRange("t", req);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->series.size(), 2u);
}

TEST(TraceQLEngine, DefaultStep) {
  const uint64_t s = 1000000000ULL;
  EXPECT_EQ(DefaultStepNs(0, 3600 * s), 15 * s);
  EXPECT_EQ(DefaultStepNs(0, 30 * s), 100000000ULL);
  EXPECT_EQ(DefaultStepNs(0, 120 * s), s);
}

}  // namespace
}  // namespace otelbox::query::traceql
