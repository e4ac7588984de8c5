// OTLP metrics over gRPC, HTTP/protobuf (gzip) and HTTP/JSON, read back translated.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <set>

#include "opentelemetry/proto/collector/metrics/v1/metrics_service.grpc.pb.h"
#include "tests/integration/http_client.h"
#include "tests/integration/otelbox_process.h"
#include "tests/integration/test_payloads.h"

namespace otelbox::testing {
namespace {
namespace collector = opentelemetry::proto::collector::metrics::v1;

class OtlpMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(otelbox_.ok()) << otelbox_.error(); }

  std::set<std::string> SeriesNames(const std::string& job) {
    auto res = HttpGet(otelbox_.http(),
                       "/api/v1/series?match[]=" + UrlEncode("{job=\"" + job + "\"}"));
    EXPECT_EQ(res.status, 200) << res.body;
    std::set<std::string> names;
    const boost::json::value parsed = boost::json::parse(res.body);
    for (auto& s : parsed.at("data").as_array()) {
      names.insert(std::string(s.at("__name__").as_string()));
    }
    return names;
  }

  OtelboxProcess otelbox_{{"--ephemeral"}};
};

const std::set<std::string> kTranslated = {
    "requests_total",
    "http_server_request_duration_seconds_bucket",
    "http_server_request_duration_seconds_count",
    "http_server_request_duration_seconds_sum",
    "target_info",
};

TEST_F(OtlpMetricsTest, Grpc) {
  auto channel = grpc::CreateChannel(otelbox_.otlp_grpc(), grpc::InsecureChannelCredentials());
  auto stub = collector::MetricsService::NewStub(channel);
  grpc::ClientContext ctx;
  collector::ExportMetricsServiceResponse resp;
  auto status = stub->Export(&ctx, OtlpRequest("grpc-svc", NowMs()), &resp);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_FALSE(resp.has_partial_success());
  EXPECT_EQ(SeriesNames("grpc-svc"), kTranslated);

  auto bucket = HttpGet(otelbox_.http(), "/api/v1/query?query=" +
      UrlEncode("http_server_request_duration_seconds_bucket{job=\"grpc-svc\",le=\"1\"}"));
  auto v = boost::json::parse(bucket.body);
  EXPECT_EQ(v.at("data").at("result").at(0).at("value").at(1), "3") << "cumulative bucket count";
  EXPECT_EQ(v.at("data").at("result").at(0).at("metric").at("instance"), "i-1");
}

TEST_F(OtlpMetricsTest, HttpProtobufGzipOnTheOtlpPort) {
  std::string body = Gzip(OtlpRequest("proto-svc", NowMs()).SerializeAsString());
  auto res = HttpRequest(otelbox_.otlp_http(), "POST", "/v1/metrics", body,
                         {{"Content-Type", "application/x-protobuf"}, {"Content-Encoding", "gzip"}});
  ASSERT_EQ(res.status, 200) << res.body;
  collector::ExportMetricsServiceResponse resp;
  ASSERT_TRUE(resp.ParseFromString(res.body));
  EXPECT_FALSE(resp.has_partial_success());
  EXPECT_EQ(SeriesNames("proto-svc"), kTranslated);
}

TEST_F(OtlpMetricsTest, HttpJsonWithHexIdsAndPartialSuccess) {
  std::string t = std::to_string(NowMs() * 1000000);
  // int64 as strings, enums as ints, hex ids in an exemplar, and one delta sum that
  // Prometheus' translation rejects (reported through partial success).
  std::string body = R"({"resourceMetrics":[{"resource":{"attributes":[
      {"key":"service.name","value":{"stringValue":"json-svc"}}]},
    "scopeMetrics":[{"metrics":[
      {"name":"jobs.done","unit":"1","sum":{"aggregationTemporality":2,"isMonotonic":true,
        "dataPoints":[{"timeUnixNano":")" + t + R"(","asInt":"7","exemplars":[{"timeUnixNano":")" + t +
      R"(","asDouble":1,"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174"}]}]}},
      {"name":"deltas","sum":{"aggregationTemporality":1,"isMonotonic":true,
        "dataPoints":[{"timeUnixNano":")" + t + R"(","asInt":"1"}]}}]}]}]})";
  auto res = HttpRequest(otelbox_.http(), "POST", "/v1/metrics", body,
                         {{"Content-Type", "application/json"}});
  ASSERT_EQ(res.status, 200) << res.body;
  auto reply = boost::json::parse(res.body);
  auto& partial = reply.at("partialSuccess");
  EXPECT_EQ(boost::json::value_to<std::string>(partial.at("rejectedDataPoints")), "1") << res.body;
  EXPECT_FALSE(partial.at("errorMessage").as_string().empty());
  EXPECT_EQ(SeriesNames("json-svc"), (std::set<std::string>{"jobs_done_total"}));

  auto ex = HttpRequest(otelbox_.http(), "POST", "/api/v1/query_exemplars",
                        "query=jobs_done_total&start=0&end=" + std::to_string(NowMs() / 1000 + 10),
                        {{"Content-Type", "application/x-www-form-urlencoded"}});
  ASSERT_EQ(ex.status, 200) << ex.body;
  EXPECT_NE(ex.body.find("5b8efff798038103d269b633813fc60c"), std::string::npos) << ex.body;
}

}  // namespace
}  // namespace otelbox::testing
