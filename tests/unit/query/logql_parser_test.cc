// LogQL lexer and parser: Loki's grammar, precedence and error texts
// (facts from grafana/loki pkg/logql/syntax/{lex,parser}_test.go and syntax.y).

#include <gtest/gtest.h>

#include "query/logql/ast.h"
#include "query/logql/lexer.h"
#include "query/logql/parser.h"

namespace otelbox::query::logql {
namespace {

std::string Err(std::string_view q) {
  auto e = ParseExpr(q);
  if (e.ok()) return "OK: " + Print(**e);
  return std::string(e.status().message());
}

std::string P(std::string_view q) {
  auto e = ParseExpr(q);
  if (!e.ok()) return "ERROR: " + std::string(e.status().message());
  return Print(**e);
}

TEST(LogqlLexer, UnitsFlagsAndFunctions) {
  auto t = Lex(R"(rate({app="a"} | logfmt --strict | took > 1.5s and size >= 10MB [5m]) by (x))");
  std::vector<std::string> kinds;
  for (const auto& tok : t) kinds.push_back(TokenName(tok));
  std::vector<std::string> want = {"RATE", "(", "{", "IDENTIFIER", "=", "STRING", "}", "|", "logfmt",
                                   "FUNCTION_FLAG", "|", "IDENTIFIER", ">", "DURATION", "and",
                                   "IDENTIFIER", ">=", "BYTES", "RANGE", ")", "by", "(",
                                   "IDENTIFIER", ")", "$end"};
  EXPECT_EQ(kinds, want);
  // A function name not followed by `(` is an identifier; keywords are case-insensitive.
  auto u = Lex("sum BY");
  EXPECT_EQ(u[0].kind, TokenKind::kIdentifier);
  EXPECT_EQ(TokenName(u[1]), "by");
  // 1mb is the duration 1m followed by an identifier (hence Loki's syntax error).
  auto m = Lex("1mb");
  EXPECT_EQ(m[0].kind, TokenKind::kDuration);
  EXPECT_EQ(m[0].ns, 60'000'000'000);
  EXPECT_EQ(m[1].kind, TokenKind::kIdentifier);
}

TEST(LogqlParser, Precedence) {
  EXPECT_EQ(P("2^3^2"), "512");
  EXPECT_EQ(P("-2^2"), "4");
  EXPECT_EQ(P("1+1--1"), "3");
  EXPECT_EQ(P("10 / 5 / 2"), "1");
  EXPECT_EQ(P("2 > 7"), "0");
  EXPECT_EQ(P("0x1p3"), "8");
  EXPECT_EQ(P(R"(count_over_time({a="b"}[1m]) + 1 * 2)"),
            R"((count_over_time({a="b"}[1m]) + 2))");
}

TEST(LogqlParser, LogRangeForms) {
  // Loki's String(): no space before the range, offsets in Go's duration form.
  std::string want = R"(count_over_time({app="foo"} |~ ".+bar"[1m]))";
  EXPECT_EQ(P(R"(count_over_time({app="foo"} |~".+bar" [1m]))"), want);
  EXPECT_EQ(P(R"(count_over_time(({app="foo"} |~".+bar")[1m]))"), want);
  EXPECT_EQ(P(R"(count_over_time({app="foo"}[1m] |~".+bar"))"), want);
  EXPECT_EQ(P(R"(sum_over_time({a="b"} | logfmt | unwrap duration(d) | __error__="" [1m] offset 5m))"),
            R"(sum_over_time({a="b"} | logfmt | unwrap duration(d) | __error__=""[1m] offset 5m0s))");
}

TEST(LogqlParser, LabelFilterPrecedence) {
  // `or` is weakest; `,` and juxtaposition take the rest of the expression as right side.
  EXPECT_EQ(P(R"({a="b"} | x="1" or y="1" and z="1")"), R"({a="b"} | (x="1" or (y="1" and z="1")))");
  EXPECT_EQ(P(R"({a="b"} | x="1" and y="1" or z="1")"), R"({a="b"} | ((x="1" and y="1") or z="1"))");
  EXPECT_EQ(P(R"({a="b"} | x="1", y="1" or z="1")"), R"({a="b"} | (x="1" and (y="1" or z="1")))");
  EXPECT_EQ(P(R"({a="b"} | x="1" or y="1" z="1")"), R"({a="b"} | (x="1" or (y="1" and z="1")))");
}

TEST(LogqlParser, Stages) {
  EXPECT_EQ(P(R"q({a="b"} |= "x" or "y" != ip("1.2.3.4") | json f="a.b", g | logfmt --keep-empty | line_format "{{.a}}" | label_format x=y, z="{{.q}}" | drop a, b="c" | keep d | decolorize | regexp "(?P<x>.)" | pattern "<a> <_>" | unpack)q"),
            R"q({a="b"} |= "x" or "y" != ip("1.2.3.4") | json f="a.b", g="g" | logfmt --keep-empty | line_format "{{.a}}" | label_format x=y, z="{{.q}}" | drop a, b="c" | keep d | decolorize | regexp "(?P<x>.)" | pattern "<a> <_>" | unpack)q");
}

TEST(LogqlParser, Errors) {
  EXPECT_EQ(Err(R"(-count_over_time({app="foo"}[1m]))"),
            "parse error at line 1, col 2: syntax error: unexpected COUNT_OVER_TIME, expecting NUMBER");
  EXPECT_EQ(Err("1 and 2"),
            "parse error : unexpected literal for left leg of logical/set binary operation (and): 1.000000");
  EXPECT_EQ(Err("0x1A"),
            "parse error : unable to parse literal as a float: strconv.ParseFloat: parsing \"0x1A\": invalid syntax");
  EXPECT_NE(Err(R"(count_over_time({a="b"} | logfmt | addr == ip("10.0.0.0/8") [1m]))")
                .find("syntax error: unexpected ip"),
            std::string::npos);
  EXPECT_NE(Err(R"(count_over_time({a="b"} | logfmt | size > 1mb [1m]))").find("syntax error"),
            std::string::npos);
  EXPECT_EQ(Err(R"(sum_over_time({a="b"}[1m]))"),
            "parse error : invalid aggregation sum_over_time without unwrap");
  EXPECT_EQ(Err(R"(rate({a="b"}[1m]) by (x))"), "parse error : grouping not allowed for rate aggregation");
  EXPECT_EQ(Err(R"(topk(1.5, rate({a="b"}[1m])))"), "parse error : invalid parameter topk(1.5,");
  EXPECT_EQ(Err(R"(topk(rate({a="b"}[1m])))"), "parse error : parameter required for operation topk");
  EXPECT_NE(Err(R"({a=~".*"})").find("queries require at least one regexp or equality matcher"),
            std::string::npos);
  EXPECT_EQ(Err(R"({a="b")"), "parse error at line 1, col 7: syntax error: unexpected $end, expecting } or ,");
  EXPECT_NE(Err(R"(count_over_time({a="b"} | drop [1m]))").find("expecting IDENTIFIER"), std::string::npos);
  EXPECT_NE(Err("{a=\"b\"}\n|= \"x\" [1m]").find("line 2"), std::string::npos);
}

TEST(LogqlParser, RoundTrip) {
  for (std::string_view q : {
           R"(sum by (app) (rate({app=~"a|b"} |= "x" [5m])) / on (app) group_left (pod) count_over_time({app="c"}[1m]))",
           R"q(label_replace(rate({a="b"}[1m]), "dst", "$1", "src", "(.*)"))q",
           R"(quantile_over_time(0.99, {a="b"} | json | unwrap bytes(size) [1m]) by (pod))",
           R"(sort_desc(vector(1)) > bool 0)",
           R"(topk(2, count_over_time({a="b"} | x > 1.5 or y <= 10KiB [1m])) without (pod))"}) {
    auto e = ParseExpr(q);
    ASSERT_TRUE(e.ok()) << q << ": " << e.status();
    std::string printed = Print(**e);
    auto again = ParseExpr(printed);
    ASSERT_TRUE(again.ok()) << printed << ": " << again.status();
    EXPECT_EQ(Print(**again), printed);
  }
}

// Malformed input never crashes or hangs the parser: every truncation and single-character
// deletion of a set of rich queries either parses (and then round-trips) or is an
// InvalidArgument "parse error".
TEST(LogqlParser, MutationsNeverCrash) {
  const std::vector<std::string> seeds = {
      R"q(sum by (app) (rate({app=~"a|b", env!="x"} |= "x" or "y" |~ "(?i)e" | json a="b.c" | logfmt --strict k | line_format "{{.a | ToUpper}}" | label_format n=a | drop c | keep a, n | a > 1.5s and b <= 10KB or c = ip("1.2.3.0/24") [5m] offset 1m)))q",
      R"q(topk(2, quantile_over_time(0.9, {a="b"} | regexp "(?P<x>\d+)" | unwrap duration(x) | __error__="" [1m]) by (x)) / on (x) group_left (y) sum without (z) (count_over_time({a="b"} | pattern "<x> <_>" [1m])))q",
      R"q(label_replace(vector(1) > bool 0x1p3, "d", "$1", "s", "(.*)") or absent_over_time({a="b"}[1m]) unless sort_desc(bytes_rate({a="b"} | unpack | decolorize [1m])))q",
  };
  size_t parsed = 0, failed = 0;
  for (const std::string& seed : seeds) {
    std::vector<std::string> variants;
    for (size_t i = 0; i <= seed.size(); ++i) variants.push_back(seed.substr(0, i));
    for (size_t i = 0; i < seed.size(); ++i) variants.push_back(seed.substr(0, i) + seed.substr(i + 1));
    for (const std::string& v : variants) {
      auto e = ParseExpr(v);
      if (e.ok()) {
        ++parsed;
        auto again = ParseExpr(Print(**e));
        if (!again.ok()) {
          // Folded constants (NaN, Inf) have no literal syntax; anything else must reparse.
          std::string printed = Print(**e);
          EXPECT_TRUE(printed.find("NaN") != std::string::npos || printed.find("Inf") != std::string::npos)
              << v << " -> " << printed << ": " << again.status();
        }
      } else {
        ++failed;
        EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument) << v;
        EXPECT_EQ(std::string(e.status().message()).rfind("parse error", 0), 0u) << v << ": " << e.status();
      }
    }
  }
  EXPECT_GT(parsed, 10u);
  EXPECT_GT(failed, 100u);
}

}  // namespace
}  // namespace otelbox::query::logql
