// Bad input on every ingest path gets the peer's error and the server keeps serving.

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <future>

#include "tests/integration/http_client.h"
#include "tests/integration/otelbox_process.h"
#include "tests/integration/test_payloads.h"

namespace otelbox::testing {
namespace {

class MalformedInputTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(otelbox_.ok()) << otelbox_.error(); }
  void TearDown() override {
    EXPECT_EQ(HttpGet(otelbox_.http(), "/ready").status, 200) << "server still serving";
  }
  HttpResult Post(const std::string& where, const std::string& path, const std::string& body,
                  std::vector<std::pair<std::string, std::string>> headers) {
    return HttpRequest(where, "POST", path, body, headers);
  }
  // 64 KiB body limit so the oversized cases stay small.
  OtelboxProcess otelbox_{{"--ephemeral", "--max-body-bytes", "65536"}};
};

TEST_F(MalformedInputTest, RemoteWrite) {
  prometheus::WriteRequest good;
  AddSeries(&good, {{"__name__", "x"}}, {{NowMs(), 1}});
  std::string raw = good.SerializeAsString();

  auto bad_snappy = Post(otelbox_.http(), "/api/v1/write", "definitely not snappy", RemoteWriteHeaders());
  EXPECT_EQ(bad_snappy.status, 400);
  EXPECT_FALSE(bad_snappy.body.empty());

  auto truncated = Post(otelbox_.http(), "/api/v1/write", Snappy(raw.substr(0, raw.size() - 3)), RemoteWriteHeaders());
  EXPECT_EQ(truncated.status, 400) << truncated.body;
  EXPECT_FALSE(truncated.body.empty());

  prometheus::WriteRequest bad_label;
  AddSeries(&bad_label, {{"__name__", "x"}, {"bad-label", "v"}}, {{NowMs(), 1}});
  auto bad_name = Post(otelbox_.http(), "/api/v1/write", SnappyBody(bad_label), RemoteWriteHeaders());
  EXPECT_EQ(bad_name.status, 400);
  EXPECT_NE(bad_name.body.find("bad-label"), std::string::npos) << bad_name.body;

  prometheus::WriteRequest big;
  for (int i = 0; i < 4000; ++i) AddSeries(&big, {{"__name__", "big"}, {"i", std::to_string(i)}}, {{NowMs(), i}});
  auto oversized = Post(otelbox_.http(), "/api/v1/write", SnappyBody(big), RemoteWriteHeaders());
  EXPECT_EQ(oversized.status, 413);

  auto get = HttpGet(otelbox_.http(), "/api/v1/write");
  EXPECT_EQ(get.status, 405);
  auto names = HttpGet(otelbox_.http(), "/api/v1/label/__name__/values");
  EXPECT_EQ(names.body.find("\"x\""), std::string::npos) << "nothing half-written: " << names.body;
}

TEST_F(MalformedInputTest, OtlpHttp) {
  std::string raw = OtlpRequest("svc", NowMs()).SerializeAsString();
  const std::vector<std::pair<std::string, std::string>> proto = {{"Content-Type", "application/x-protobuf"}};
  const std::vector<std::pair<std::string, std::string>> json = {{"Content-Type", "application/json"}};

  auto truncated = Post(otelbox_.otlp_http(), "/v1/metrics", raw.substr(0, raw.size() / 2), proto);
  EXPECT_EQ(truncated.status, 400);
  EXPECT_FALSE(truncated.body.empty()) << "google.rpc.Status body";

  auto bad_json = Post(otelbox_.otlp_http(), "/v1/metrics", R"({"resourceMetrics":[{)", json);
  EXPECT_EQ(bad_json.status, 400);
  EXPECT_NE(bad_json.body.find("message"), std::string::npos) << bad_json.body;

  auto bad_hex = Post(otelbox_.otlp_http(), "/v1/metrics",
      R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"m","gauge":{"dataPoints":[{"asDouble":1,"exemplars":[{"traceId":"zz"}]}]}}]}]}]})", json);
  EXPECT_EQ(bad_hex.status, 400) << bad_hex.body;

  auto wrong_type = Post(otelbox_.otlp_http(), "/v1/metrics", raw, {{"Content-Type", "text/plain"}});
  EXPECT_EQ(wrong_type.status, 415);

  auto bad_gzip = Post(otelbox_.otlp_http(), "/v1/metrics", "not gzip at all",
                       {{"Content-Type", "application/x-protobuf"}, {"Content-Encoding", "gzip"}});
  EXPECT_EQ(bad_gzip.status, 400);

  // A gzip body that inflates past the limit: rejected while inflating.
  auto bomb = Post(otelbox_.otlp_http(), "/v1/metrics", Gzip(std::string(1 << 20, 'a')),
                   {{"Content-Type", "application/x-protobuf"}, {"Content-Encoding", "gzip"}});
  EXPECT_EQ(bomb.status, 413);

  auto oversized = Post(otelbox_.otlp_http(), "/v1/metrics", std::string(100000, '\0'), proto);
  EXPECT_EQ(oversized.status, 413);

  EXPECT_EQ(HttpGet(otelbox_.otlp_http(), "/v1/metrics").status, 405);
}

TEST_F(MalformedInputTest, OtlpGrpcGarbageIsInvalidArgument) {
  auto channel = grpc::CreateChannel(otelbox_.otlp_grpc(), grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  const std::string garbage = "\x0a\xff\xff\xff\x0f garbage";
  grpc::Slice slice(garbage);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  grpc::ClientContext ctx;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&ctx, "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
                 grpc::StubOptions(), &request, &response,
                 [&](grpc::Status s) { done.set_value(s); });
  auto status = done.get_future().get();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_FALSE(status.error_message().empty());
}

TEST_F(MalformedInputTest, QueryApiErrorsAreJsonEnvelopes) {
  auto bad = HttpGet(otelbox_.http(), "/api/v1/query?query=" + UrlEncode("sum("));
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("\"errorType\":\"bad_data\""), std::string::npos) << bad.body;
  auto bad_time = HttpGet(otelbox_.http(), "/api/v1/query_range?query=up&start=x&end=1&step=1");
  EXPECT_EQ(bad_time.status, 400);
  auto no_match = HttpGet(otelbox_.http(), "/api/v1/series");
  EXPECT_EQ(no_match.status, 400);
}

}  // namespace
}  // namespace otelbox::testing
