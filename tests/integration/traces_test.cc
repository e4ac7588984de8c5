// Traces end to end against the real binary: OTLP over gRPC and HTTP, the Tempo API as
// Grafana calls it (contracts/tempo.md §6), Tempo's errors for bad input, and kill -9
// during export without losing an acknowledged span.

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <boost/json.hpp>
#include <set>
#include <thread>

#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#include "opentelemetry/proto/trace/v1/trace.pb.h"
#include "tests/integration/http_client.h"
#include "tests/integration/otelbox_process.h"
#include "tests/integration/test_payloads.h"

namespace otelbox::testing {
namespace {

namespace collector = opentelemetry::proto::collector::trace::v1;
namespace tracepb = opentelemetry::proto::trace::v1;

std::string Id(uint64_t hi, uint64_t lo) {
  std::string s(16, '\0');
  for (int i = 0; i < 8; ++i) {
    s[i] = static_cast<char>(hi >> (56 - 8 * i));
    s[8 + i] = static_cast<char>(lo >> (56 - 8 * i));
  }
  return s;
}
std::string SpanIdBytes(uint64_t v) { return Id(0, v).substr(8); }
std::string Hex(const std::string& b) {
  static const char* k = "0123456789abcdef";
  std::string out;
  for (unsigned char c : b) {
    out.push_back(k[c >> 4]);
    out.push_back(k[c & 15]);
  }
  return out;
}

// One trace: `spans` spans under a root, service `service`, span attribute seq=`seq`.
collector::ExportTraceServiceRequest TraceRequest(const std::string& service, const std::string& trace_id,
                                                  int spans, int64_t seq, uint64_t start_ns) {
  collector::ExportTraceServiceRequest req;
  auto* rs = req.add_resource_spans();
  auto* kv = rs->mutable_resource()->add_attributes();
  kv->set_key("service.name");
  kv->mutable_value()->set_string_value(service);
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name("integration");
  for (int i = 0; i < spans; ++i) {
    auto* s = ss->add_spans();
    s->set_trace_id(trace_id);
    s->set_span_id(SpanIdBytes(static_cast<uint64_t>(i + 1)));
    if (i > 0) s->set_parent_span_id(SpanIdBytes(1));
    s->set_name(i == 0 ? "root" : "child-" + std::to_string(i));
    s->set_kind(i == 0 ? tracepb::Span::SPAN_KIND_SERVER : tracepb::Span::SPAN_KIND_CLIENT);
    s->set_start_time_unix_nano(start_ns + static_cast<uint64_t>(i) * 1000);
    s->set_end_time_unix_nano(start_ns + 5'000'000 + static_cast<uint64_t>(i) * 1000);
    auto* a = s->add_attributes();
    a->set_key("seq");
    a->mutable_value()->set_int_value(seq);
    if (i == spans - 1) s->mutable_status()->set_code(tracepb::Status::STATUS_CODE_ERROR);
  }
  return req;
}

uint64_t NowNs() { return static_cast<uint64_t>(NowMs()) * 1'000'000; }

class TracesTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(otelbox_.ok()) << otelbox_.error(); }
  OtelboxProcess otelbox_{{"--ephemeral"}};
};

TEST_F(TracesTest, GrpcExportThenGrafanaReadsItBack) {
  const std::string tid = Id(0x4bf92f3577b34da6ULL, 0xa3ce929d0e0e4736ULL);
  const uint64_t t0 = NowNs() - 60'000'000'000ULL;
  auto stub = collector::TraceService::NewStub(
      grpc::CreateChannel(otelbox_.otlp_grpc(), grpc::InsecureChannelCredentials()));
  {
    grpc::ClientContext ctx;
    collector::ExportTraceServiceResponse resp;
    auto st = stub->Export(&ctx, TraceRequest("api", tid, 3, 7, t0), &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_FALSE(resp.has_partial_success());
  }
  // v2 by id, protobuf: TraceByIDResponse{trace = 1}.
  auto res = HttpRequest(otelbox_.http(), "GET", "/api/v2/traces/" + Hex(tid), "",
                         {{"Accept", "application/protobuf"}});
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(res.headers["content-type"], "application/protobuf");
  ASSERT_GT(res.body.size(), 2u);
  ASSERT_EQ(static_cast<uint8_t>(res.body[0]), 0x0a) << "field 1, length-delimited";
  size_t pos = 1, len = 0;
  for (int shift = 0; pos < res.body.size(); shift += 7) {
    uint8_t b = static_cast<uint8_t>(res.body[pos++]);
    len |= static_cast<size_t>(b & 0x7f) << shift;
    if (b < 0x80) break;
  }
  tracepb::TracesData trace;
  ASSERT_TRUE(trace.ParseFromString(res.body.substr(pos, len)));
  ASSERT_EQ(trace.resource_spans_size(), 1);
  EXPECT_GT(trace.resource_spans(0).resource().attributes_size(), 0);
  ASSERT_EQ(trace.resource_spans(0).scope_spans_size(), 1);
  EXPECT_EQ(trace.resource_spans(0).scope_spans(0).spans_size(), 3);
  EXPECT_EQ(trace.resource_spans(0).scope_spans(0).spans(0).trace_id(), tid);
  // v1 by the 16-hex short id: left-padded. Here the id has a non-zero high half, so the
  // short form must not find it...
  EXPECT_EQ(HttpRequest(otelbox_.http(), "GET", "/api/traces/a3ce929d0e0e4736", "",
                        {{"Accept", "application/protobuf"}}).status, 404);
  // ...while a trace with a zero high half is found by it.
  const std::string short_tid = Id(0, 0xa3ce929d0e0e4736ULL);
  {
    grpc::ClientContext ctx;
    collector::ExportTraceServiceResponse resp;
    ASSERT_TRUE(stub->Export(&ctx, TraceRequest("api", short_tid, 1, 8, t0), &resp).ok());
  }
  res = HttpRequest(otelbox_.http(), "GET", "/api/traces/A3CE929D0E0E4736", "",
                    {{"Accept", "application/protobuf"}});
  ASSERT_EQ(res.status, 200);
  tracepb::TracesData v1;
  ASSERT_TRUE(v1.ParseFromString(res.body));
  EXPECT_EQ(v1.resource_spans(0).scope_spans(0).spans(0).trace_id(), short_tid);
  EXPECT_EQ(HttpGet(otelbox_.http(), "/api/v2/traces/00000000000000000000000000000001").status, 404);

  // Search as new Grafana decodes it: string nanos, numeric durationMs.
  const uint64_t s = t0 / 1'000'000'000 - 60, e = t0 / 1'000'000'000 + 60;
  res = HttpGet(otelbox_.http(), "/api/search?q=" + UrlEncode("{resource.service.name=\"api\" && status=error}") +
                                     "&limit=20&spss=3&start=" + std::to_string(s) + "&end=" + std::to_string(e));
  ASSERT_EQ(res.status, 200) << res.body;
  auto body = boost::json::parse(res.body);
  auto& traces = body.at("traces").as_array();
  ASSERT_EQ(traces.size(), 2u) << res.body;
  for (auto& t : traces) {
    EXPECT_TRUE(t.at("startTimeUnixNano").is_string());
    EXPECT_TRUE(t.at("durationMs").is_number());
    EXPECT_EQ(t.at("rootServiceName").as_string(), "api");
    auto& span = t.at("spanSets").at(0).at("spans").at(0);
    EXPECT_TRUE(span.at("durationNanos").is_string());
    EXPECT_EQ(span.at("spanID").as_string().size(), 16u);
  }
  // Tag-based search (legacy parameters).
  res = HttpGet(otelbox_.http(), "/api/search?tags=" + UrlEncode("service.name=api seq=7") +
                                     "&minDuration=1ms&start=" + std::to_string(s) + "&end=" + std::to_string(e));
  ASSERT_EQ(res.status, 200) << res.body;
  const boost::json::value tagged_body = boost::json::parse(res.body);
  const auto& tagged = tagged_body.at("traces").as_array();
  ASSERT_EQ(tagged.size(), 1u) << res.body;
  EXPECT_EQ(tagged[0].at("traceID").as_string(), Hex(tid));

  // Autocomplete.
  res = HttpGet(otelbox_.http(), "/api/v2/search/tag/span.seq/values");
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(boost::json::parse(res.body).at("tagValues"),
            boost::json::parse(R"([{"type":"int","value":"7"},{"type":"int","value":"8"}])"));
  res = HttpGet(otelbox_.http(), "/api/v2/search/tag/kind/values");
  EXPECT_NE(res.body.find(R"({"type":"keyword","value":"server"})"), std::string::npos) << res.body;
  res = HttpGet(otelbox_.http(), "/api/v2/search/tag/name/values?q=" + UrlEncode("{span.seq=8}"));
  EXPECT_EQ(boost::json::parse(res.body).at("tagValues"),
            boost::json::parse(R"([{"type":"string","value":"root"}])"));
  res = HttpGet(otelbox_.http(), "/api/v2/search/tag/resource.unknown/values");
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(boost::json::parse(res.body).at("tagValues").as_array().size(), 0u);
}

TEST_F(TracesTest, BadInputGetsTheCollectorsAndTemposErrors) {
  // gRPC: undecodable protobuf is INVALID_ARGUMENT.
  auto channel = grpc::CreateChannel(otelbox_.otlp_grpc(), grpc::InsecureChannelCredentials());
  grpc::GenericStub generic(channel);
  grpc::ClientContext ctx;
  std::string garbage = "\x0a\xff\xff\xff\xff\x0f";
  grpc::Slice slice(garbage);
  grpc::ByteBuffer in(&slice, 1), out;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  grpc::Status status;
  generic.UnaryCall(&ctx, "/opentelemetry.proto.collector.trace.v1.TraceService/Export", grpc::StubOptions(), &in, &out,
                    [&](grpc::Status s) {
                      std::lock_guard l(mu);
                      status = s;
                      done = true;
                      cv.notify_all();
                    });
  {
    std::unique_lock l(mu);
    cv.wait(l, [&] { return done; });
  }
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();

  // gRPC: a span with a bad trace id is rejected through partial success, the rest kept.
  auto stub = collector::TraceService::NewStub(channel);
  auto req = TraceRequest("svc", Id(1, 2), 2, 1, NowNs());
  req.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(1)->set_trace_id("short");
  grpc::ClientContext ctx2;
  collector::ExportTraceServiceResponse resp;
  ASSERT_TRUE(stub->Export(&ctx2, req, &resp).ok());
  EXPECT_EQ(resp.partial_success().rejected_spans(), 1);

  // OTLP/HTTP.
  auto res = HttpRequest(otelbox_.http(), "POST", "/v1/traces", "{not json",
                         {{"Content-Type", "application/json"}});
  EXPECT_EQ(res.status, 400);
  EXPECT_NE(res.body.find("\"code\":3"), std::string::npos) << res.body;  // google.rpc.Status
  res = HttpRequest(otelbox_.http(), "POST", "/v1/traces", "\x0a\xff", {{"Content-Type", "application/x-protobuf"}});
  EXPECT_EQ(res.status, 400);
  res = HttpRequest(otelbox_.http(), "POST", "/v1/traces", "x", {{"Content-Type", "text/plain"}});
  EXPECT_EQ(res.status, 415);
  res = HttpRequest(otelbox_.http(), "POST", "/v1/traces", "garbage",
                    {{"Content-Type", "application/json"}, {"Content-Encoding", "gzip"}});
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(HttpRequest(otelbox_.http(), "GET", "/v1/traces").status, 405);
  // Zipkin.
  res = HttpRequest(otelbox_.http(), "POST", "/api/v2/spans", "{}", {{"Content-Type", "application/json"}});
  EXPECT_EQ(res.status, 400);
  res = HttpRequest(otelbox_.http(), "POST", "/api/v2/spans",
                    R"([{"traceId":"0000000000000001","id":"0000000000000002","name":"z","timestamp":1,"duration":-5}])",
                    {{"Content-Type", "application/json"}});
  EXPECT_EQ(res.status, 400);
  // Tempo API.
  EXPECT_EQ(HttpGet(otelbox_.http(), "/api/search?q=" + UrlEncode("{")).status, 400);
  EXPECT_EQ(HttpGet(otelbox_.http(), "/api/search?q=" + UrlEncode("{ .a = }")).status, 400);
  EXPECT_EQ(HttpGet(otelbox_.http(), "/api/search?start=10&end=5").status, 400);
  EXPECT_EQ(HttpGet(otelbox_.http(), "/api/traces/xyz").status, 400);
  EXPECT_EQ(HttpGet(otelbox_.http(), "/api/traces/" + std::string(33, 'a')).status, 400);
  EXPECT_EQ(HttpGet(otelbox_.http(), "/api/v2/search/tags?scope=bogus").status, 400);
  EXPECT_EQ(HttpGet(otelbox_.http(), "/api/metrics/query_range?q=" + UrlEncode("{} | rate(") ).status, 400);
  EXPECT_EQ(HttpGet(otelbox_.http(), "/api/metrics/query_range").status, 400);
  EXPECT_EQ(HttpGet(otelbox_.http(), "/api/metrics/query_range?q=" + UrlEncode("{} | rate()") + "&step=xx").status, 400);
  // Still serving.
  EXPECT_EQ(HttpGet(otelbox_.http(), "/api/echo").body, "echo");
}

TEST(TracesCrashRecovery, AcknowledgedSpansSurviveKill9) {
  TempDir dir;
  constexpr int kSpans = 20;
  const uint64_t base = NowNs() - 600'000'000'000ULL;
  std::vector<int> acked;
  {
    OtelboxProcess otelbox({"--data-dir", dir.path()});
    ASSERT_TRUE(otelbox.ok()) << otelbox.error();
    std::atomic<bool> stop{false};
    std::thread writer([&] {
      for (int k = 0; !stop && k < 1'000'000; ++k) {
        auto req = TraceRequest("crash", Id(0xc0ffee, static_cast<uint64_t>(k + 1)), kSpans, k,
                                base + static_cast<uint64_t>(k) * 1'000'000);
        auto res = HttpRequest(otelbox.http(), "POST", "/v1/traces", req.SerializeAsString(),
                               {{"Content-Type", "application/x-protobuf"}});
        if (res.status == 200) acked.push_back(k);
        if (res.status == 0) return;  // the server is gone
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
  ASSERT_TRUE(restarted.ok()) << "the store opens cleanly after kill -9: " << restarted.error();
  for (int k : acked) {
    auto res = HttpGet(restarted.http(), "/api/traces/" + Hex(Id(0xc0ffee, static_cast<uint64_t>(k + 1))));
    ASSERT_EQ(res.status, 200) << "acknowledged trace " << k << " lost";
    auto body = boost::json::parse(res.body);
    ASSERT_TRUE(body.is_object()) << res.body.substr(0, 300);
    size_t n = 0;
    try {
      for (auto& rs : body.at("resourceSpans").as_array()) {
        for (auto& ss : rs.at("scopeSpans").as_array()) n += ss.at("spans").as_array().size();
      }
    } catch (const std::exception& e) {
      FAIL() << e.what() << ": " << res.body.substr(0, 400);
    }
    ASSERT_EQ(n, static_cast<size_t>(kSpans)) << "trace " << k;
  }
  // Searchable too (the head is replayed): every acknowledged trace is found.
  const uint64_t s = base / 1'000'000'000 - 10, e = NowNs() / 1'000'000'000 + 10;
  auto res = HttpGet(restarted.http(), "/api/search?q=" + UrlEncode("{resource.service.name=\"crash\" && name=\"root\"}") +
                                           "&limit=1000000&start=" + std::to_string(s) + "&end=" + std::to_string(e));
  ASSERT_EQ(res.status, 200) << res.body;
  const boost::json::value search = boost::json::parse(res.body);
  ASSERT_TRUE(search.is_object()) << res.body.substr(0, 300);
  std::set<std::string> found;
  for (auto& t : search.at("traces").as_array()) {
    found.insert(std::string(t.at("traceID").as_string()));
  }
  for (int k : acked) {
    std::string hex = Hex(Id(0xc0ffee, static_cast<uint64_t>(k + 1)));
    hex = hex.substr(hex.find_first_not_of('0'));
    ASSERT_TRUE(found.count(hex)) << "acknowledged trace " << k << " not found by search";
  }
  std::cout << "[ figures  ] acknowledged trace exports before kill -9: " << acked.size() << " ("
            << acked.size() * kSpans << " spans), all present after restart\n";
}

}  // namespace
}  // namespace otelbox::testing
