#include "query/promql/parser.h"

#include <gtest/gtest.h>

#include <random>

#include "query/promql/ast_printer.h"

namespace otelbox::query::promql {
namespace {

std::string RoundTrip(std::string_view in) {
  auto e = ParseExpr(in);
  if (!e.ok()) return "ERROR: " + std::string(e.status().message());
  return Print(**e);
}

TEST(ParserTest, ScalarPrecedence) {
  auto e = ParseExpr("2*3^2");
  ASSERT_TRUE(e.ok()) << e.status();
  const auto* b = (*e)->As<BinaryExpr>();
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->op, BinaryOp::kMul);
  EXPECT_NE(b->rhs->As<BinaryExpr>(), nullptr);
  // ^ is right-associative: 2^3^2 = 2^(3^2).
  e = ParseExpr("2^3^2");
  ASSERT_TRUE(e.ok());
  EXPECT_NE((*e)->As<BinaryExpr>()->rhs->As<BinaryExpr>(), nullptr);
  // - is left-associative: 1-2-3 = (1-2)-3.
  e = ParseExpr("1-2-3");
  ASSERT_TRUE(e.ok());
  EXPECT_NE((*e)->As<BinaryExpr>()->lhs->As<BinaryExpr>(), nullptr);
  EXPECT_EQ(TypeOf(**e), ValueType::kScalar);
}

TEST(ParserTest, Selectors) {
  auto e = ParseExpr(R"(foo{a="b",c!="d",e=~"f.*",g!~"h"})");
  ASSERT_TRUE(e.ok()) << e.status();
  const auto* vs = (*e)->As<VectorSelector>();
  ASSERT_NE(vs, nullptr);
  EXPECT_EQ(vs->name, "foo");
  ASSERT_EQ(vs->matchers.size(), 5u);
  EXPECT_EQ(vs->matchers[2].type(), storage::MatchType::kRegexMatch);
  EXPECT_EQ(vs->matchers[4].name(), "__name__");

  e = ParseExpr(R"({"http.method"="GET"})");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ((*e)->As<VectorSelector>()->matchers[0].name(), "http.method");

  e = ParseExpr(R"({"my.metric", job="x"})");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ((*e)->As<VectorSelector>()->name, "my.metric");

  e = ParseExpr("foo[5m] offset 1m");
  ASSERT_TRUE(e.ok()) << e.status();
  const auto* ms = (*e)->As<MatrixSelector>();
  ASSERT_NE(ms, nullptr);
  EXPECT_EQ(ms->range_ms, 300000);
  EXPECT_EQ(ms->vector_selector->As<VectorSelector>()->offset_ms, 60000);
}

TEST(ParserTest, RoundTrip) {
  const char* cases[] = {
      "1 + 1",
      "2 * 3 ^ 2",
      "-1",
      "-(1 + 2)",
      "\"a string\"",
      "foo",
      "foo{a=\"b\",c!=\"d\",e=~\"f.*\",g!~\"h\"}",
      "{__name__=~\"x.*\"}",
      "{\"http.method\"=\"GET\"}",
      "{\"my.metric\",job=\"x\"}",
      "foo[5m]",
      "foo offset 5m",
      "foo[1h30m] offset -1m",
      "job:rate5m:sum",
      "rate(foo[5m])",
      "sum by (job) (rate(foo[5m]))",
      "topk(5, foo)",
      "foo[10m:1m]",
      "foo + on (a) group_left (b) bar",
      "foo > bool 1",
      "1 > bool 2",
      "foo and bar or baz unless qux",
      "foo @ 100.000",
      "histogram_quantile(0.9, sum without (instance) (rate(x_bucket[5m])))",
      "+Inf",
      "NaN",
  };
  for (const char* c : cases) {
    std::string once = RoundTrip(c);
    EXPECT_EQ(once, c) << c;
    EXPECT_EQ(RoundTrip(once), once) << c;
  }
  EXPECT_EQ(RoundTrip("1+1"), "1 + 1");
  EXPECT_EQ(RoundTrip("sum(foo) by (a)"), "sum by (a) (foo)");
  EXPECT_EQ(RoundTrip("0x10"), "16");
  EXPECT_EQ(RoundTrip("1e3"), "1000");
  EXPECT_EQ(RoundTrip("foo{a='b'}"), "foo{a=\"b\"}");
  EXPECT_EQ(RoundTrip("foo{a=\"b\",}"), "foo{a=\"b\"}");
}

TEST(ParserTest, Errors) {
  struct Case {
    const char* in;
    const char* want;
  } cases[] = {
      {"sum(", "parse error at char 5: unexpected end of input"},
      {"1 +", "parse error at char 4: unexpected end of input"},
      {"", "parse error at char 1: no expression found in input"},
      {"foo{", "parse error at char 5: unexpected end of input inside braces"},
      {"foo{a=\"b\"", "parse error at char 10: unexpected end of input"},
      {"{}", "parse error at char 1: vector selector must contain at least one non-empty matcher"},
      {"{a=~\".*\"}", "vector selector must contain at least one non-empty matcher"},
      {"foo{__name__=\"bar\"}", "metric name must not be set twice"},
      {"1 > 2", "comparisons between scalars must use BOOL modifier"},
      {"(foo)[5m]", "ranges only allowed for vector selectors"},
      {"foo[5m] + 1", "binary expression must contain only scalar and instant vector types"},
      {"nosuchfunc(foo)", "unknown function with name \"nosuchfunc\""},
      {"rate(foo)", "expected type range vector in call to function \"rate\""},
      {"foo{a=~\"(\"}", "invalid regular expression"},
      {"1 and 2", "set operator \"and\" not allowed in binary scalar expression"},
      {"foo )", "unexpected"},
      {"foo offset", "unexpected end of input"},
      {"\"unterminated", "unterminated quoted string"},
      {"foo[5x]", "bad number or duration syntax"},
  };
  for (const auto& c : cases) {
    auto e = ParseExpr(c.in);
    ASSERT_FALSE(e.ok()) << c.in;
    EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument) << c.in;
    EXPECT_NE(std::string(e.status().message()).find(c.want), std::string::npos)
        << c.in << " -> " << e.status().message();
  }
}

TEST(ParserTest, MetricSelector) {
  auto m = ParseMetricSelector(R"(up{job="api"})");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->size(), 2u);
  EXPECT_FALSE(ParseMetricSelector("up + 1").ok());
  EXPECT_FALSE(ParseMetricSelector("rate(x[5m])").ok());
  EXPECT_TRUE(ParseMetricSelector(R"({__name__!=""})").ok());
}

TEST(ParserTest, DeepNestingIsAnErrorNotACrash) {
  std::string deep(100000, '(');
  EXPECT_FALSE(ParseExpr(deep).ok());
  std::string minus(100000, '-');
  EXPECT_FALSE(ParseExpr(minus + "1").ok());
}

TEST(ParserTest, FuzzNeverCrashes) {
  std::mt19937 rng(42);
  const std::string alphabet = "abcfoo_:{}[]()\"'`\\=!~+-*/%^<>@,.0123456789 emshdwy\n#";
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    size_t len = rng() % 40;
    for (size_t k = 0; k < len; ++k) {
      if (rng() % 8 == 0) {
        s.push_back(static_cast<char>(rng() % 256));
      } else {
        s.push_back(alphabet[rng() % alphabet.size()]);
      }
    }
    auto e = ParseExpr(s);
    if (e.ok()) {
      // Whatever parses must print to something that parses again to the same text.
      std::string printed = Print(**e);
      auto again = ParseExpr(printed);
      ASSERT_TRUE(again.ok()) << s << " -> " << printed << ": " << again.status();
      EXPECT_EQ(Print(**again), printed);
    }
  }
}

}  // namespace
}  // namespace otelbox::query::promql
