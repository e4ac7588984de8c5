#include "tests/conformance/promql_script.h"

#include <gtest/gtest.h>

#include <cmath>

#include "storage/model/sample.h"
#include "tests/conformance/promql_runner.h"

namespace otelbox::conformance {
namespace {

using Kind = SequenceValue::Kind;

std::vector<double> Floats(std::string_view text) {
  auto seq = ParseSequence(text);
  EXPECT_TRUE(seq.ok()) << text << ": " << seq.status();
  std::vector<double> out;
  if (!seq.ok()) return out;
  for (const auto& v : *seq) {
    EXPECT_EQ(v.kind, Kind::kFloat) << text;
    out.push_back(v.value);
  }
  return out;
}

TEST(PromqlSequence, IncrementRepeatsNPlusOneTimes) {
  EXPECT_EQ(Floats("1+2x3"), (std::vector<double>{1, 3, 5, 7}));
  EXPECT_EQ(Floats("0+10x2"), (std::vector<double>{0, 10, 20}));
  EXPECT_EQ(Floats("-1-1x2"), (std::vector<double>{-1, -2, -3}));
  EXPECT_EQ(Floats("5-2x1"), (std::vector<double>{5, 3}));
  EXPECT_EQ(Floats("1x0"), (std::vector<double>{1}));
  EXPECT_EQ(Floats("7x2"), (std::vector<double>{7, 7, 7}));
  // Hexadecimal is not a number in sequences: 0x10 is 0 repeated.
  EXPECT_EQ(Floats("0x10").size(), 11u);
  EXPECT_EQ(Floats("1e3x1"), (std::vector<double>{1000, 1000}));
  EXPECT_EQ(Floats("1e-1+1e+0x1"), (std::vector<double>{0.1, 1.1}));
}

TEST(PromqlSequence, PlainNumbers) {
  EXPECT_EQ(Floats(".8 2. -3 +4 1.78264E+50 12.34e-6"),
            (std::vector<double>{0.8, 2, -3, 4, 1.78264e50, 12.34e-6}));
  auto v = Floats("Inf -inf +Inf NaN nan");
  ASSERT_EQ(v.size(), 5u);
  EXPECT_EQ(v[0], INFINITY);
  EXPECT_EQ(v[1], -INFINITY);
  EXPECT_EQ(v[2], INFINITY);
  EXPECT_TRUE(std::isnan(v[3]));
  EXPECT_TRUE(std::isnan(v[4]));
}

TEST(PromqlSequence, OmittedAndStale) {
  auto seq = ParseSequence("1 _ _x3 stale 2+3x1");
  ASSERT_TRUE(seq.ok()) << seq.status();
  ASSERT_EQ(seq->size(), 8u);  // `_x3` is three gaps
  EXPECT_EQ((*seq)[0].kind, Kind::kFloat);
  for (int i = 1; i <= 4; ++i) EXPECT_EQ((*seq)[i].kind, Kind::kOmitted) << i;
  EXPECT_EQ((*seq)[5].kind, Kind::kStale);
  EXPECT_TRUE(storage::IsStaleNaN((*seq)[5].value));
  EXPECT_EQ((*seq)[6].value, 2);
  EXPECT_EQ((*seq)[7].value, 5);
}

TEST(PromqlSequence, Histograms) {
  auto seq = ParseSequence("{{schema:0 sum:5 buckets:[1 2]}} {{}}x2 {{count:1}}+{{count:2}}x1 3");
  ASSERT_TRUE(seq.ok()) << seq.status();
  ASSERT_EQ(seq->size(), 7u);
  EXPECT_EQ((*seq)[0].kind, Kind::kHistogram);
  EXPECT_EQ((*seq)[0].histogram, "schema:0 sum:5 buckets:[1 2]");
  EXPECT_EQ((*seq)[3].kind, Kind::kHistogram);
  EXPECT_EQ((*seq)[5].kind, Kind::kHistogram);
  EXPECT_EQ((*seq)[6].kind, Kind::kFloat);
}

TEST(PromqlSequence, HistogramValuesAndExpansion) {
  auto seq = ParseSequence(
      "{{schema:1 sum:5 count:3 z_bucket:1 z_bucket_w:0.5 buckets:[1 1] offset:2 n_buckets:[1]"
      " n_offset:-1 counter_reset_hint:gauge}} "
      "{{schema:-53 sum:1 count:2 custom_values:[5 10] buckets:[1 1]}}+{{schema:-53 count:1 "
      "custom_values:[5 10] buckets:[0 0 1]}}x2");
  ASSERT_TRUE(seq.ok()) << seq.status();
  ASSERT_EQ(seq->size(), 4u);
  const storage::FloatHistogram& h = (*seq)[0].h;
  EXPECT_EQ(h.schema, 1);
  EXPECT_EQ(h.sum, 5);
  EXPECT_EQ(h.count, 3);
  EXPECT_EQ(h.zero_count, 1);
  EXPECT_EQ(h.zero_threshold, 0.5);
  EXPECT_EQ(h.positive_spans, (std::vector<storage::BucketSpan>{{2, 2}}));
  EXPECT_EQ(h.negative_spans, (std::vector<storage::BucketSpan>{{-1, 1}}));
  EXPECT_EQ(h.counter_reset_hint, storage::CounterResetHint::kGaugeType);
  EXPECT_TRUE((*seq)[0].hint_set);
  // H + 2D: counts added bucket by bucket; the hint flag follows the increment.
  const storage::FloatHistogram& last = (*seq)[3].h;
  EXPECT_EQ(last.count, 4);
  EXPECT_EQ(last.custom_values, (std::vector<double>{5, 10}));
  EXPECT_EQ(last.positive_buckets, (std::vector<double>{1, 1, 2}));
  EXPECT_FALSE((*seq)[3].hint_set);
  // A finer running value than the increment cannot be expanded.
  EXPECT_FALSE(ParseSequence("{{schema:1}}+{{schema:0}}x1").ok());
  EXPECT_FALSE(ParseSequence("{{counter_reset_hint:maybe}}").ok());
}

TEST(PromqlSequence, Errors) {
  EXPECT_FALSE(ParseSequence("abc").ok());
  EXPECT_FALSE(ParseSequence("1+x3").ok());
  EXPECT_FALSE(ParseSequence("1+2xq").ok());
  EXPECT_FALSE(ParseSequence("{{schema:0").ok());
}

TEST(PromqlSeriesDescription, NameAndLabelsWithEscapes) {
  auto s = ParseSeriesLine(R"(http_requests{job="api \"x\"", path="/a b}", e='\x41\u00e9',} 1 2)");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->labels.Get("__name__"), "http_requests");
  EXPECT_EQ(s->labels.Get("job"), "api \"x\"");
  EXPECT_EQ(s->labels.Get("path"), "/a b}");
  EXPECT_EQ(s->labels.Get("e"), "A\xc3\xa9");
  EXPECT_EQ(s->values.size(), 2u);

  auto colon = ParseSeriesLine("node_namespace_pod:kube_pod_info: 1");
  ASSERT_TRUE(colon.ok());
  EXPECT_EQ(colon->labels.Get("__name__"), "node_namespace_pod:kube_pod_info:");

  auto empty = ParseSeriesLine("{} 3");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->labels.empty());

  auto by_label = ParseSeriesLine(R"({__name__="m", a="1"} 3)");
  ASSERT_TRUE(by_label.ok());
  EXPECT_EQ(by_label->labels.Get("__name__"), "m");

  auto quoted_name = ParseSeriesLine(R"({"my.metric", "a.b"="c"} 1)");
  ASSERT_TRUE(quoted_name.ok()) << quoted_name.status();
  EXPECT_EQ(quoted_name->labels.Get("__name__"), "my.metric");
  EXPECT_EQ(quoted_name->labels.Get("a.b"), "c");

  EXPECT_FALSE(ParseSeriesLine(R"(m{a="1" 2)").ok());
  EXPECT_FALSE(ParseSeriesLine(R"(m{a=1} 2)").ok());
}

TEST(PromqlNumbers, ScalarLines) {
  EXPECT_EQ(ParseScalarNumber("2"), 2);
  EXPECT_EQ(ParseScalarNumber("0x10"), 16);
  EXPECT_EQ(ParseScalarNumber("010"), 8);  // Go's base-0 ParseInt: octal
  EXPECT_EQ(ParseScalarNumber("-1.5e3"), -1500);
  EXPECT_EQ(ParseScalarNumber("+Inf"), INFINITY);
  EXPECT_TRUE(std::isnan(*ParseScalarNumber("NaN")));
  EXPECT_FALSE(ParseScalarNumber("{} 1").has_value());
  EXPECT_FALSE(ParseScalarNumber("foo").has_value());
  EXPECT_FALSE(ParseSequenceNumber("0x10").has_value());
}

TEST(PromqlDurations, HeadersAndStartTimestamps) {
  EXPECT_EQ(*ParseScriptDuration("0"), 0);
  EXPECT_EQ(*ParseScriptDuration("1m30s"), 90000);
  EXPECT_EQ(*ParseScriptDuration("10s53ms"), 10053);
  EXPECT_FALSE(ParseScriptDuration("5x").ok());
  auto st = ParseStartTimestampSequence("_ -30s-1mx2 -0ms _x2 *");
  ASSERT_TRUE(st.ok()) << st.status();
  std::vector<std::optional<int64_t>> want = {std::nullopt, -30000, -90000, -150000, 0,
                                              std::nullopt, std::nullopt, 0};
  EXPECT_EQ(*st, want);
}

TEST(PromqlScript, CommandsAndExpectations) {
  Script s = ParseScript("x.test", R"(# comment
load 5m
  http{job="a"} 0+10x10
  http{job="b"}@st _ -1mx9
  http{job="b"} _ 1x9

eval instant at 50m http
  expect ordered
  expect warn msg: PromQL warning: something (1:1)
  expect no_info
  http{job="a"} 100

eval range from 0 to 10m step 5m sum(http)
  expect fail regex: boom.*
  {} 1 _ 3

eval_fail instant at 0 -{job="api"}
  expected_fail_message exact text

eval instant at 1m 1+1
  2

eval instant at 1m "a"
  expect string "a\n"

eval instant at 1m foo[1m]
  expect range vector from 0 to 1m step 30s
  foo 1 2 3

eval instant at 1m foo
  foo 1 2

clear
bogus
)");
  ASSERT_EQ(s.errors.size(), 1u) << s.errors[0];
  EXPECT_NE(s.errors[0].find("x.test:34: invalid command \"bogus\""), std::string::npos)
      << s.errors[0];
  ASSERT_EQ(s.commands.size(), 9u);
  const auto& load = std::get<LoadCmd>(s.commands[0]);
  EXPECT_EQ(load.line, 2);
  EXPECT_EQ(load.interval_ms, 300000);
  EXPECT_TRUE(load.has_start_timestamps);
  ASSERT_EQ(load.series.size(), 2u);
  EXPECT_EQ(load.series[0].values.size(), 11u);

  const auto& e1 = std::get<EvalCmd>(s.commands[1]);
  EXPECT_EQ(e1.line, 7);
  EXPECT_EQ(e1.expr, "http");
  EXPECT_FALSE(e1.is_range);
  EXPECT_EQ(e1.start_ms, 3000000);
  EXPECT_TRUE(e1.ordered);
  ASSERT_EQ(e1.warn.size(), 1u);
  EXPECT_EQ(e1.warn[0].match, AnnotationExpectation::Match::kMessage);
  EXPECT_EQ(e1.warn[0].text, "PromQL warning: something (1:1)");
  EXPECT_TRUE(e1.no_info);
  ASSERT_EQ(e1.expected.size(), 1u);
  EXPECT_EQ(e1.expected[0].position, 1);
  EXPECT_TRUE(e1.script_error.empty()) << e1.script_error;

  const auto& e2 = std::get<EvalCmd>(s.commands[2]);
  EXPECT_TRUE(e2.is_range);
  EXPECT_EQ(e2.expr, "sum(http)");
  EXPECT_EQ(e2.end_ms, 600000);
  EXPECT_EQ(e2.step_ms, 300000);
  EXPECT_TRUE(e2.expect_fail);
  EXPECT_EQ(e2.fail_regex, "boom.*");
  ASSERT_EQ(e2.expected.size(), 1u);
  EXPECT_EQ(e2.expected[0].series.values[1].kind, Kind::kOmitted);

  const auto& e3 = std::get<EvalCmd>(s.commands[3]);
  EXPECT_TRUE(e3.expect_fail);
  EXPECT_EQ(e3.expr, R"(-{job="api"})");
  EXPECT_EQ(e3.fail_message, "exact text");

  const auto& e4 = std::get<EvalCmd>(s.commands[4]);
  EXPECT_EQ(e4.expected_scalar, 2);

  const auto& e5 = std::get<EvalCmd>(s.commands[5]);
  EXPECT_EQ(e5.expected_string, "a\n");

  const auto& e6 = std::get<EvalCmd>(s.commands[6]);
  EXPECT_TRUE(e6.expect_range_vector);
  EXPECT_EQ(e6.range_step_ms, 30000);
  EXPECT_EQ(e6.start_ms, 60000);
  EXPECT_TRUE(e6.script_error.empty()) << e6.script_error;

  // Several values in an instant eval without `expect range vector`.
  const auto& e7 = std::get<EvalCmd>(s.commands[7]);
  EXPECT_FALSE(e7.script_error.empty());

  EXPECT_TRUE(std::holds_alternative<ClearCmd>(s.commands[8]));
}

TEST(PromqlScript, CommentEndsBlock) {
  Script s = ParseScript("x.test", "load 1m\n  a 1\n# c\n  b 2\n");
  // "b 2" is outside the block: an invalid command.
  EXPECT_EQ(s.errors.size(), 1u);
  ASSERT_EQ(s.commands.size(), 1u);
  EXPECT_EQ(std::get<LoadCmd>(s.commands[0]).series.size(), 1u);
}

TEST(PromqlGatedFeature, Detection) {
  EXPECT_EQ(GatedFeature("limitk(2, x)"), "limitk");
  EXPECT_EQ(GatedFeature("sort_by_label(x, \"l\")"), "sort_by_label");
  EXPECT_EQ(GatedFeature("x @ start()"), "");
  EXPECT_EQ(GatedFeature("rate(x[5m])"), "");
  EXPECT_EQ(GatedFeature("rate(x[5m:1m])"), "");
  EXPECT_EQ(GatedFeature("rate(x[1h:])"), "");
  EXPECT_EQ(GatedFeature("changes(x[60*30])"), "duration arithmetic");
  EXPECT_EQ(GatedFeature("x offset (1m*2)"), "duration arithmetic");
  EXPECT_EQ(GatedFeature("x offset -5m"), "");
  EXPECT_EQ(GatedFeature("increase(x[1m] anchored)"), "anchored");
  EXPECT_EQ(GatedFeature("a + fill_left(5) b"), "fill modifiers");
  EXPECT_EQ(GatedFeature("x{l=\"limitk(\"}"), "");
  EXPECT_EQ(GatedFeature("foo[step()*2]"), "step");
}

}  // namespace
}  // namespace otelbox::conformance
