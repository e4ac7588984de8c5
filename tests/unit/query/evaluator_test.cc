// Table-driven tests of the PromQL evaluator with hand-computed expectations.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>
#include <random>

#include "query/promql/parser.h"

#include "query/promql/engine.h"
#include "tests/unit/query/fake_querier.h"

namespace otelbox::query::promql {
namespace {

using storage::Labels;
using storage::Sample;

constexpr int64_t kS = 1000;

class EvaluatorTest : public ::testing::Test {
 protected:
  EvaluatorTest() : engine_(&querier_, Options()) {
    // Counter: +10 every 15 s from 0 to 300 s.
    std::vector<Sample> c;
    for (int k = 0; k <= 20; ++k) c.push_back({k * 15 * kS, 10.0 * k});
    querier_.Add(Labels{{"__name__", "http_requests_total"}, {"job", "api"}}, c);
    // s = t in seconds, every 10 s from 0 to 300 s.
    std::vector<Sample> s;
    for (int k = 0; k <= 30; ++k) s.push_back({k * 10 * kS, 10.0 * k});
    querier_.Add(Labels{{"__name__", "s"}}, s);
    // Gappy counters for extrapolation.
    querier_.Add(Labels{{"__name__", "g_total"}}, {{100 * kS, 5}, {130 * kS, 8}, {160 * kS, 11}});
    querier_.Add(Labels{{"__name__", "z_total"}}, {{100 * kS, 1}, {130 * kS, 4}, {160 * kS, 7}});
    // A counter reset at 30 s.
    querier_.Add(Labels{{"__name__", "r_total"}},
                 {{0, 10}, {15 * kS, 20}, {30 * kS, 5}, {45 * kS, 15}});
    // Classic histogram buckets (one sample at t=0).
    for (auto [le, v] : std::vector<std::pair<const char*, double>>{
             {"0.1", 10}, {"0.5", 30}, {"1", 40}, {"+Inf", 40}}) {
      querier_.Add(Labels{{"__name__", "h_bucket"}, {"le", le}}, {{0, v}});
    }
    for (auto [le, v] : std::vector<std::pair<const char*, double>>{
             {"1", 10}, {"2", 5}, {"+Inf", 10}}) {
      querier_.Add(Labels{{"__name__", "nm_bucket"}, {"le", le}}, {{0, v}});
    }
    // Prometheus' vector matching documentation example.
    auto err = [&](const char* method, const char* code, double v) {
      querier_.Add(Labels{{"__name__", "errors"}, {"method", method}, {"code", code}}, {{0, v}});
    };
    err("get", "500", 24);
    err("get", "404", 30);
    err("put", "501", 3);
    err("post", "500", 6);
    err("post", "404", 21);
    auto req = [&](const char* method, double v) {
      querier_.Add(Labels{{"__name__", "requests"}, {"method", method}}, {{0, v}});
    };
    req("get", 600);
    req("del", 34);
    req("post", 120);
    querier_.Add(Labels{{"__name__", "build_info"}, {"method", "get"}, {"version", "1.2"}},
                 {{0, 1}});
  }

  static EngineOptions Options() {
    EngineOptions o;
    o.enable_experimental = true;
    return o;
  }

  // Instant vector as "labels -> value".
  std::map<std::string, double> Vec(const std::string& q, int64_t t_ms) {
    auto r = engine_.Instant("t", q, t_ms);
    EXPECT_TRUE(r.ok()) << q << ": " << r.status();
    std::map<std::string, double> out;
    if (!r.ok()) return out;
    auto* v = std::get_if<Vector>(&r->value);
    EXPECT_NE(v, nullptr) << q;
    if (v == nullptr) return out;
    for (const auto& e : *v) out[e.labels.ToString()] = e.v;
    return out;
  }
  double One(const std::string& q, int64_t t_ms) {
    auto r = engine_.Instant("t", q, t_ms);
    EXPECT_TRUE(r.ok()) << q << ": " << r.status();
    if (!r.ok()) return NAN;
    if (auto* s = std::get_if<Scalar>(&r->value)) return s->v;
    auto& v = std::get<Vector>(r->value);
    EXPECT_EQ(v.size(), 1u) << q;
    return v.empty() ? NAN : v[0].v;
  }
  absl::Status Err(const std::string& q, int64_t t_ms) {
    return engine_.Instant("t", q, t_ms).status();
  }

  testing::FakeQuerier querier_;
  Engine engine_;
};

struct ValueCase {
  const char* query;
  int64_t t_s;
  double want;
};

TEST_F(EvaluatorTest, SingleValues) {
  const ValueCase cases[] = {
      // rate/increase/delta: Prometheus' extrapolatedRate, hand-computed.
      {"rate(http_requests_total[1m])", 300, 2.0 / 3},
      {"increase(http_requests_total[1m])", 300, 40},
      {"increase(g_total[2m])", 200, 9.5},   // start 20 s, end extrapolated by half (15 s)
      {"rate(g_total[2m])", 200, 9.5 / 120},
      {"delta(g_total[2m])", 200, 9.5},
      {"increase(z_total[2m])", 200, 8.5},   // zero point of the counter limits the start
      {"increase(r_total[1m])", 45, 25.0 * 60 / 45},
      {"resets(r_total[1m])", 45, 1},
      {"changes(r_total[1m])", 45, 3},
      {"irate(r_total[1m])", 45, 10.0 / 15},
      {"idelta(r_total[1m])", 45, 10},
      {"deriv(s[1m])", 300, 1},
      {"predict_linear(s[1m], 100)", 300, 400},
      // Windows are left-open: (240 s, 300 s] holds 250..300.
      {"count_over_time(s[1m])", 300, 6},
      {"sum_over_time(s[1m])", 300, 250 + 260 + 270 + 280 + 290 + 300},
      {"avg_over_time(s[1m])", 300, 275},
      {"min_over_time(s[1m])", 300, 250},
      {"max_over_time(s[1m])", 300, 300},
      {"last_over_time(s[1m])", 295, 290},
      {"present_over_time(s[1m])", 300, 1},
      {"quantile_over_time(0.5, s[1m])", 300, 275},
      {"stdvar_over_time(s[30s])", 300, 200.0 / 3},  // 280 290 300
      {"mad_over_time(s[30s])", 300, 10},
      // Subqueries: steps aligned to absolute multiples of the step.
      {"count_over_time(s[1m:20s])", 95, 3},  // 40, 60, 80
      {"sum_over_time(s[1m:20s])", 95, 180},
      {"count_over_time(s[1m:])", 95, 1},     // default step 1m: 60 only
      {"max_over_time(rate(http_requests_total[1m])[2m:30s])", 300, 2.0 / 3},
      // offset and @.
      {"s offset 30s", 100, 70},
      {"s offset -30s", 100, 130},
      {"s @ 100", 300, 100},
      {"s @ 100 offset 20s", 300, 80},
      {"sum_over_time(s[30s] @ 100)", 5, 80 + 90 + 100},
      // histogram_quantile over classic buckets.
      {"histogram_quantile(0.5, h_bucket)", 10, 0.3},
      {"histogram_quantile(0.9, h_bucket)", 10, 0.8},
      {"histogram_quantile(0.99, h_bucket)", 10, 0.98},
      {"histogram_quantile(0.5, nm_bucket)", 10, 0.5},  // monotonicity fixed
      // Aggregations.
      {"sum(requests)", 10, 754},
      {"avg(requests)", 10, 754.0 / 3},
      {"count(requests)", 10, 3},
      {"min(requests)", 10, 34},
      {"max(requests)", 10, 600},
      {"group(requests)", 10, 1},
      {"quantile(0.5, requests)", 10, 120},
      {"quantile(0.25, requests)", 10, 77},
      {"stdvar(requests)", 10, ((600 - 754.0 / 3) * (600 - 754.0 / 3) +
                                (34 - 754.0 / 3) * (34 - 754.0 / 3) +
                                (120 - 754.0 / 3) * (120 - 754.0 / 3)) / 3},
      {"bottomk(1, requests)", 10, 34},
      // Functions.
      {"scalar(requests{method=\"get\"})", 10, 600},
      {"time()", 10, 10},
      {"hour(vector(18060))", 0, 5},
      {"minute(vector(18060))", 0, 1},
      {"day_of_week(vector(0))", 0, 4},
      {"days_in_month(vector(1707000000))", 0, 29},
      {"day_of_year(vector(86400 * 40))", 0, 41},
      {"year()", 0, 1970},
      {"month(vector(1707000000))", 0, 2},
      {"round(vector(2.345), 0.1)", 0, 2.3},
      {"clamp(vector(5), 0, 3)", 0, 3},
      {"clamp_min(vector(-5), 0)", 0, 0},
      {"sgn(vector(-2))", 0, -1},
      {"timestamp(s)", 95, 90},
      {"timestamp(s offset 20s)", 95, 70},
      {"abs(-s)", 100, 100},
      {"1 - s < 0", 100, -99},
      {"1 < bool s", 100, 1},
      {"s > 200", 250, 250},
      {"pi() * 0 + 2 ^ 3", 0, 8},
      {"double_exponential_smoothing(s[1m], 0.5, 0.5)", 300, 300},
  };
  for (const auto& c : cases) {
    double got = One(c.query, c.t_s * kS);
    EXPECT_NEAR(got, c.want, 1e-9 * std::max(1.0, std::fabs(c.want))) << c.query << " @ " << c.t_s;
  }
}

TEST_F(EvaluatorTest, NoValue) {
  for (const char* q : {"rate(http_requests_total[10s])",  // one sample in (290, 300]
                        "s > 1000", "bottomk(0, requests)", "absent(s)",
                        "absent_over_time(s[1m])", "clamp(s, 5, 1)"}) {
    EXPECT_TRUE(Vec(q, 300 * kS).empty()) << q;
  }
}

TEST_F(EvaluatorTest, VectorMatching) {
  using M = std::map<std::string, double>;
  EXPECT_EQ(Vec("errors{code=\"500\"} / ignoring(code) requests", 0),
            (M{{"{method=\"get\"}", 0.04}, {"{method=\"post\"}", 0.05}}));
  EXPECT_EQ(Vec("errors / ignoring(code) group_left requests", 0),
            (M{{"{code=\"404\", method=\"get\"}", 0.05},
               {"{code=\"404\", method=\"post\"}", 0.175},
               {"{code=\"500\", method=\"get\"}", 0.04},
               {"{code=\"500\", method=\"post\"}", 0.05}}));
  EXPECT_EQ(Vec("requests / on(method) group_right errors", 0).size(), 4u);
  EXPECT_EQ(Vec("requests / on(method) group_right errors", 0).at("{code=\"404\", method=\"post\"}"),
            120.0 / 21);
  // group_left(label) copies labels from the "one" side.
  EXPECT_EQ(Vec("requests * on(method) group_left(version) build_info", 0),
            (M{{"{method=\"get\", version=\"1.2\"}", 600}}));
  // Comparison without bool filters and keeps the name; with bool drops it.
  EXPECT_EQ(Vec("requests > on(method) errors{code=\"500\"}", 0),
            (M{{"{method=\"get\"}", 600}, {"{method=\"post\"}", 120}}));
  EXPECT_EQ(Vec("requests > bool ignoring(code) errors{code=\"404\"}", 0),
            (M{{"{method=\"get\"}", 1}, {"{method=\"post\"}", 1}}));
  EXPECT_EQ(Vec("requests > ignoring(code) errors{code=\"404\"}", 0).count(
                "{__name__=\"requests\", method=\"get\"}"),
            1u);
  // Set operators.
  EXPECT_EQ(Vec("requests and on(method) errors", 0).size(), 2u);
  EXPECT_EQ(Vec("requests unless on(method) errors", 0),
            (M{{"{__name__=\"requests\", method=\"del\"}", 34}}));
  EXPECT_EQ(Vec("requests or on(method) errors", 0).size(), 4u);  // + put
  EXPECT_EQ(Vec("requests{method=\"get\"} or errors{method=\"get\"}", 0).size(), 3u);

  auto st = Err("errors / ignoring(code) requests", 0);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(st.message(),
            "multiple matches for labels: many-to-one matching must be explicit "
            "(group_left/group_right)");
  st = Err("requests / on(method) group_left errors", 0);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(st.message().rfind("found duplicate series for the match group {method=\"get\"} on "
                               "the right hand-side of the operation: [",
                               0),
            0u)
      << st;
  EXPECT_NE(st.message().find(";many-to-many matching not allowed: matching labels must be "
                              "unique on one side"),
            std::string::npos);
  EXPECT_EQ(Err("-{__name__=~\"g_total|z_total\"}", 100 * kS).message(),
            "vector cannot contain metrics with the same labelset");
  EXPECT_EQ(Err("rate({__name__=~\"g_total|z_total\"}[1m])", 130 * kS).message(),
            "vector cannot contain metrics with the same labelset");
}

TEST_F(EvaluatorTest, AggregationLabelsAndOrder) {
  using M = std::map<std::string, double>;
  EXPECT_EQ(Vec("sum by (method) (errors)", 0),
            (M{{"{method=\"get\"}", 54}, {"{method=\"post\"}", 27}, {"{method=\"put\"}", 3}}));
  EXPECT_EQ(Vec("max without (method) (errors)", 0),
            (M{{"{code=\"404\"}", 30}, {"{code=\"500\"}", 24}, {"{code=\"501\"}", 3}}));
  EXPECT_EQ(Vec("count_values(\"v\", requests)", 0),
            (M{{"{v=\"120\"}", 1}, {"{v=\"34\"}", 1}, {"{v=\"600\"}", 1}}));
  EXPECT_EQ(Vec("count_values by (method) (\"code\", errors)", 0).size(), 5u);
  // topk keeps the full labels and answers largest first in instant queries.
  auto r = engine_.Instant("t", "topk(2, requests)", 0);
  ASSERT_TRUE(r.ok());
  auto& v = std::get<Vector>(r->value);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].v, 600);
  EXPECT_EQ(v[0].labels.Get("__name__"), "requests");
  EXPECT_EQ(v[1].v, 120);
  r = engine_.Instant("t", "sort_desc(requests)", 0);
  EXPECT_EQ(std::get<Vector>(r->value)[0].v, 600);
  r = engine_.Instant("t", "sort(requests)", 0);
  EXPECT_EQ(std::get<Vector>(r->value)[0].v, 34);
  r = engine_.Instant("t", "sort_by_label_desc(requests, \"method\")", 0);
  EXPECT_EQ(std::get<Vector>(r->value)[0].labels.Get("method"), "post");
}

TEST_F(EvaluatorTest, LabelsAndNames) {
  using M = std::map<std::string, double>;
  EXPECT_EQ(Vec("label_replace(requests{method=\"get\"}, \"foo\", \"$1-${2}x\", \"method\", "
                "\"(g)(.*)\")",
                0),
            (M{{"{__name__=\"requests\", foo=\"g-etx\", method=\"get\"}", 600}}));
  EXPECT_EQ(Vec("label_replace(requests{method=\"get\"}, \"foo\", \"$1\", \"method\", \"x(.*)\")",
                0),
            (M{{"{__name__=\"requests\", method=\"get\"}", 600}}));
  EXPECT_EQ(Vec("label_join(errors{method=\"put\"}, \"j\", \"-\", \"method\", \"code\")", 0),
            (M{{"{__name__=\"errors\", code=\"501\", j=\"put-501\", method=\"put\"}", 3}}));
  EXPECT_EQ(Err("label_replace(requests, \"foo\", \"$1\", \"method\", \"(\")", 0).code(),
            absl::StatusCode::kFailedPrecondition);
  // absent() takes its labels from equality matchers.
  EXPECT_EQ(Vec("absent(nope{job=\"x\", a=~\"y\", b=\"1\", b=\"2\"})", 0), (M{{"{job=\"x\"}", 1}}));
  EXPECT_EQ(Vec("absent_over_time(nope{job=\"x\"}[1m])", 0), (M{{"{job=\"x\"}", 1}}));
  // Functions drop the name, last_over_time keeps it.
  EXPECT_EQ(Vec("rate(http_requests_total[1m])", 300 * kS).begin()->first, "{job=\"api\"}");
  EXPECT_EQ(Vec("last_over_time(s[1m])", 300 * kS).begin()->first, "{__name__=\"s\"}");
}

TEST_F(EvaluatorTest, RangeVectorAndSubqueryResults) {
  auto r = engine_.Instant("t", "s[1m:20s]", 95 * kS);
  ASSERT_TRUE(r.ok()) << r.status();
  auto& m = std::get<Matrix>(r->value);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].samples,
            (std::vector<Sample>{{40 * kS, 40}, {60 * kS, 60}, {80 * kS, 80}}));
  r = engine_.Instant("t", "s[25s] @ 100", 300 * kS);
  EXPECT_EQ(std::get<Matrix>(r->value)[0].samples,
            (std::vector<Sample>{{80 * kS, 80}, {90 * kS, 90}, {100 * kS, 100}}));
}

TEST_F(EvaluatorTest, RangeQueryWithAtStartEnd) {
  auto values = [&](const std::string& q) {
    auto r = engine_.Range("t", q, 100 * kS, 200 * kS, 50 * kS);
    EXPECT_TRUE(r.ok()) << q << r.status();
    std::vector<double> out;
    if (!r.ok()) return out;
    for (const auto& p : std::get<Matrix>(r->value).at(0).samples) out.push_back(p.value);
    return out;
  };
  EXPECT_EQ(values("s @ end()"), (std::vector<double>{200, 200, 200}));
  EXPECT_EQ(values("s @ start()"), (std::vector<double>{100, 100, 100}));
  EXPECT_EQ(values("s offset 10s"), (std::vector<double>{90, 140, 190}));
  EXPECT_EQ(values("time()"), (std::vector<double>{100, 150, 200}));
  EXPECT_EQ(values("sum_over_time(s[20s:10s])"),
            (std::vector<double>{90 + 100, 140 + 150, 190 + 200}));
}

TEST_F(EvaluatorTest, SelectOncePerSelector) {
  querier_.select_calls = 0;
  auto r = engine_.Range("t", "rate(http_requests_total[1m]) + on() group_left s", 0, 300 * kS,
                         5 * kS);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(querier_.select_calls, 2);
  EXPECT_EQ(std::get<Matrix>(r->value).size(), 1u);
  querier_.select_calls = 0;
  r = engine_.Range("t", "max_over_time(rate(http_requests_total[1m])[2m:15s])", 0, 300 * kS,
                    kS);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(querier_.select_calls, 1);
  // The whole range needed, once: from the first subquery step (-105 s) minus 1m,
  // left-open, to the end.
  EXPECT_EQ(querier_.last_end_ms, 300 * kS);
  EXPECT_EQ(querier_.last_start_ms, -165 * kS + 1);
}

TEST_F(EvaluatorTest, LimitsAndFlags) {
  Engine small(&querier_, EngineOptions{.max_samples = 10});
  auto st = small.Instant("t", "s", 300 * kS).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(st.message(),
            "query processing would load too many samples into memory in query execution");
  Engine hurried(&querier_, EngineOptions{.timeout_ms = -1});
  st = hurried.Range("t", "sum(s)", 0, 300 * kS, kS).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(st.message(), "query timed out in expression evaluation");
  Engine plain(&querier_);
  EXPECT_EQ(plain.Instant("t", "sort_by_label(s, \"a\")", 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(plain.Instant("t", "limitk(1, s)", 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Err("info(s)", 0).code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(Err("double_exponential_smoothing(s[1m], 1, 0.5)", 300 * kS).message(),
            "invalid smoothing factor. Expected: 0 < sf < 1, got: 1.000000");
}

TEST_F(EvaluatorTest, DelayedNameRemoval) {
  EngineOptions o;
  o.enable_delayed_name_removal = true;
  Engine delayed(&querier_, o);
  // Aggregating by __name__ still sees the name, but the result drops it at the end
  // (Prometheus 3, name_label_dropping.test); label_replace onto __name__ keeps it.
  auto r = delayed.Instant("t", "sum by (__name__) (rate(http_requests_total[1m]))", 300 * kS);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(std::get<Vector>(r->value).at(0).labels.Has("__name__"));
  r = delayed.Instant("t",
                      "label_replace(sum by (__name__) (rate(http_requests_total[1m])), "
                      "\"__name__\", \"$1\", \"__name__\", \"(.+)\")",
                      300 * kS);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(std::get<Vector>(r->value).at(0).labels.Get("__name__"), "http_requests_total");
  r = delayed.Instant("t", "rate(http_requests_total[1m])", 300 * kS);
  EXPECT_FALSE(std::get<Vector>(r->value).at(0).labels.Has("__name__"));
}

TEST_F(EvaluatorTest, Annotations) {
  auto r = engine_.Instant("t", "rate(s[1m])", 300 * kS);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->infos.size(), 1u);
  EXPECT_EQ(r->infos[0],
            "PromQL info: metric might not be a counter, name does not end in "
            "_total/_sum/_count/_bucket: \"s\" (1:6)");
  r = engine_.Instant("t", "histogram_quantile(0.5, nm_bucket)", 0);
  EXPECT_EQ(r->infos.size(), 1u);
}

// Random well-typed-ish compositions: whatever parses must evaluate to a value or a
// Status, never crash (instant and range).
TEST_F(EvaluatorTest, FuzzEvaluationNeverCrashes) {
  std::mt19937 rng(7);
  const std::vector<std::string> vectors = {
      "s", "requests", "errors", "h_bucket", "nope", "r_total offset -1m", "s @ 50",
      "s @ end()", "vector(1)", "-s", "(s)", "g_total"};
  const std::vector<std::string> ranges = {"s[1m]", "r_total[30s]", "s[1m:15s]", "nope[5m]",
                                           "errors[2m] offset 1m", "(s)[90s:]"};
  const std::vector<std::string> scalars = {"1", "0", "-1", "0.5", "NaN", "Inf", "time()",
                                            "scalar(s)", "2"};
  const std::vector<std::string> range_fns = {
      "rate", "increase", "delta", "irate", "idelta", "changes", "resets", "deriv",
      "avg_over_time", "sum_over_time", "min_over_time", "max_over_time", "count_over_time",
      "last_over_time", "present_over_time", "stddev_over_time", "stdvar_over_time",
      "mad_over_time", "absent_over_time"};
  const std::vector<std::string> vec_fns = {
      "abs", "ceil", "floor", "exp", "sqrt", "ln", "log2", "sgn", "sort", "sort_desc", "absent",
      "timestamp", "hour", "year", "days_in_month", "acosh", "deg", "round"};
  const std::vector<std::string> aggs = {"sum", "avg", "min", "max", "count", "group",
                                         "stddev", "stdvar"};
  const std::vector<std::string> ops = {"+", "-", "*", "/", "%", "^", "atan2", "==", "!=", ">",
                                        "<", ">=", "<=", "and", "or", "unless", "> bool"};
  auto pick = [&](const std::vector<std::string>& v) { return v[rng() % v.size()]; };
  std::function<std::string(int)> gen = [&](int depth) -> std::string {
    if (depth == 0) return rng() % 4 == 0 ? pick(scalars) : pick(vectors);
    switch (rng() % 9) {
      case 0: return pick(range_fns) + "(" + pick(ranges) + ")";
      case 1: return pick(vec_fns) + "(" + gen(depth - 1) + ")";
      case 2: return pick(aggs) + " by (method) (" + gen(depth - 1) + ")";
      case 3: return "topk(" + pick(scalars) + ", " + gen(depth - 1) + ")";
      case 4: return "quantile(" + pick(scalars) + ", " + gen(depth - 1) + ")";
      case 5:
        return gen(depth - 1) + " " + pick(ops) + (rng() % 2 ? " on(method) " : " ") +
               gen(depth - 1);
      case 6: return "histogram_quantile(" + pick(scalars) + ", " + gen(depth - 1) + ")";
      case 7: return "max_over_time((" + gen(depth - 1) + ")[1m:20s])";
      default:
        return "label_replace(" + gen(depth - 1) + ", \"m\", \"$1\", \"method\", \"(.*)\")";
    }
  };
  int parsed = 0;
  for (int i = 0; i < 1500; ++i) {
    std::string q = gen(static_cast<int>(rng() % 4));
    if (!ParseExpr(q).ok()) continue;
    ++parsed;
    (void)engine_.Instant("t", q, static_cast<int64_t>(rng() % 400) * kS);
    (void)engine_.Range("t", q, 0, 300 * kS, 30 * kS);
  }
  EXPECT_GT(parsed, 500);
}

}  // namespace
}  // namespace otelbox::query::promql
