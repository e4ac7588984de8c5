// LogsIngest: the Loki push and OTLP logs HTTP paths end to end over a fake appender.

#include "ingest/logs_ingest.h"

#include <zlib.h>

#include <mutex>

#include "gtest/gtest.h"
#include "google/rpc/status.pb.h"
#include "loki/push.pb.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "snappy.h"

namespace otelbox::ingest {
namespace {

namespace collector = opentelemetry::proto::collector::logs::v1;
constexpr int64_t kNow = 1700000000000000000;

// Records batches; rejects entries older than `oldest_ns` per stream as storage does.
class FakeLogAppender : public storage::LogAppender {
 public:
  absl::StatusOr<storage::LogAppendStats> Append(std::string_view tenant,
                                                 const storage::LogBatch& batch) override {
    std::lock_guard<std::mutex> lock(mu);
    if (!next_status.ok()) return next_status;
    tenants.emplace_back(tenant);
    storage::LogAppendStats stats;
    storage::LogBatch kept;
    for (const auto& s : batch.streams) {
      storage::LogStream ks{s.labels, {}};
      int64_t rejected = 0;
      for (const auto& e : s.entries) {
        if (e.t_ns < oldest_ns) {
          ++rejected;
        } else {
          ks.entries.push_back(e);
        }
      }
      if (rejected > 0) {
        storage::LogStreamRejection r;
        r.labels = s.labels;
        r.entries_rejected = rejected;
        r.message = "entry for stream '" + s.labels.ToString() + "' has timestamp too old";
        stats.rejections.push_back(r);
        stats.entries_rejected += rejected;
      }
      stats.entries_written += static_cast<int64_t>(ks.entries.size());
      kept.streams.push_back(std::move(ks));
    }
    batches.push_back(std::move(kept));
    return stats;
  }

  std::mutex mu;
  absl::Status next_status;
  int64_t oldest_ns = 0;
  std::vector<std::string> tenants;
  std::vector<storage::LogBatch> batches;
};

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

class LogsIngestTest : public ::testing::Test {
 protected:
  IngestReply Push(std::string_view content_type, std::string_view body,
                   std::string_view encoding = "") {
    IngestRequest r;
    r.tenant = "t1";
    r.content_type = content_type;
    r.content_encoding = encoding;
    r.body = body;
    return ingest_.HandleLokiPush(r);
  }
  IngestReply Otlp(std::string_view content_type, std::string_view body,
                   std::string_view encoding = "") {
    IngestRequest r;
    r.tenant = "t1";
    r.content_type = content_type;
    r.content_encoding = encoding;
    r.body = body;
    return ingest_.HandleOtlpHttp(r);
  }

  FakeLogAppender appender_;
  IngestLimits limits_{1 << 20, 0};
  LogsIngest ingest_{&appender_, nullptr, limits_, loki::PushLimits{}, [] { return kNow; }};
};

TEST_F(LogsIngestTest, JsonPushGzip) {
  const std::string body = Gzip(R"({"streams":[{"stream":{"app":"api"},"values":[
      ["1700000000000000000","level=info hi",{"trace_id":"abc"}]]}]})");
  auto reply = Push("application/json", body, "gzip");
  EXPECT_EQ(reply.status, 204) << reply.body;
  ASSERT_EQ(appender_.batches.size(), 1u);
  EXPECT_EQ(appender_.tenants[0], "t1");
  const auto& s = appender_.batches[0].streams.at(0);
  EXPECT_EQ(s.labels, storage::Labels({{"app", "api"}, {"service_name", "api"}}));
  EXPECT_EQ(s.entries.at(0).metadata,
            (std::vector<storage::Label>{{"trace_id", "abc"}, {"detected_level", "info"}}));
}

TEST_F(LogsIngestTest, SnappyProtobufPush) {
  logproto::PushRequest req;
  auto* st = req.add_streams();
  st->set_labels(R"({job="w", level="error"})");
  auto* e = st->add_entries();
  e->mutable_timestamp()->set_seconds(1700000000);
  e->set_line("boom");
  std::string raw = req.SerializeAsString(), compressed;
  snappy::Compress(raw.data(), raw.size(), &compressed);
  auto reply = Push("application/x-protobuf", compressed);
  EXPECT_EQ(reply.status, 204) << reply.body;
  ASSERT_EQ(appender_.batches.size(), 1u);
  EXPECT_EQ(appender_.batches[0].streams[0].entries[0].metadata,
            (std::vector<storage::Label>{{"detected_level", "error"}}));
}

TEST_F(LogsIngestTest, MalformedBodiesAre400) {
  EXPECT_EQ(Push("application/json", "{nope").status, 400);
  EXPECT_EQ(Push("application/x-protobuf", "not snappy").status, 400);
  auto enc = Push("application/json", "{}", "br");
  EXPECT_EQ(enc.status, 400);
  EXPECT_EQ(enc.body, "Content-Encoding \"br\" not supported\n");
  EXPECT_EQ(Push("application/json", "not gzip", "gzip").status, 400);
  EXPECT_EQ(Push("application/json", R"({"streams":[]})").status, 422);
  EXPECT_EQ(Push("application/json", std::string((1 << 20) + 1, ' ')).status, 413);
  EXPECT_TRUE(appender_.batches.empty());
}

TEST_F(LogsIngestTest, PartialRejectionWritesTheRestAndAnswers400) {
  appender_.oldest_ns = kNow - 10;
  auto reply = Push("application/json", R"({"streams":[
      {"stream":{"app":"a"},"values":[["1700000000000000000","ok"],["1","ancient"]]},
      {"stream":{"app":"b"},"values":[["1700000000000000000",")" + std::string(300000, 'x') + R"("]]}]})");
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(reply.content_type, "text/plain; charset=utf-8");
  EXPECT_TRUE(reply.body.starts_with("1 errors like: ")) << reply.body;
  EXPECT_NE(reply.body.find("Max entry size '262144' bytes exceeded for stream "
                            "'{app=\"b\", service_name=\"b\"}'"),
            std::string::npos)
      << reply.body;
  EXPECT_NE(reply.body.find("timestamp too old"), std::string::npos) << reply.body;
  ASSERT_EQ(appender_.batches.size(), 1u);
  ASSERT_EQ(appender_.batches[0].streams.size(), 1u);
  EXPECT_EQ(appender_.batches[0].streams[0].entries.size(), 1u);
}

TEST_F(LogsIngestTest, StorageErrorsMapToStatus) {
  appender_.next_status = absl::UnavailableError("shutting down");
  auto reply = Push("application/json", R"({"streams":[{"stream":{"a":"b"},"values":[["1700000000000000000","x"]]}]})");
  EXPECT_EQ(reply.status, 503);
}

collector::ExportLogsServiceRequest OtlpLogs() {
  collector::ExportLogsServiceRequest req;
  auto* rl = req.add_resource_logs();
  auto* kv = rl->mutable_resource()->add_attributes();
  kv->set_key("service.name");
  kv->mutable_value()->set_string_value("svc");
  auto* r = rl->add_scope_logs()->add_log_records();
  r->set_time_unix_nano(kNow);
  r->set_severity_text("Information");
  r->mutable_body()->set_string_value("hello");
  auto* r2 = rl->mutable_scope_logs(0)->add_log_records();
  r2->set_time_unix_nano(kNow);
  r2->mutable_body()->set_string_value(std::string(300 * 1024, 'y'));
  return req;
}

TEST_F(LogsIngestTest, OtlpHttpProtobufWithPartialSuccess) {
  auto reply = Otlp("application/x-protobuf", Gzip(OtlpLogs().SerializeAsString()), "gzip");
  ASSERT_EQ(reply.status, 200) << reply.body;
  collector::ExportLogsServiceResponse resp;
  ASSERT_TRUE(resp.ParseFromString(reply.body));
  EXPECT_EQ(resp.partial_success().rejected_log_records(), 1);
  EXPECT_NE(resp.partial_success().error_message().find("Max entry size"), std::string::npos);
  ASSERT_EQ(appender_.batches.size(), 1u);
  const auto& s = appender_.batches[0].streams[0];
  EXPECT_EQ(s.labels, storage::Labels({{"service_name", "svc"}}));
  EXPECT_EQ(s.entries[0].metadata,
            (std::vector<storage::Label>{{"severity_text", "Information"}, {"detected_level", "info"}}));
}

TEST_F(LogsIngestTest, OtlpHttpJsonAndErrors) {
  auto ok = Otlp("application/json", R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[
      {"timeUnixNano":"1700000000000000000","body":{"stringValue":"j"},
       "traceId":"4bf92f3577b34da6a3ce929d0e0e4736"}]}]}]})");
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.body, "{}");
  ASSERT_EQ(appender_.batches.size(), 1u);
  EXPECT_EQ(appender_.batches[0].streams[0].entries[0].metadata[0],
            (storage::Label{"trace_id", "4bf92f3577b34da6a3ce929d0e0e4736"}));
  EXPECT_EQ(Otlp("text/plain", "x").status, 415);
  auto bad = Otlp("application/x-protobuf", "\xff\xff\xff");
  EXPECT_EQ(bad.status, 400);
  google::rpc::Status st;
  EXPECT_TRUE(st.ParseFromString(bad.body));
  EXPECT_EQ(Otlp("application/json", "{").status, 400);
}

}  // namespace
}  // namespace otelbox::ingest
