#include "ingest/metrics_ingest.h"

#include <grpcpp/grpcpp.h>
#include <zlib.h>

#include <mutex>
#include <stdexcept>

#include "gtest/gtest.h"
#include "google/rpc/status.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.grpc.pb.h"
#include "prometheus/remote.pb.h"
#include "snappy.h"
#include "storage/model/tenant.h"

namespace otelbox::ingest {
namespace {

namespace collector = opentelemetry::proto::collector::metrics::v1;
namespace pbm = opentelemetry::proto::metrics::v1;

// Records every batch; returns `next_status` (when set) instead of appending.
class FakeAppender : public storage::MetricAppender {
 public:
  absl::StatusOr<storage::AppendStats> Append(std::string_view tenant,
                                              const storage::MetricBatch& batch,
                                              storage::RejectPolicy policy) override {
    std::lock_guard<std::mutex> lock(mu);
    if (throw_next) throw std::runtime_error("boom");
    if (!next_status.ok()) return next_status;
    tenants.emplace_back(tenant);
    batches.push_back(batch);
    policies.push_back(policy);
    storage::AppendStats stats;
    stats.samples_written = static_cast<int64_t>(batch.SampleCount()) - reject_samples;
    stats.samples_rejected = reject_samples;
    if (reject_samples > 0) stats.first_rejection = "too old";
    return stats;
  }

  std::mutex mu;
  absl::Status next_status;
  bool throw_next = false;
  int64_t reject_samples = 0;
  std::vector<std::string> tenants;
  std::vector<storage::MetricBatch> batches;
  std::vector<storage::RejectPolicy> policies;
};

collector::ExportMetricsServiceRequest GaugeRequest(bool delta_sum_too = false) {
  collector::ExportMetricsServiceRequest req;
  auto* sm = req.add_resource_metrics()->add_scope_metrics();
  auto* m = sm->add_metrics();
  m->set_name("queue.depth");
  auto* pt = m->mutable_gauge()->add_data_points();
  pt->set_time_unix_nano(1700000000000000000ULL);
  pt->set_as_int(3);
  if (delta_sum_too) {
    auto* d = sm->add_metrics();
    d->set_name("d");
    d->mutable_sum()->set_aggregation_temporality(pbm::AGGREGATION_TEMPORALITY_DELTA);
    d->mutable_sum()->add_data_points()->set_as_int(1);
  }
  return req;
}

std::string Gzip(const std::string& in) {
  z_stream zs{};
  deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, in.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = in.size();
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = out.size();
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::string SnappyWriteRequest(const std::string& metric, const std::string& label_name) {
  ::prometheus::WriteRequest req;
  auto* ts = req.add_timeseries();
  auto* l = ts->add_labels();
  l->set_name("__name__");
  l->set_value(metric);
  l = ts->add_labels();
  l->set_name(label_name);
  l->set_value("v");
  auto* s = ts->add_samples();
  s->set_value(2.5);
  s->set_timestamp(1700000000000);
  auto* md = req.add_metadata();
  md->set_type(::prometheus::MetricMetadata::GAUGE);
  md->set_metric_family_name(metric);
  const std::string raw = req.SerializeAsString();
  std::string out;
  snappy::Compress(raw.data(), raw.size(), &out);
  return out;
}

class MetricsIngestTest : public ::testing::Test {
 protected:
  IngestReply Otlp(std::string_view content_type, std::string_view body,
                   std::string_view encoding = "", std::string_view tenant = "t1") {
    IngestRequest r;
    r.tenant = tenant;
    r.content_type = content_type;
    r.content_encoding = encoding;
    r.body = body;
    return ingest_.HandleOtlpHttp(r);
  }
  IngestReply RemoteWrite(std::string_view body, std::string_view encoding = "snappy") {
    IngestRequest r;
    r.tenant = "t1";
    r.content_type = "application/x-protobuf";
    r.content_encoding = encoding;
    r.body = body;
    return ingest_.HandleRemoteWrite(r);
  }
  static google::rpc::Status ParseStatus(const IngestReply& reply) {
    google::rpc::Status st;
    EXPECT_EQ(reply.content_type, "application/x-protobuf");
    EXPECT_TRUE(st.ParseFromString(reply.body));
    return st;
  }

  FakeAppender appender_;
  SelfMetrics metrics_;
  IngestLimits limits_{.max_body_bytes = 1 << 20};
  MetricsIngest ingest_{&appender_, &metrics_, limits_};
};

TEST_F(MetricsIngestTest, ProtobufSuccess) {
  const std::string body = GaugeRequest().SerializeAsString();
  IngestReply reply = Otlp("application/x-protobuf", body);
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.content_type, "application/x-protobuf");
  collector::ExportMetricsServiceResponse resp;
  ASSERT_TRUE(resp.ParseFromString(reply.body));
  EXPECT_FALSE(resp.has_partial_success());
  ASSERT_EQ(appender_.batches.size(), 1u);
  EXPECT_EQ(appender_.tenants[0], "t1");
  EXPECT_EQ(appender_.policies[0], storage::RejectPolicy::kDropSample);
  EXPECT_EQ(appender_.batches[0].series[0].labels.ToString(), "{__name__=\"queue_depth\"}");
  const std::string text = metrics_.RenderText();
  EXPECT_NE(text.find("protocol=\"otlp_http\",code=\"200\""), std::string::npos) << text;
  EXPECT_NE(text.find("otelbox_ingest_received_samples_total{protocol=\"otlp_http\"} 1"),
            std::string::npos)
      << text;
}

TEST_F(MetricsIngestTest, JsonSuccessAndPartialSuccess) {
  const std::string ok_json =
      R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"g","gauge":{"dataPoints":[{"asDouble":1,"timeUnixNano":"1000000"}]}}]}]}]})";
  IngestReply reply = Otlp("application/json; charset=utf-8", ok_json, "", "");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.content_type, "application/json");
  EXPECT_EQ(reply.body, "{}");
  ASSERT_EQ(appender_.tenants.size(), 1u);
  EXPECT_EQ(appender_.tenants[0], storage::kDefaultTenant);

  const std::string delta_json =
      R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"g","gauge":{"dataPoints":[{"asDouble":1}]}},
          {"name":"d","sum":{"aggregationTemporality":1,"dataPoints":[{"asInt":"1"},{"asInt":"2"}]}}]}]}]})";
  appender_.reject_samples = 1;  // storage drops one more sample
  reply = Otlp("application/json", delta_json);
  EXPECT_EQ(reply.status, 200);
  EXPECT_NE(reply.body.find("\"rejectedDataPoints\":\"3\""), std::string::npos) << reply.body;
  EXPECT_NE(reply.body.find("invalid temporality and type combination"), std::string::npos)
      << reply.body;
}

TEST_F(MetricsIngestTest, PartialSuccessProtobufAndEmptyRequest) {
  IngestReply reply = Otlp("application/x-protobuf", GaugeRequest(true).SerializeAsString());
  EXPECT_EQ(reply.status, 200);
  collector::ExportMetricsServiceResponse resp;
  ASSERT_TRUE(resp.ParseFromString(reply.body));
  EXPECT_EQ(resp.partial_success().rejected_data_points(), 1);
  // An empty request is a success and writes nothing.
  appender_.batches.clear();
  reply = Otlp("application/x-protobuf", "");
  EXPECT_EQ(reply.status, 200);
  EXPECT_TRUE(appender_.batches.empty());
}

TEST_F(MetricsIngestTest, WrongContentType) {
  for (const char* ct : {"text/plain", "", "application/protobuf", "application/jsonx"}) {
    IngestReply reply = Otlp(ct, "{}");
    EXPECT_EQ(reply.status, 415) << ct;
    EXPECT_EQ(reply.content_type.rfind("text/plain", 0), 0u);
    EXPECT_NE(reply.body.find("application/json"), std::string::npos);
    EXPECT_NE(reply.body.find("application/x-protobuf"), std::string::npos);
  }
}

TEST_F(MetricsIngestTest, UndecodableBodies) {
  const std::string full = GaugeRequest().SerializeAsString();
  IngestReply reply = Otlp("application/x-protobuf", full.substr(0, full.size() - 3));
  EXPECT_EQ(reply.status, 400);
  google::rpc::Status st = ParseStatus(reply);
  EXPECT_EQ(st.code(), 3);
  EXPECT_FALSE(st.message().empty());

  reply = Otlp("application/json", "{\"resourceMetrics\":[");
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(reply.content_type, "application/json");
  EXPECT_EQ(reply.body.rfind("{\"code\":3,\"message\":\"", 0), 0u) << reply.body;

  reply = Otlp("application/json",
               R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"c","sum":{"dataPoints":[{"exemplars":[{"traceId":"xyz"}]}]}}]}]}]})");
  EXPECT_EQ(reply.status, 400);
  EXPECT_NE(reply.body.find("traceId"), std::string::npos) << reply.body;

  reply = Otlp("application/x-protobuf", "\x0a\x05garbage-not-gzip", "gzip");
  EXPECT_EQ(reply.status, 400);
  reply = Otlp("application/x-protobuf", full, "br");
  EXPECT_EQ(reply.status, 400);
  EXPECT_TRUE(appender_.batches.empty());
}

// No truncation or byte corruption of a valid body may crash or produce a 5xx.
TEST_F(MetricsIngestTest, CorruptedBodiesNeverCrash) {
  const std::string proto = GaugeRequest(true).SerializeAsString();
  const std::string json =
      R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"c","sum":{"aggregationTemporality":2,"isMonotonic":true,"dataPoints":[{"asInt":"5","exemplars":[{"traceId":"5b8efff798038103d269b633813fc60c","asDouble":1}]}]}}]}]}]})";
  for (const auto& [ct, body] : {std::pair{"application/x-protobuf", proto},
                                 std::pair{"application/json", json}}) {
    for (size_t n = 0; n <= body.size(); ++n) {
      const int status = Otlp(ct, body.substr(0, n)).status;
      EXPECT_TRUE(status == 200 || status == 400) << ct << " prefix " << n << " → " << status;
    }
    uint32_t seed = 12345;
    for (int round = 0; round < 500; ++round) {
      std::string mutated = body;
      seed = seed * 1103515245 + 12345;
      mutated[seed % mutated.size()] = static_cast<char>(seed >> 16);
      const int status = Otlp(ct, mutated).status;
      EXPECT_TRUE(status == 200 || status == 400) << ct << " round " << round;
    }
  }
  for (size_t n = 0; n < 64; ++n) {
    const int status = RemoteWrite(SnappyWriteRequest("up", "x").substr(0, n)).status;
    EXPECT_TRUE(status == 204 || status == 400) << n;
  }
}

TEST_F(MetricsIngestTest, SizeLimits) {
  // A gzip bomb: 4 MiB of zeros inflating past the 1 MiB limit.
  IngestReply reply = Otlp("application/x-protobuf", Gzip(std::string(4 << 20, '\0')), "gzip");
  EXPECT_EQ(reply.status, 413);
  reply = Otlp("application/x-protobuf", std::string((1 << 20) + 1, 'x'));
  EXPECT_EQ(reply.status, 413);
  // Gzip of a valid body works.
  reply = Otlp("application/x-protobuf", Gzip(GaugeRequest().SerializeAsString()), "gzip");
  EXPECT_EQ(reply.status, 200);
}

TEST_F(MetricsIngestTest, StorageErrorsMapToHttp) {
  const std::string body = GaugeRequest().SerializeAsString();
  const std::pair<absl::Status, int> cases[] = {
      {absl::InvalidArgumentError("bad"), 400},
      {absl::ResourceExhaustedError("busy"), 429},
      {absl::UnavailableError("closing"), 503},
      {absl::InternalError("oops"), 500},
  };
  for (const auto& [status, want] : cases) {
    appender_.next_status = status;
    IngestReply reply = Otlp("application/x-protobuf", body);
    EXPECT_EQ(reply.status, want) << status;
    EXPECT_EQ(ParseStatus(reply).message(), std::string(status.message()));
  }
  appender_.next_status = absl::OkStatus();
  appender_.throw_next = true;
  EXPECT_EQ(Otlp("application/x-protobuf", body).status, 500);
  EXPECT_EQ(RemoteWrite([] {
              ::prometheus::WriteRequest req;
              auto* ts = req.add_timeseries();
              auto* l = ts->add_labels();
              l->set_name("__name__");
              l->set_value("up");
              ts->add_samples()->set_value(1);
              std::string c;
              snappy::Compress(req.SerializeAsString().data(), req.ByteSizeLong(), &c);
              return c;
            }())
                .status,
            500);
}

TEST_F(MetricsIngestTest, RemoteWriteRoundTrip) {
  IngestReply reply = RemoteWrite(SnappyWriteRequest("temperature", "room"));
  EXPECT_EQ(reply.status, 204);
  EXPECT_TRUE(reply.body.empty());
  ASSERT_EQ(appender_.batches.size(), 1u);
  EXPECT_EQ(appender_.policies[0], storage::RejectPolicy::kRejectBatch);
  EXPECT_EQ(appender_.tenants[0], "t1");
  const auto& batch = appender_.batches[0];
  ASSERT_EQ(batch.series.size(), 1u);
  EXPECT_EQ(batch.series[0].labels, (storage::Labels{{"__name__", "temperature"}, {"room", "v"}}));
  EXPECT_EQ(batch.series[0].samples, (std::vector<storage::Sample>{{1700000000000, 2.5}}));
  ASSERT_EQ(batch.metadata.size(), 1u);
  EXPECT_EQ(batch.metadata[0].type, storage::MetricType::kGauge);
  EXPECT_NE(metrics_.RenderText().find("protocol=\"remote_write\",code=\"204\""),
            std::string::npos);
}

TEST_F(MetricsIngestTest, RemoteWriteErrors) {
  IngestReply reply = RemoteWrite("definitely not snappy \xff\xff\xff\xff\xff");
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(reply.content_type.rfind("text/plain", 0), 0u);

  std::string not_proto;
  snappy::Compress("\xff\xff\xff", 3, &not_proto);
  EXPECT_EQ(RemoteWrite(not_proto).status, 400);

  reply = RemoteWrite(SnappyWriteRequest("up", "bad.label"));
  EXPECT_EQ(reply.status, 400);
  EXPECT_NE(reply.body.find("bad.label"), std::string::npos) << reply.body;
  EXPECT_NE(reply.body.find("__name__=\"up\""), std::string::npos) << reply.body;

  EXPECT_EQ(RemoteWrite(SnappyWriteRequest("up", "x"), "gzip").status, 415);
  EXPECT_EQ(RemoteWrite(std::string((1 << 20) + 1, 'x')).status, 413);
  // Snappy header announcing more than the limit.
  std::string big;
  const std::string zeros(2 << 20, '\0');
  snappy::Compress(zeros.data(), zeros.size(), &big);
  EXPECT_EQ(RemoteWrite(big).status, 413);
  EXPECT_TRUE(appender_.batches.empty());

  appender_.next_status = absl::InvalidArgumentError("out of bounds");
  reply = RemoteWrite(SnappyWriteRequest("up", "x"));
  EXPECT_EQ(reply.status, 400);
  EXPECT_NE(reply.body.find("out of bounds"), std::string::npos);
}

TEST_F(MetricsIngestTest, GrpcServiceInProcess) {
  std::unique_ptr<grpc::Service> service = ingest_.MakeGrpcService();
  grpc::ServerBuilder builder;
  builder.RegisterService(service.get());
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  auto stub = collector::MetricsService::NewStub(server->InProcessChannel(grpc::ChannelArguments()));

  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-scope-orgid", "team-a");
    collector::ExportMetricsServiceResponse resp;
    grpc::Status st = stub->Export(&ctx, GaugeRequest(true), &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(resp.partial_success().rejected_data_points(), 1);
    ASSERT_EQ(appender_.tenants.size(), 1u);
    EXPECT_EQ(appender_.tenants[0], "team-a");
  }
  {
    grpc::ClientContext ctx;
    collector::ExportMetricsServiceResponse resp;
    grpc::Status st = stub->Export(&ctx, GaugeRequest(), &resp);
    ASSERT_TRUE(st.ok());
    EXPECT_FALSE(resp.has_partial_success());
    EXPECT_EQ(appender_.tenants.back(), storage::kDefaultTenant);
  }
  {
    appender_.next_status = absl::ResourceExhaustedError("slow down");
    grpc::ClientContext ctx;
    collector::ExportMetricsServiceResponse resp;
    grpc::Status st = stub->Export(&ctx, GaugeRequest(), &resp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    EXPECT_EQ(st.error_message(), "slow down");
    appender_.next_status = absl::OkStatus();
  }
  {
    appender_.throw_next = true;
    grpc::ClientContext ctx;
    collector::ExportMetricsServiceResponse resp;
    EXPECT_EQ(stub->Export(&ctx, GaugeRequest(), &resp).error_code(), grpc::StatusCode::INTERNAL);
    appender_.throw_next = false;
  }
  server->Shutdown();
  const std::string text = metrics_.RenderText();
  EXPECT_NE(text.find("protocol=\"otlp_grpc\",code=\"OK\""), std::string::npos) << text;
  EXPECT_NE(text.find("protocol=\"otlp_grpc\",code=\"RESOURCE_EXHAUSTED\""), std::string::npos);
}

}  // namespace
}  // namespace otelbox::ingest
