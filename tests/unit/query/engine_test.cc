#include "query/promql/engine.h"

#include <gtest/gtest.h>

#include <cmath>

#include "tests/unit/query/fake_querier.h"

namespace otelbox::query::promql {
namespace {

using storage::Labels;
using storage::Sample;

class EngineTest : public ::testing::Test {
 protected:
  EngineTest() : engine_(&querier_) {
    // up{job="api"}: a sample every 15 s from t=0 to t=60s.
    querier_.Add(Labels{{"__name__", "up"}, {"job", "api"}},
                 {{0, 1}, {15000, 2}, {30000, 3}, {45000, 4}, {60000, 5}});
    // up{job="db"}: one sample at 10 s then a stale marker at 20 s.
    querier_.Add(Labels{{"__name__", "up"}, {"job", "db"}},
                 {{10000, 7}, {20000, storage::StaleNaN()}});
  }

  testing::FakeQuerier querier_;
  Engine engine_;
};

TEST_F(EngineTest, ScalarArithmetic) {
  auto r = engine_.Instant("t", "1+1", 4000);
  ASSERT_TRUE(r.ok()) << r.status();
  auto* s = std::get_if<Scalar>(&r->value);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->t_ms, 4000);
  EXPECT_EQ(s->v, 2);
  EXPECT_EQ(std::get<Scalar>(engine_.Instant("t", "2*3^2", 0)->value).v, 18);
  EXPECT_EQ(std::get<Scalar>(engine_.Instant("t", "2^3^2", 0)->value).v, 512);
  EXPECT_EQ(std::get<Scalar>(engine_.Instant("t", "-2^2", 0)->value).v, -4);
  EXPECT_EQ(std::get<Scalar>(engine_.Instant("t", "10 % 3 - 1", 0)->value).v, 0);
  EXPECT_EQ(std::get<Scalar>(engine_.Instant("t", "2 > bool 1", 0)->value).v, 1);
  EXPECT_TRUE(std::isinf(std::get<Scalar>(engine_.Instant("t", "1/0", 0)->value).v));
  EXPECT_EQ(querier_.select_calls, 0);
}

TEST_F(EngineTest, StringLiteral) {
  auto r = engine_.Instant("t", "\"hello\"", 1000);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(std::get<String>(r->value).v, "hello");
}

TEST_F(EngineTest, InstantSelectorLookbackAndStaleness) {
  auto r = engine_.Instant("tenant-a", "up", 50000);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(querier_.last_tenant, "tenant-a");
  auto& v = std::get<Vector>(r->value);
  // db's newest sample is a stale marker: no value.
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].labels.Get("job"), "api");
  EXPECT_EQ(v[0].labels.Get("__name__"), "up");  // kept for plain selectors
  EXPECT_EQ(v[0].t_ms, 50000);                   // the evaluation time
  EXPECT_EQ(v[0].v, 4);                          // newest sample <= t

  // Before the stale marker, db has a value.
  r = engine_.Instant("t", "up{job=\"db\"}", 15000);
  ASSERT_EQ(std::get<Vector>(r->value).size(), 1u);
  EXPECT_EQ(std::get<Vector>(r->value)[0].v, 7);

  // Lookback is 5m: (t - 5m, t]. At 60s + 5m the last sample (at 60s) is just out.
  EXPECT_EQ(std::get<Vector>(engine_.Instant("t", "up{job=\"api\"}", 360000)->value).size(), 0u);
  EXPECT_EQ(std::get<Vector>(engine_.Instant("t", "up{job=\"api\"}", 359999)->value).size(), 1u);
}

TEST_F(EngineTest, CustomLookback) {
  Engine short_lookback(&querier_, EngineOptions{.lookback_delta_ms = 10000});
  EXPECT_EQ(std::get<Vector>(short_lookback.Instant("t", "up{job=\"api\"}", 25000)->value).size(),
            0u);
  EXPECT_EQ(std::get<Vector>(short_lookback.Instant("t", "up{job=\"api\"}", 20000)->value).size(),
            1u);
}

TEST_F(EngineTest, Offset) {
  auto r = engine_.Instant("t", "up{job=\"api\"} offset 30s", 60000);
  auto& v = std::get<Vector>(r->value);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].v, 3);
  EXPECT_EQ(v[0].t_ms, 60000);
}

TEST_F(EngineTest, RangeSelector) {
  auto r = engine_.Instant("t", "up[30s]", 60000);
  ASSERT_TRUE(r.ok()) << r.status();
  auto& m = std::get<Matrix>(r->value);
  ASSERT_EQ(m.size(), 1u);  // db only has samples outside (30s, 60s]
  // (30s, 60s]: the sample at 30s is excluded.
  EXPECT_EQ(m[0].samples, (std::vector<Sample>{{45000, 4}, {60000, 5}}));
  EXPECT_EQ(m[0].labels.Get("__name__"), "up");

  r = engine_.Instant("t", "up[30s] offset 15s", 60000);
  EXPECT_EQ(std::get<Matrix>(r->value)[0].samples, (std::vector<Sample>{{30000, 3}, {45000, 4}}));
  // Stale markers are not part of range vectors.
  r = engine_.Instant("t", "up{job=\"db\"}[1m]", 30000);
  EXPECT_EQ(std::get<Matrix>(r->value)[0].samples, (std::vector<Sample>{{10000, 7}}));
}

TEST_F(EngineTest, RangeQuerySteps) {
  auto r = engine_.Range("t", "up", 0, 60000, 20000);
  ASSERT_TRUE(r.ok()) << r.status();
  auto& m = std::get<Matrix>(r->value);
  // db never has a value at 0, 20s, 40s, 60s (nothing yet at 0; stale from 20s): omitted.
  ASSERT_EQ(m.size(), 1u);
  // Steps 0, 20s, 40s, 60s: both ends included.
  EXPECT_EQ(m[0].labels.Get("job"), "api");
  EXPECT_EQ(m[0].samples, (std::vector<Sample>{{0, 1}, {20000, 2}, {40000, 3}, {60000, 5}}));
}

TEST_F(EngineTest, RangeQueryOmitsEmptySeriesAndHandlesStaleness) {
  auto r = engine_.Range("t", "up{job=\"db\"}", 0, 60000, 5000);
  ASSERT_TRUE(r.ok());
  auto& m = std::get<Matrix>(r->value);
  ASSERT_EQ(m.size(), 1u);
  // Visible at 10s and 15s; from 20s the stale marker hides it.
  EXPECT_EQ(m[0].samples, (std::vector<Sample>{{10000, 7}, {15000, 7}}));
  r = engine_.Range("t", "up{job=\"nope\"}", 0, 60000, 5000);
  EXPECT_TRUE(std::get<Matrix>(r->value).empty());
}

TEST_F(EngineTest, RangeQueryScalar) {
  auto r = engine_.Range("t", "1+1", 0, 10000, 5000);
  ASSERT_TRUE(r.ok());
  auto& m = std::get<Matrix>(r->value);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_TRUE(m[0].labels.empty());
  EXPECT_EQ(m[0].samples, (std::vector<Sample>{{0, 2}, {5000, 2}, {10000, 2}}));
}

TEST_F(EngineTest, RangeQueryErrors) {
  auto r = engine_.Range("t", "up[5m]", 0, 60000, 15000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "invalid expression type \"range vector\" for range query, must be Scalar or instant "
            "Vector");
  EXPECT_EQ(engine_.Range("t", "up", 10, 0, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(engine_.Range("t", "up", 0, 10, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(engine_.Range("t", "up", 0, 20000000, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(EngineTest, VectorScalarArithmeticDropsName) {
  auto r = engine_.Instant("t", "up{job=\"api\"} * 2", 60000);
  ASSERT_TRUE(r.ok()) << r.status();
  auto& v = std::get<Vector>(r->value);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].v, 10);
  EXPECT_FALSE(v[0].labels.Has("__name__"));
  r = engine_.Instant("t", "up > 4", 60000);
  ASSERT_EQ(std::get<Vector>(r->value).size(), 1u);
  EXPECT_TRUE(std::get<Vector>(r->value)[0].labels.Has("__name__"));
  r = engine_.Instant("t", "-up{job=\"api\"}", 60000);
  EXPECT_EQ(std::get<Vector>(r->value)[0].v, -5);
}

TEST_F(EngineTest, UnsupportedIsUnimplemented) {
  for (const char* q : {"info(up)"}) {
    auto r = engine_.Instant("t", q, 60000);
    ASSERT_FALSE(r.ok()) << q;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kUnimplemented) << q << r.status();
    EXPECT_NE(r.status().message().find("not supported yet"), std::string::npos);
  }
}

TEST_F(EngineTest, ParseErrorsAndQuerierErrorsPropagate) {
  EXPECT_EQ(engine_.Instant("t", "sum(", 0).status().code(), absl::StatusCode::kInvalidArgument);
  querier_.select_error = absl::UnavailableError("down");
  EXPECT_EQ(engine_.Instant("t", "up", 0).status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace otelbox::query::promql

namespace otelbox::query::promql {
namespace {

// Native histograms through selectors, functions, aggregations and operators.
class EngineHistogramTest : public ::testing::Test {
 protected:
  EngineHistogramTest() : engine_(&querier_, Options()) {
    // A counter histogram every 15 s: count and the one bucket (1,2] grow by 1 each time.
    std::vector<storage::HistogramSample> hs;
    for (int i = 0; i <= 4; ++i) {
      storage::FloatHistogram h;
      h.count = i;
      h.sum = 2.0 * i;
      h.positive_spans = {{1, 1}};
      h.positive_buckets = {static_cast<double>(i)};
      hs.push_back({i * 15000, h});
    }
    querier_.AddHistograms(Labels{{"__name__", "lat_seconds"}, {"job", "a"}}, hs);
    querier_.AddHistograms(Labels{{"__name__", "lat_seconds"}, {"job", "b"}}, hs);
    querier_.Add(Labels{{"__name__", "lat_seconds"}, {"job", "f"}}, {{60000, 3}});
  }
  static EngineOptions Options() {
    EngineOptions o;
    o.enable_delayed_name_removal = true;
    return o;
  }
  testing::FakeQuerier querier_;
  Engine engine_;
};

TEST_F(EngineHistogramTest, SelectorReturnsHistograms) {
  auto r = engine_.Instant("t", "lat_seconds{job=\"a\"}", 60000);
  ASSERT_TRUE(r.ok()) << r.status();
  const auto& v = std::get<Vector>(r->value);
  ASSERT_EQ(v.size(), 1u);
  ASSERT_TRUE(v[0].h.has_value());
  EXPECT_EQ(v[0].h->count, 4);
}

TEST_F(EngineHistogramTest, RateAndHistogramFunctions) {
  auto r = engine_.Instant("t", "histogram_count(rate(lat_seconds{job=\"a\"}[1m]))", 60000);
  ASSERT_TRUE(r.ok()) << r.status();
  const auto& v = std::get<Vector>(r->value);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_FALSE(v[0].h.has_value());
  // Window (0s, 60s]: counts 1..4, an increase of 3 over 45 s, extrapolated by 15 s
  // towards the window start (exactly where the counter would reach 0).
  EXPECT_NEAR(v[0].v, 3.0 * (60.0 / 45.0) / 60.0, 1e-9);
  auto q = engine_.Instant("t", "histogram_quantile(0.5, lat_seconds{job=\"a\"})", 60000);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_NEAR(std::get<Vector>(q->value)[0].v, std::sqrt(2.0), 1e-9);  // middle of (1,2]
}

TEST_F(EngineHistogramTest, SumMixedWithFloatsWarns) {
  auto r = engine_.Instant("t", "sum(lat_seconds{job=~\"a|b\"})", 60000);
  ASSERT_TRUE(r.ok()) << r.status();
  const auto& v = std::get<Vector>(r->value);
  ASSERT_EQ(v.size(), 1u);
  ASSERT_TRUE(v[0].h.has_value());
  EXPECT_EQ(v[0].h->count, 8);
  auto mixed = engine_.Instant("t", "sum(lat_seconds)", 60000);
  ASSERT_TRUE(mixed.ok()) << mixed.status();
  EXPECT_TRUE(std::get<Vector>(mixed->value).empty());
  ASSERT_EQ(mixed->warnings.size(), 1u);
  EXPECT_EQ(mixed->warnings[0],
            "PromQL warning: encountered a mix of histograms and floats for aggregation (1:5)");
}

TEST_F(EngineHistogramTest, OperatorsOnHistograms) {
  auto r = engine_.Instant("t", "lat_seconds{job=\"a\"} * 2 - on(job) lat_seconds", 60000);
  ASSERT_TRUE(r.ok()) << r.status();
  const auto& v = std::get<Vector>(r->value);
  ASSERT_EQ(v.size(), 1u);
  ASSERT_TRUE(v[0].h.has_value());
  EXPECT_EQ(v[0].h->count, 4);
  EXPECT_EQ(v[0].h->counter_reset_hint, storage::CounterResetHint::kGaugeType);
  auto cmp = engine_.Instant("t", "lat_seconds{job=\"a\"} > 1", 60000);
  ASSERT_TRUE(cmp.ok()) << cmp.status();
  EXPECT_TRUE(std::get<Vector>(cmp->value).empty());
  ASSERT_EQ(cmp->infos.size(), 1u);
  EXPECT_EQ(cmp->infos[0],
            "PromQL info: incompatible sample types encountered for binary operator \">\": "
            "histogram > float (1:1)");
}

TEST_F(EngineHistogramTest, RangeQueryKeepsHistogramPoints) {
  auto r = engine_.Range("t", "lat_seconds{job=\"a\"}", 0, 60000, 30000);
  ASSERT_TRUE(r.ok()) << r.status();
  const auto& m = std::get<Matrix>(r->value);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_TRUE(m[0].samples.empty());
  ASSERT_EQ(m[0].histograms.size(), 3u);
  EXPECT_EQ(m[0].histograms[2].h.count, 4);
}

}  // namespace
}  // namespace otelbox::query::promql
