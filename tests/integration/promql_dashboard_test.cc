// Grafana-style dashboard queries over data loaded through remote_write into the real
// binary, checked against values computed by hand.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cmath>

#include "tests/integration/http_client.h"
#include "tests/integration/otelbox_process.h"
#include "tests/integration/test_payloads.h"

namespace otelbox::testing {
namespace {

class PromqlDashboardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(otelbox_.ok()) << otelbox_.error();
    // 40 minutes at a 15 s scrape interval, ending at end_ms_:
    //  http_requests_total: +10 per scrape on instance a, +20 on b (rates 2/3 and 4/3 per s);
    //  req_duration_seconds_bucket: +6 (le=0.1), +9 (le=0.5), +10 (le=+Inf) per scrape.
    prometheus::WriteRequest req;
    std::vector<std::pair<int64_t, double>> a, b, b01, b05, binf;
    for (int i = 0; i <= 160; ++i) {
      const int64_t t = end_ms_ - (160 - i) * 15'000LL;
      a.push_back({t, 10.0 * i});
      b.push_back({t, 20.0 * i});
      b01.push_back({t, 6.0 * i});
      b05.push_back({t, 9.0 * i});
      binf.push_back({t, 10.0 * i});
    }
    AddSeries(&req, {{"__name__", "http_requests_total"}, {"job", "api"}, {"instance", "a"}}, a);
    AddSeries(&req, {{"__name__", "http_requests_total"}, {"job", "api"}, {"instance", "b"}}, b);
    for (auto& [le, points] : {std::pair{"0.1", &b01}, std::pair{"0.5", &b05}, std::pair{"+Inf", &binf}}) {
      AddSeries(&req, {{"__name__", "req_duration_seconds_bucket"}, {"job", "api"}, {"le", le}}, *points);
    }
    auto res = HttpRequest(otelbox_.http(), "POST", "/api/v1/write", SnappyBody(req), RemoteWriteHeaders());
    ASSERT_EQ(res.status, 204) << res.body;
  }

  // The instant query's result; ASSERTs success.
  boost::json::value Instant(const std::string& query) {
    auto res = HttpRequest(otelbox_.http(), "POST", "/api/v1/query",
                           "query=" + UrlEncode(query) + "&time=" + std::to_string(end_ms_ / 1000),
                           {{"Content-Type", "application/x-www-form-urlencoded"}});
    EXPECT_EQ(res.status, 200) << query << ": " << res.body;
    return boost::json::parse(res.body).at("data");
  }

  static double Value(const boost::json::value& sample_pair) {
    return std::stod(std::string(sample_pair.at(1).as_string()));
  }

  const int64_t end_ms_ = (NowMs() / 60'000) * 60'000;  // minute-aligned, like Grafana
  OtelboxProcess otelbox_{{"--ephemeral"}};
};

TEST_F(PromqlDashboardTest, RateSumTopkQuantileSubquery) {
  auto rate = Instant("rate(http_requests_total{instance=\"a\"}[5m])");
  ASSERT_EQ(rate.at("result").as_array().size(), 1u);
  EXPECT_NEAR(Value(rate.at("result").at(0).at("value")), 10.0 / 15, 1e-9);
  EXPECT_FALSE(rate.at("result").at(0).at("metric").as_object().contains("__name__"));

  auto sum = Instant("sum by (job) (rate(http_requests_total[5m]))");
  ASSERT_EQ(sum.at("result").as_array().size(), 1u);
  EXPECT_EQ(sum.at("result").at(0).at("metric").at("job"), "api");
  EXPECT_NEAR(Value(sum.at("result").at(0).at("value")), 2.0, 1e-9);

  auto top = Instant("topk(1, rate(http_requests_total[5m]))");
  ASSERT_EQ(top.at("result").as_array().size(), 1u);
  EXPECT_EQ(top.at("result").at(0).at("metric").at("instance"), "b");

  // Rank 0.5 * (10/15) falls in the first bucket (rate 6/15): 0.1 * (5/15) / (6/15).
  auto q = Instant("histogram_quantile(0.5, sum by (le) (rate(req_duration_seconds_bucket[5m])))");
  ASSERT_EQ(q.at("result").as_array().size(), 1u);
  EXPECT_NEAR(Value(q.at("result").at(0).at("value")), 0.1 * 5 / 6, 1e-9);

  auto sub = Instant("max_over_time(rate(http_requests_total{instance=\"b\"}[1m])[10m:1m])");
  EXPECT_NEAR(Value(sub.at("result").at(0).at("value")), 20.0 / 15, 1e-9);

  auto ratio = Instant("http_requests_total{instance=\"b\"} / ignoring(instance) http_requests_total{instance=\"a\"}");
  EXPECT_NEAR(Value(ratio.at("result").at(0).at("value")), 2.0, 1e-9);
}

TEST_F(PromqlDashboardTest, RangeQueryLikeATimeSeriesPanel) {
  const int64_t start_s = end_ms_ / 1000 - 600;
  auto res = HttpRequest(otelbox_.http(), "POST", "/api/v1/query_range",
                         "query=" + UrlEncode("sum(rate(http_requests_total[5m]))") +
                             "&start=" + std::to_string(start_s) + "&end=" +
                             std::to_string(end_ms_ / 1000) + "&step=60",
                         {{"Content-Type", "application/x-www-form-urlencoded"}});
  ASSERT_EQ(res.status, 200) << res.body;
  auto data = boost::json::parse(res.body).at("data");
  ASSERT_EQ(data.at("resultType"), "matrix");
  auto& values = data.at("result").at(0).at("values").as_array();
  ASSERT_EQ(values.size(), 11u) << "both ends included";
  for (auto& v : values) EXPECT_NEAR(Value(v), 2.0, 1e-9);
  EXPECT_EQ(values.front().at(0).to_number<int64_t>(), start_s);
}

TEST_F(PromqlDashboardTest, ErrorsKeepPrometheusShapes) {
  auto bad = HttpRequest(otelbox_.http(), "POST", "/api/v1/query", "query=" + UrlEncode("sum by (job (rate(x[5m]))"),
                         {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("\"errorType\":\"bad_data\""), std::string::npos) << bad.body;
  auto many = HttpRequest(otelbox_.http(), "POST", "/api/v1/query",
                          "query=" + UrlEncode("http_requests_total + on(job) http_requests_total"),
                          {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(many.status, 422) << many.body;
  EXPECT_NE(many.body.find("\"errorType\":\"execution\""), std::string::npos) << many.body;
}

// Experimental functions are refused unless the flag that Prometheus uses enables them.
TEST(PromqlFeatureFlags, ExperimentalFunctionsNeedEnableFeature) {
  const std::string query = "query=" + UrlEncode("sort_by_label(vector(1), \"a\")") + "&time=10";
  const std::vector<std::pair<std::string, std::string>> form = {
      {"Content-Type", "application/x-www-form-urlencoded"}};
  OtelboxProcess plain({"--ephemeral"});
  ASSERT_TRUE(plain.ok()) << plain.error();
  auto refused = HttpRequest(plain.http(), "POST", "/api/v1/query", query, form);
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_NE(refused.body.find("is not enabled"), std::string::npos) << refused.body;

  OtelboxProcess enabled({"--ephemeral", "--enable-feature=promql-experimental-functions"});
  ASSERT_TRUE(enabled.ok()) << enabled.error();
  auto ok = HttpRequest(enabled.http(), "POST", "/api/v1/query", query, form);
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_NE(ok.body.find("\"1\""), std::string::npos) << ok.body;

  OtelboxProcess bad({"--ephemeral", "--enable-feature=no-such-feature"});
  EXPECT_FALSE(bad.ok());
}

}  // namespace
}  // namespace otelbox::testing
