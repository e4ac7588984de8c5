// Logs end to end against the real binary: Loki push (JSON + gzip, snappy protobuf), OTLP
// logs (gRPC, HTTP), read back through the Loki API, live tail over WebSocket, and bad
// input answered with Loki's 400s while the server keeps serving.

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <atomic>
#include <chrono>
#include <set>
#include <signal.h>
#include <future>
#include <thread>

#include "loki/push.pb.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.grpc.pb.h"
#include "tests/integration/http_client.h"
#include "tests/integration/otelbox_process.h"
#include "tests/integration/test_payloads.h"

namespace otelbox::testing {
namespace {

namespace json = boost::json;
namespace collector = opentelemetry::proto::collector::logs::v1;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

using Headers = std::vector<std::pair<std::string, std::string>>;

int64_t NowNs() { return NowMs() * 1000000; }

class LokiTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(otelbox_.ok()) << otelbox_.error(); }

  HttpResult Push(const std::string& body, Headers headers) {
    return HttpRequest(otelbox_.http(), "POST", "/loki/api/v1/push", body, headers);
  }

  // query_range over the last hour (+1 min); the parsed `data` object.
  json::value QueryRange(const std::string& query, const std::string& direction = "backward",
                         bool categorize = true, int limit = 100) {
    const int64_t end = NowNs() + int64_t{60} * 1000000000;
    const int64_t start = end - int64_t{3600} * 1000000000;
    Headers h;
    if (categorize) h.emplace_back("X-Loki-Response-Encoding-Flags", "categorize-labels");
    auto res = HttpRequest(otelbox_.http(), "GET",
                           "/loki/api/v1/query_range?direction=" + direction +
                               "&limit=" + std::to_string(limit) + "&step=15000ms&start=" +
                               std::to_string(start) + "&end=" + std::to_string(end) +
                               "&query=" + UrlEncode(query),
                           "", h);
    EXPECT_EQ(res.status, 200) << res.body;
    boost::system::error_code ec;
    json::value v = json::parse(res.body, ec);
    EXPECT_FALSE(ec) << res.body;
    return ec ? json::value() : v.at("data");
  }

  // All [ts, line, metadata] of a categorized result, in result order.
  static std::vector<json::value> Values(const json::value& data) {
    std::vector<json::value> out;
    for (const auto& s : data.at("result").as_array()) {
      for (const auto& v : s.at("values").as_array()) out.push_back(v);
    }
    return out;
  }

  OtelboxProcess otelbox_{{"--ephemeral"}};
};

std::string Str(const json::value& v) { return std::string(v.as_string()); }

TEST_F(LokiTest, JsonPushGzipWithStructuredMetadata) {
  const int64_t t = NowNs() - 5000000000;
  const std::string body = R"({"streams":[{"stream":{"app":"shop","env":"prod"},"values":[
      [")" + std::to_string(t) + R"(","level=info order placed",{"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","user":"u1"}],
      [")" + std::to_string(t + 1000) + R"(","level=error payment failed"]]}]})";
  auto res = Push(Gzip(body), {{"Content-Type", "application/json"}, {"Content-Encoding", "gzip"}});
  ASSERT_EQ(res.status, 204) << res.body;

  json::value data = QueryRange(R"({app="shop"})");
  EXPECT_EQ(data.at("encodingFlags").at(0), "categorize-labels");
  ASSERT_EQ(data.at("result").as_array().size(), 1u);
  const auto& stream = data.at("result").at(0).at("stream").as_object();
  EXPECT_EQ(stream.size(), 3u);
  EXPECT_EQ(stream.at("service_name"), "shop") << "service_name discovered from app";
  auto values = Values(data);
  ASSERT_EQ(values.size(), 2u);
  EXPECT_EQ(Str(values[0].at(1)), "level=error payment failed") << "backward: newest first";
  EXPECT_EQ(Str(values[0].at(0)), std::to_string(t + 1000));
  EXPECT_EQ(values[0].at(2).at("structuredMetadata").at("detected_level"), "error");
  EXPECT_EQ(values[1].at(2).at("structuredMetadata").at("trace_id"),
            "4bf92f3577b34da6a3ce929d0e0e4736");

  // Structured metadata filters after the selector; it is not a stream label.
  data = QueryRange(R"({app="shop"} | user="u1")", "forward");
  ASSERT_EQ(Values(data).size(), 1u);
  EXPECT_EQ(Str(Values(data)[0].at(1)), "level=info order placed");
  auto labels = HttpGet(otelbox_.http(), "/loki/api/v1/labels");
  EXPECT_EQ(labels.body, R"({"status":"success","data":["app","env","service_name"]})");
  auto series = HttpGet(otelbox_.http(), "/loki/api/v1/series?match[]=" + UrlEncode(R"({env="prod"})"));
  EXPECT_EQ(series.body, R"({"status":"success","data":[{"app":"shop","env":"prod","service_name":"shop"}]})");

  // A metric query grouping by a metadata label (Grafana's logs volume).
  const int64_t end = NowNs();
  auto vol = HttpGet(otelbox_.http(),
                     "/loki/api/v1/query_range?step=60000ms&start=" + std::to_string(end - 60000000000) +
                         "&end=" + std::to_string(end) + "&query=" +
                         UrlEncode(R"(sum by (level, detected_level) (count_over_time({app="shop"} | drop __error__[1m])))"));
  ASSERT_EQ(vol.status, 200) << vol.body;
  json::value v = json::parse(vol.body);
  EXPECT_EQ(v.at("data").at("resultType"), "matrix");
  EXPECT_EQ(v.at("data").at("result").as_array().size(), 2u) << vol.body;
}

TEST_F(LokiTest, SnappyProtobufPush) {
  logproto::PushRequest req;
  auto* s = req.add_streams();
  s->set_labels(R"({job="promtail", host="h1"})");
  const int64_t t = NowNs() - 2000000000;
  for (int i = 0; i < 3; ++i) {
    auto* e = s->add_entries();
    e->mutable_timestamp()->set_seconds((t + i) / 1000000000);
    e->mutable_timestamp()->set_nanos(static_cast<int32_t>((t + i) % 1000000000));
    e->set_line("line " + std::to_string(i));
    auto* md = e->add_structuredmetadata();
    md->set_name("pod");
    md->set_value("p" + std::to_string(i));
  }
  auto res = Push(Snappy(req.SerializeAsString()), {{"Content-Type", "application/x-protobuf"}});
  ASSERT_EQ(res.status, 204) << res.body;
  json::value data = QueryRange(R"({job="promtail"})", "forward");
  auto values = Values(data);
  ASSERT_EQ(values.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Str(values[i].at(1)), "line " + std::to_string(i)) << "forward: oldest first";
    EXPECT_EQ(Str(values[i].at(2).at("structuredMetadata").at("pod")), "p" + std::to_string(i));
  }
  EXPECT_EQ(data.at("result").at(0).at("stream").at("service_name"), "promtail");
}

collector::ExportLogsServiceRequest OtlpLogs(const std::string& service, int64_t t_ns) {
  collector::ExportLogsServiceRequest req;
  auto* rl = req.add_resource_logs();
  auto* a = rl->mutable_resource()->add_attributes();
  a->set_key("service.name");
  a->mutable_value()->set_string_value(service);
  a = rl->mutable_resource()->add_attributes();
  a->set_key("deployment.environment.name");
  a->mutable_value()->set_string_value("staging");
  auto* sl = rl->add_scope_logs();
  sl->mutable_scope()->set_name("io.opentelemetry.test");
  auto* r = sl->add_log_records();
  r->set_time_unix_nano(static_cast<uint64_t>(t_ns));
  r->set_severity_number(opentelemetry::proto::logs::v1::SEVERITY_NUMBER_ERROR);
  r->mutable_body()->set_string_value("db timeout");
  r->set_trace_id(std::string(16, '\x11'));
  r->set_span_id(std::string(8, '\x22'));
  return req;
}

TEST_F(LokiTest, OtlpGrpcAndHttp) {
  auto channel = grpc::CreateChannel(otelbox_.otlp_grpc(), grpc::InsecureChannelCredentials());
  auto stub = collector::LogsService::NewStub(channel);
  grpc::ClientContext ctx;
  collector::ExportLogsServiceResponse resp;
  auto status = stub->Export(&ctx, OtlpLogs("grpc-logs", NowNs() - 1000000000), &resp);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_FALSE(resp.has_partial_success());

  auto http = HttpRequest(otelbox_.otlp_http(), "POST", "/v1/logs",
                          Gzip(OtlpLogs("http-logs", NowNs() - 1000000000).SerializeAsString()),
                          {{"Content-Type", "application/x-protobuf"}, {"Content-Encoding", "gzip"}});
  ASSERT_EQ(http.status, 200) << http.body;

  for (const std::string service : {"grpc-logs", "http-logs"}) {
    json::value data = QueryRange(R"({service_name=")" + service + R"("})");
    ASSERT_EQ(data.at("result").as_array().size(), 1u) << service;
    EXPECT_EQ(json::serialize(data.at("result").at(0).at("stream")),
              R"({"deployment_environment_name":"staging","service_name":")" + service + R"("})");
    auto values = Values(data);
    ASSERT_EQ(values.size(), 1u);
    const auto& md = values[0].at(2).at("structuredMetadata");
    EXPECT_EQ(md.at("trace_id"), "11111111111111111111111111111111");
    EXPECT_EQ(md.at("span_id"), "2222222222222222");
    EXPECT_EQ(md.at("severity_number"), "17");
    EXPECT_EQ(md.at("detected_level"), "error");
    EXPECT_EQ(md.at("scope_name"), "io.opentelemetry.test");
  }

  // Bad protobuf over gRPC: INVALID_ARGUMENT, server keeps serving.
  grpc::GenericStub generic(channel);
  grpc::ClientContext gctx;
  grpc::Slice slice(std::string("\xff\xff\xff\xff", 4));
  grpc::ByteBuffer bad(&slice, 1), out;
  std::promise<grpc::Status> done;
  generic.UnaryCall(&gctx, "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
                    grpc::StubOptions(), &bad, &out,
                    [&](grpc::Status s) { done.set_value(std::move(s)); });
  EXPECT_EQ(done.get_future().get().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(LokiTest, GrafanaHealthCheckAndMetadata) {
  auto r = HttpGet(otelbox_.http(),
                   "/loki/api/v1/query?direction=backward&query=vector%281%29%2Bvector%281%29&time=4000000000");
  ASSERT_EQ(r.status, 200) << r.body;
  json::value v = json::parse(r.body);
  EXPECT_EQ(v.at("data").at("resultType"), "vector");
  EXPECT_EQ(v.at("data").at("result").as_array().size(), 1u);
  EXPECT_EQ(v.at("data").at("result").at(0).at("value").at(1), "2");
  EXPECT_EQ(HttpGet(otelbox_.http(), "/loki/api/v1/label/__stream_shard__/values").body,
            R"({"status":"success","data":[]})");
  EXPECT_EQ(HttpGet(otelbox_.http(), "/loki/api/v1/labels").body, R"({"status":"success","data":[]})");
  auto stats = HttpGet(otelbox_.http(), "/loki/api/v1/index/stats?query=" + UrlEncode(R"({a="b"})"));
  EXPECT_EQ(stats.body, R"({"streams":0,"chunks":0,"entries":0,"bytes":0})");
}

// A blocking WebSocket client for the tail endpoint.
class TailClient {
 public:
  // Returns the HTTP status of the handshake (101 on success).
  int Connect(const std::string& host_port, const std::string& target) {
    const auto colon = host_port.rfind(':');
    tcp::resolver resolver(ioc_);
    ws_.next_layer().connect(resolver.resolve(host_port.substr(0, colon), host_port.substr(colon + 1)));
    websocket::response_type res;
    beast::error_code ec;
    ws_.handshake(res, host_port, target, ec);
    body_ = res.body();
    return res.result_int();
  }
  // The next text frame, parsed; null after `timeout` or on close.
  json::value Next(std::chrono::seconds timeout = std::chrono::seconds(10)) {
    beast::flat_buffer buf;
    beast::error_code ec;
    beast::get_lowest_layer(ws_).expires_after(timeout);
    ws_.read(buf, ec);
    if (ec) return nullptr;
    return json::parse(beast::buffers_to_string(buf.data()));
  }
  void Close() {
    beast::error_code ec;
    ws_.close(websocket::close_code::normal, ec);
  }
  const std::string& refusal() const { return body_; }

 private:
  net::io_context ioc_;
  websocket::stream<beast::tcp_stream> ws_{ioc_};
  std::string body_;
};

std::vector<std::string> FrameLines(const json::value& frame) {
  std::vector<std::string> lines;
  if (frame.is_null()) return lines;
  for (const auto& s : frame.at("streams").as_array()) {
    for (const auto& v : s.at("values").as_array()) {
      EXPECT_EQ(v.as_array().size(), 2u) << "tail values are plain [ts, line]";
      lines.push_back(Str(v.at(1)));
    }
  }
  return lines;
}

TEST_F(LokiTest, LiveTailOverWebSocket) {
  const auto json_push = [&](const std::string& app, const std::string& line) {
    auto res = Push(R"({"streams":[{"stream":{"app":")" + app + R"("},"values":[[")" +
                        std::to_string(NowNs()) + R"(",")" + line + R"("]]}]})",
                    {{"Content-Type", "application/json"}});
    ASSERT_EQ(res.status, 204) << res.body;
  };
  json_push("tail", "before connect");

  TailClient client;
  ASSERT_EQ(client.Connect(otelbox_.http(), "/loki/api/v1/tail?query=" +
                                                UrlEncode(R"({app="tail"} |= "keep")")),
            101);
  // No history line passes the filter, so the first frame carries the new lines.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  json_push("tail", "keep 1");
  json_push("other", "keep but other stream");
  json_push("tail", "drop me");
  json_push("tail", "keep 2");
  std::vector<std::string> got;
  while (got.size() < 2) {
    json::value frame = client.Next();
    ASSERT_FALSE(frame.is_null()) << "no frame; got " << got.size();
    EXPECT_TRUE(frame.at("dropped_entries").is_null());
    EXPECT_EQ(frame.at("streams").at(0).at("stream").at("app"), "tail");
    for (auto& l : FrameLines(frame)) got.push_back(l);
  }
  EXPECT_EQ(got, (std::vector<std::string>{"keep 1", "keep 2"}));
  client.Close();

  // History replay: a new tail of the same stream starts with the lines already stored.
  TailClient replay;
  ASSERT_EQ(replay.Connect(otelbox_.http(), "/loki/api/v1/tail?limit=2&query=" +
                                                UrlEncode(R"({app="tail"})")),
            101);
  EXPECT_EQ(FrameLines(replay.Next()), (std::vector<std::string>{"drop me", "keep 2"}))
      << "the last `limit` lines, oldest first";
  replay.Close();

  // A bad query is refused before the upgrade with Loki's 400 text.
  TailClient bad;
  EXPECT_EQ(bad.Connect(otelbox_.http(), "/loki/api/v1/tail?query=" + UrlEncode(R"({app="tail")")), 400);
  EXPECT_NE(bad.refusal().find("parse error"), std::string::npos) << bad.refusal();
}

TEST_F(LokiTest, MalformedInputGetsLokiErrorsAndServerKeepsServing) {
  const Headers kJson = {{"Content-Type", "application/json"}};
  const Headers kProto = {{"Content-Type", "application/x-protobuf"}};

  auto r = Push(R"({"streams":[{"stream":{"a":"b"},"values":[["1","x"]})", kJson);
  EXPECT_EQ(r.status, 400) << "truncated JSON";
  r = Push(R"({"streams":[{"stream":{"a":"b"},"values":[[1700000000000000000,"x"]]}]})", kJson);
  EXPECT_EQ(r.status, 400) << "numeric timestamp";
  r = Push("definitely not snappy", kProto);
  EXPECT_EQ(r.status, 400) << "bad snappy";
  r = Push(Snappy(std::string("\x0a\xff\xff\xff\xff\x0f", 6)), kProto);
  EXPECT_EQ(r.status, 400) << "bad protobuf";

  logproto::PushRequest req;
  auto* s = req.add_streams();
  s->set_labels(R"({app="x",})" "{");
  auto* e = s->add_entries();
  e->mutable_timestamp()->set_seconds(NowMs() / 1000);
  e->set_line("x");
  r = Push(Snappy(req.SerializeAsString()), kProto);
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(r.body.starts_with("couldn't parse labels: ")) << r.body;

  const std::string big(300 * 1024, 'x');
  r = Push(R"({"streams":[{"stream":{"app":"big"},"values":[[")" + std::to_string(NowNs()) + R"(",")" +
               big + R"("],[")" + std::to_string(NowNs()) + R"(","small"]]}]})",
           kJson);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body,
            "Max entry size '262144' bytes exceeded for stream '{app=\"big\", service_name=\"big\"}' "
            "while adding an entry with length '307200' bytes\n");
  EXPECT_EQ(Values(QueryRange(R"({app="big"})")).size(), 1u) << "the valid line is stored";

  std::string many = R"({"streams":[{"stream":{)";
  for (int i = 0; i < 16; ++i) many += (i ? "," : "") + std::string("\"l") + std::to_string(i) + "\":\"v\"";
  many += R"(},"values":[[")" + std::to_string(NowNs()) + R"(","x"]]}]})";
  r = Push(many, kJson);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("has 16 label names; limit 15"), std::string::npos) << r.body;

  auto q = HttpGet(otelbox_.http(), "/loki/api/v1/query_range?query=" + UrlEncode(R"({app="x")"));
  EXPECT_EQ(q.status, 400);
  EXPECT_NE(q.body.find("parse error"), std::string::npos) << q.body;
  q = HttpGet(otelbox_.http(), "/loki/api/v1/query?query=" + UrlEncode("sum(rate({a=\"b\"}[1m]) by"));
  EXPECT_EQ(q.status, 400) << q.body;

  // Still serving: ready, and a good push is stored.
  EXPECT_EQ(HttpGet(otelbox_.http(), "/ready").status, 200);
  r = Push(R"({"streams":[{"stream":{"app":"after"},"values":[[")" + std::to_string(NowNs()) +
               R"(","still here"]]}]})",
           kJson);
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_EQ(Values(QueryRange(R"({app="after"})")).size(), 1u);
}

// kill -9 while a Loki client is pushing: every acknowledged line is there after restart.
TEST(LokiCrashRecovery, AcknowledgedLinesSurviveKill9) {
  TempDir dir;
  const int64_t base = NowNs() - int64_t{600} * 1000000000;
  std::vector<int> acked;
  {
    OtelboxProcess otelbox({"--data-dir", dir.path()});
    ASSERT_TRUE(otelbox.ok()) << otelbox.error();
    std::atomic<bool> stop{false};
    std::thread writer([&] {
      for (int k = 0; !stop && k < 100000; ++k) {
        logproto::PushRequest req;
        auto* s = req.add_streams();
        s->set_labels(R"({app="crash"})");
        auto* e = s->add_entries();
        const int64_t t = base + k * 1000;
        e->mutable_timestamp()->set_seconds(t / 1000000000);
        e->mutable_timestamp()->set_nanos(static_cast<int32_t>(t % 1000000000));
        e->set_line("line " + std::to_string(k));
        auto res = HttpRequest(otelbox.http(), "POST", "/loki/api/v1/push",
                               Snappy(req.SerializeAsString()),
                               {{"Content-Type", "application/x-protobuf"}});
        if (res.status == 204) acked.push_back(k);
        if (res.status == 0) return;
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    kill(otelbox.pid(), SIGKILL);
    stop = true;
    writer.join();
    otelbox.StopWith(SIGKILL);
  }
  ASSERT_GT(acked.size(), 10u);

  OtelboxProcess restarted({"--data-dir", dir.path()});
  ASSERT_TRUE(restarted.ok()) << restarted.error();
  const int64_t end = NowNs() + 1000000000;
  std::set<std::string> lines;
  // Page forward through everything (Loki caps a query at 5000 lines).
  for (int64_t start = base;;) {
    auto res = HttpGet(restarted.http(), "/loki/api/v1/query_range?direction=forward&limit=5000&start=" +
                                             std::to_string(start) + "&end=" + std::to_string(end) +
                                             "&query=" + UrlEncode(R"({app="crash"})"));
    ASSERT_EQ(res.status, 200) << res.body;
    const json::value parsed = json::parse(res.body);
    int64_t last = -1;
    size_t n = 0;
    for (const auto& st : parsed.at("data").at("result").as_array()) {
      for (const auto& v : st.at("values").as_array()) {
        lines.insert(Str(v.at(1)));
        last = std::max<int64_t>(last, std::stoll(Str(v.at(0))));
        ++n;
      }
    }
    if (n < 5000) break;
    start = last + 1;
  }
  for (int k : acked) {
    ASSERT_TRUE(lines.count("line " + std::to_string(k))) << "acknowledged line " << k << " lost";
  }
}

}  // namespace
}  // namespace otelbox::testing
