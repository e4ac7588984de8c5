// Regressions found by the upstream PromQL conformance scripts: one test per bug, so a
// fix can't silently come undone.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "query/promql/ast_printer.h"
#include "query/promql/engine.h"
#include "query/promql/parser.h"
#include "tests/unit/query/fake_querier.h"

namespace otelbox::query::promql {
namespace {

using storage::Labels;

std::string RoundTrip(std::string_view in) {
  auto e = ParseExpr(in);
  if (!e.ok()) return "ERROR: " + std::string(e.status().message());
  return Print(**e);
}

TEST(PromqlRegressionTest, KeywordsAreCaseInsensitive) {
  EXPECT_EQ(RoundTrip("SUM BY (group) (foo)"), "sum by (group) (foo)");
  EXPECT_EQ(RoundTrip("SUM(foo) BY(job)"), "sum by (job) (foo)");
  EXPECT_EQ(RoundTrip("Count(foo) WITHOUT (a)"), "count without (a) (foo)");
  EXPECT_EQ(RoundTrip("foo AND bar OR baz UNLESS qux"), "foo and bar or baz unless qux");
  EXPECT_EQ(RoundTrip("foo > BOOL 1"), "foo > bool 1");
  EXPECT_EQ(RoundTrip("foo + ON (a) GROUP_LEFT (b) bar"), "foo + on (a) group_left (b) bar");
  EXPECT_EQ(RoundTrip("foo + IGNORING (a) bar"), "foo + ignoring (a) bar");
  EXPECT_EQ(RoundTrip("foo OFFSET 5m"), "foo offset 5m");
  // Function names stay case-sensitive, label names keep their case.
  EXPECT_EQ(RoundTrip("RATE(foo[5m])"), "ERROR: parse error at char 1: unknown function with name \"RATE\"");
  EXPECT_EQ(RoundTrip("sum by (BY) (foo)"), "sum by (BY) (foo)");
}

TEST(PromqlRegressionTest, DurationAsAtTimestamp) {
  auto e = ParseExpr("foo @ 100s");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ((*e)->As<VectorSelector>()->at->t_ms, 100000);
  e = ParseExpr("foo @ 1m40s");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ((*e)->As<VectorSelector>()->at->t_ms, 100000);
  e = ParseExpr("foo[2m1s] @ 2m");
  ASSERT_TRUE(e.ok()) << e.status();
}

class PromqlEngineRegressionTest : public ::testing::Test {
 protected:
  PromqlEngineRegressionTest() : engine_(&querier_, Options()) {}
  static EngineOptions Options() {
    EngineOptions o;
    o.enable_experimental = true;
    o.enable_delayed_name_removal = true;
    return o;
  }
  Vector InstantVector(std::string_view q, int64_t t_ms) {
    auto r = engine_.Instant("t", q, t_ms);
    EXPECT_TRUE(r.ok()) << q << ": " << r.status();
    if (!r.ok()) return {};
    auto* v = std::get_if<Vector>(&r->value);
    EXPECT_NE(v, nullptr) << q;
    return v == nullptr ? Vector{} : *v;
  }

  testing::FakeQuerier querier_;
  Engine engine_;
};

TEST_F(PromqlEngineRegressionTest, StddevStdvarOfNaNOrInfIsNaN) {
  querier_.Add(Labels{{"__name__", "s"}, {"l", "a"}}, {{0, 1}});
  querier_.Add(Labels{{"__name__", "s"}, {"l", "b"}}, {{0, 2}});
  querier_.Add(Labels{{"__name__", "s"}, {"l", "c"}}, {{0, std::numeric_limits<double>::infinity()}});
  querier_.Add(Labels{{"__name__", "n"}}, {{0, std::numeric_limits<double>::quiet_NaN()}});
  for (const char* q : {"stddev(s)", "stdvar(s)", "stddev(n)", "stdvar(n)"}) {
    Vector v = InstantVector(q, 0);
    ASSERT_EQ(v.size(), 1u) << q;
    EXPECT_TRUE(std::isnan(v[0].v)) << q;
  }
  Vector v = InstantVector("stddev by (l) (s)", 0);
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0].v, 0);
  EXPECT_EQ(v[1].v, 0);
  EXPECT_TRUE(std::isnan(v[2].v));
}

TEST_F(PromqlEngineRegressionTest, AnnotationsCarryThePosition) {
  querier_.Add(Labels{{"__name__", "series"}}, {{0, 1}, {60000, 2}});
  auto r = engine_.Instant("t", "histogram_quantile(0.8, series)", 0);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_EQ(r->warnings[0],
            "PromQL warning: bucket label \"le\" is missing or has a malformed value of \"\" "
            "for metric name \"series\" (1:25)");
  r = engine_.Instant("t", "histogram_quantile(NaN, non_existent)", 0);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_EQ(r->warnings[0], "PromQL warning: quantile value should be between 0 and 1, got NaN (1:20)");
  r = engine_.Instant("t", "quantile(\n2, series)", 0);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_EQ(r->warnings[0], "PromQL warning: quantile value should be between 0 and 1, got 2 (2:1)");
}

TEST_F(PromqlEngineRegressionTest, SortInRangeQueryWarns) {
  querier_.Add(Labels{{"__name__", "series"}}, {{0, 1}, {60000, 2}});
  auto r = engine_.Range("t", "sum(sort(series))", 60000, 120000, 60000);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_EQ(r->warnings[0],
            "PromQL warning: sort is ineffective for range queries since results are always "
            "ordered by labels (1:5)");
  r = engine_.Instant("t", "sort(series)", 60000);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->warnings.empty());
}

TEST_F(PromqlEngineRegressionTest, HistogramFractionOverClassicBuckets) {
  querier_.Add(Labels{{"__name__", "h_bucket"}, {"le", "1"}}, {{0, 1}});
  querier_.Add(Labels{{"__name__", "h_bucket"}, {"le", "2"}}, {{0, 3}});
  querier_.Add(Labels{{"__name__", "h_bucket"}, {"le", "+Inf"}}, {{0, 4}});
  Vector v = InstantVector("histogram_fraction(0, 2, h_bucket)", 0);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_DOUBLE_EQ(v[0].v, 0.75);
  EXPECT_FALSE(v[0].labels.Has("__name__"));
  EXPECT_FALSE(v[0].labels.Has("le"));
  v = InstantVector("histogram_fraction(0, 1.5, h_bucket)", 0);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_DOUBLE_EQ(v[0].v, 0.5);  // 1 + half of the (1,2] bucket's 2, out of 4
  v = InstantVector("histogram_fraction(2, 1, h_bucket)", 0);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].v, 0);
}

TEST_F(PromqlEngineRegressionTest, VariadicFunctionsMayOmitTheirLastArgument) {
  querier_.Add(Labels{{"__name__", "m"}, {"dst", "x"}, {"src", "a"}}, {{0, 1}});
  Vector v = InstantVector("label_join(m, \"dst\", \", \")", 0);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_FALSE(v[0].labels.Has("dst"));
  EXPECT_EQ(InstantVector("sort_by_label(m)", 0).size(), 1u);
  EXPECT_EQ(RoundTrip("label_join(m)"),
            "ERROR: parse error at char 1: expected at least 3 argument(s) in call to "
            "\"label_join\", got 1");
  EXPECT_EQ(RoundTrip("round(m, 1, 2)"),
            "ERROR: parse error at char 1: expected at most 2 argument(s) in call to "
            "\"round\", got 3");
}

TEST_F(PromqlEngineRegressionTest, InvalidParametersAreErrors) {
  auto r = engine_.Instant("t", "topk(NaN, non_existent)", 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "Parameter value is NaN");
  r = engine_.Instant("t", "topk(0, non_existent)", 0);
  EXPECT_TRUE(r.ok()) << r.status();
  querier_.Add(Labels{{"__name__", "m"}, {"src", "a"}}, {{0, 1}});
  r = engine_.Instant("t", "label_replace(m, \"\\xff\", \"\", \"src\", \"(.*)\")", 0);
  EXPECT_FALSE(r.ok());
}

TEST_F(PromqlEngineRegressionTest, AggregationPropagatesDelayedNameRemoval) {
  querier_.Add(Labels{{"__name__", "metric_total"}, {"env", "1"}}, {{0, 0}, {60000, 60}});
  querier_.Add(Labels{{"__name__", "other_total"}, {"env", "1"}}, {{0, 0}, {60000, 60}});
  Vector v = InstantVector("sum by (__name__) (rate(metric_total[5m]))", 60000);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_FALSE(v[0].labels.Has("__name__"));
  v = InstantVector("topk(10, sum by (__name__, env) (rate(metric_total[5m])))", 60000);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_FALSE(v[0].labels.Has("__name__"));
  v = InstantVector("sum by (__name__) (metric_total)", 60000);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].labels.Get("__name__"), "metric_total");
  // Two groups whose names are both dropped collide.
  auto r = engine_.Instant("t", "sum by (__name__) (rate({env=\"1\"}[5m]))", 60000);
  EXPECT_FALSE(r.ok());
}

TEST_F(PromqlEngineRegressionTest, MatchingErrorsCountFilteredPairs) {
  querier_.Add(Labels{{"__name__", "many_side"}, {"job", "test"}, {"label", "foo"}}, {{0, 0}});
  querier_.Add(Labels{{"__name__", "many_side"}, {"job", "test"}, {"label", "bar"}}, {{0, 1}});
  querier_.Add(Labels{{"__name__", "one_side"}, {"job", "test"}}, {{0, 1}});
  for (const char* q : {"many_side > on(job) one_side", "many_side >= on(job) one_side"}) {
    auto r = engine_.Instant("t", q, 0);
    ASSERT_FALSE(r.ok()) << q;
    EXPECT_EQ(r.status().message(),
              "multiple matches for labels: many-to-one matching must be explicit "
              "(group_left/group_right)");
  }
  // Duplicates on the "one" side are reported in label order.
  auto r = engine_.Instant("t", "one_side > on() many_side", 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "found duplicate series for the match group {} on the right hand-side of the "
            "operation: [{__name__=\"many_side\", job=\"test\", label=\"bar\"}, "
            "{__name__=\"many_side\", job=\"test\", label=\"foo\"}];many-to-many matching "
            "not allowed: matching labels must be unique on one side");
}

TEST_F(PromqlEngineRegressionTest, FirstOverTimeAndTimestampsOfSamples) {
  querier_.Add(Labels{{"__name__", "m"}}, {{10000, 3}, {20000, 7}, {30000, 7}, {40000, 1}});
  Vector v = InstantVector("first_over_time(m[1m])", 60000);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].v, 3);
  EXPECT_EQ(v[0].labels.Get("__name__"), "m");  // kept, like last_over_time
  v = InstantVector("ts_of_first_over_time(m[1m])", 60000);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].v, 10);
  EXPECT_FALSE(v[0].labels.Has("__name__"));
  EXPECT_EQ(InstantVector("ts_of_last_over_time(m[1m])", 60000).at(0).v, 40);
  EXPECT_EQ(InstantVector("ts_of_max_over_time(m[1m])", 60000).at(0).v, 30);  // newest max
  EXPECT_EQ(InstantVector("ts_of_min_over_time(m[1m])", 60000).at(0).v, 40);
}

TEST_F(PromqlEngineRegressionTest, QueryParameterFunctions) {
  auto r = engine_.Range("t", "range() + step() / 100 + start() * 0 + end() * 0", 10000, 50000, 10000);
  ASSERT_TRUE(r.ok()) << r.status();
  const auto& m = std::get<Matrix>(r->value);
  ASSERT_EQ(m.size(), 1u);
  ASSERT_EQ(m[0].samples.size(), 5u);
  EXPECT_DOUBLE_EQ(m[0].samples[0].value, 40.1);
  r = engine_.Range("t", "end() - start()", 10000, 50000, 10000);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(std::get<Matrix>(r->value)[0].samples[4].value, 40);
  r = engine_.Instant("t", "step()", 0);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(std::get<Scalar>(r->value).v, 0);
  Engine plain(&querier_);
  EXPECT_FALSE(plain.Instant("t", "step()", 0).ok());  // experimental
}

}  // namespace
}  // namespace otelbox::query::promql
