// Prometheus remote_write in, Prometheus read API out.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <set>

#include "tests/integration/http_client.h"
#include "tests/integration/otelbox_process.h"
#include "tests/integration/test_payloads.h"

namespace otelbox::testing {
namespace {

class RemoteWriteTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(otelbox_.ok()) << otelbox_.error(); }

  boost::json::value GetJson(const std::string& target, int want_status = 200) {
    auto res = HttpGet(otelbox_.http(), target);
    EXPECT_EQ(res.status, want_status) << target << ": " << res.body;
    return boost::json::parse(res.body);
  }

  OtelboxProcess otelbox_{{"--ephemeral"}};
};

TEST_F(RemoteWriteTest, WrittenSeriesAreReadBackThroughThePrometheusApi) {
  const int64_t t0 = NowMs() - 60'000;
  prometheus::WriteRequest req;
  AddSeries(&req, {{"__name__", "node_cpu_seconds_total"}, {"job", "node"}, {"instance", "a:9100"}, {"cpu", "0"}},
            {{t0, 10}, {t0 + 15'000, 12.5}, {t0 + 30'000, 15}});
  AddSeries(&req, {{"__name__", "node_cpu_seconds_total"}, {"job", "node"}, {"instance", "b:9100"}, {"cpu", "0"}},
            {{t0, 1}, {t0 + 30'000, 2}});
  AddSeries(&req, {{"__name__", "up"}, {"job", "node"}, {"instance", "a:9100"}}, {{t0 + 30'000, 1}});
  auto* md = req.add_metadata();
  md->set_type(prometheus::MetricMetadata::COUNTER);
  md->set_metric_family_name("node_cpu_seconds_total");
  md->set_help("Seconds the CPUs spent in each mode.");
  auto res = HttpRequest(otelbox_.http(), "POST", "/api/v1/write", SnappyBody(req), RemoteWriteHeaders());
  ASSERT_EQ(res.status, 204) << res.body;

  auto series = GetJson("/api/v1/series?match[]=" + UrlEncode("node_cpu_seconds_total{instance=~\"a.*\"}"));
  ASSERT_EQ(series.at("status"), "success");
  auto& list = series.at("data").as_array();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].at("instance"), "a:9100");
  EXPECT_EQ(list[0].at("__name__"), "node_cpu_seconds_total");

  auto labels = GetJson("/api/v1/labels");
  std::set<std::string> names;
  for (auto& v : labels.at("data").as_array()) names.insert(std::string(v.as_string()));
  EXPECT_EQ(names, (std::set<std::string>{"__name__", "cpu", "instance", "job"}));

  auto values = GetJson("/api/v1/label/__name__/values");
  EXPECT_EQ(values.at("data"), boost::json::parse(R"(["node_cpu_seconds_total","up"])"));

  // Instant query at the last sample: newest value within the 5m lookback.
  std::string at = std::to_string((t0 + 30'000) / 1000.0);
  auto vec = GetJson("/api/v1/query?query=" + UrlEncode("node_cpu_seconds_total{instance!=\"b:9100\"}") + "&time=" + at);
  ASSERT_EQ(vec.at("data").at("resultType"), "vector");
  ASSERT_EQ(vec.at("data").at("result").as_array().size(), 1u);
  EXPECT_EQ(vec.at("data").at("result").at(0).at("value").at(1), "15");

  // Range query across the three samples.
  std::string range = "&start=" + std::to_string(t0 / 1000.0) + "&end=" + at + "&step=15";
  auto mat = GetJson("/api/v1/query_range?query=" + UrlEncode("node_cpu_seconds_total{instance=\"a:9100\"}") + range);
  ASSERT_EQ(mat.at("data").at("resultType"), "matrix");
  auto& values_a = mat.at("data").at("result").at(0).at("values").as_array();
  ASSERT_EQ(values_a.size(), 3u);
  EXPECT_EQ(values_a[1].at(1), "12.5");

  auto meta = GetJson("/api/v1/metadata");
  EXPECT_EQ(meta.at("data").at("node_cpu_seconds_total").at(0).at("type"), "counter");

  // Another tenant sees nothing of the default tenant's data.
  auto other = HttpRequest(otelbox_.http(), "GET", "/api/v1/label/__name__/values", "",
                           {{"X-Scope-OrgID", "team-b"}});
  EXPECT_EQ(boost::json::parse(other.body).at("data").as_array().size(), 0u);
}

TEST_F(RemoteWriteTest, OutOfOrderBackfillAndDuplicatesAreAccepted) {
  const int64_t now = NowMs();
  const LabelPairs labels = {{"__name__", "backfilled"}, {"job", "ci"}};
  for (int64_t t : std::vector<int64_t>{now - 1000, now - 3 * 86400000LL, now - 2000, now - 1000}) {
    prometheus::WriteRequest req;
    AddSeries(&req, labels, {{t, static_cast<double>(t % 1000)}});
    auto res = HttpRequest(otelbox_.http(), "POST", "/api/v1/write", SnappyBody(req), RemoteWriteHeaders());
    ASSERT_EQ(res.status, 204) << res.body;
  }
  // A raw range selector in an instant query returns every stored sample.
  auto m = GetJson("/api/v1/query?query=" + UrlEncode("backfilled[4d]") + "&time=" + std::to_string(now / 1000.0));
  auto& points = m.at("data").at("result").at(0).at("values").as_array();
  EXPECT_EQ(points.size(), 3u) << boost::json::serialize(m);
}

TEST_F(RemoteWriteTest, SamplesOlderThanRetentionAreRejectedAndNothingIsWritten) {
  prometheus::WriteRequest req;
  AddSeries(&req, {{"__name__", "fresh"}}, {{NowMs(), 1}});
  AddSeries(&req, {{"__name__", "ancient"}}, {{NowMs() - 400LL * 86'400'000, 1}});
  auto res = HttpRequest(otelbox_.http(), "POST", "/api/v1/write", SnappyBody(req), RemoteWriteHeaders());
  EXPECT_EQ(res.status, 400);
  EXPECT_NE(res.body.find("retention"), std::string::npos) << res.body;
  auto names = GetJson("/api/v1/label/__name__/values");
  EXPECT_EQ(names.at("data").as_array().size(), 0u) << "a rejected request writes nothing";
}

}  // namespace
}  // namespace otelbox::testing
