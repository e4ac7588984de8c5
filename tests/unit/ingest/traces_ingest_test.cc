#include "ingest/traces_ingest.h"

#include <gtest/gtest.h>

#include <mutex>

#include "ingest/otlp/traces_translator.h"
#include "ingest/zipkin/zipkin_json.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace otelbox::ingest {
namespace {

namespace collector = opentelemetry::proto::collector::trace::v1;
namespace tracepb = opentelemetry::proto::trace::v1;

// Records what was appended; can reject spans older than a cutoff like the store.
class FakeAppender : public storage::SpanAppender {
 public:
  absl::StatusOr<storage::SpanAppendStats> Append(std::string_view tenant,
                                                  storage::SpanBatch batch) override {
    std::lock_guard l(mu);
    tenants.emplace_back(tenant);
    storage::SpanAppendStats st;
    for (const auto& s : batch.spans) {
      if (s.start_time_unix_nano < cutoff_ns) {
        if (st.spans_rejected++ == 0) st.first_rejection = "too old";
        continue;
      }
      spans.push_back(s);
      ++st.spans_written;
    }
    return st;
  }
  std::mutex mu;
  std::vector<std::string> tenants;
  std::vector<storage::Span> spans;
  uint64_t cutoff_ns = 0;
};

collector::ExportTraceServiceRequest Request() {
  collector::ExportTraceServiceRequest req;
  auto* rs = req.add_resource_spans();
  rs->set_schema_url("https://opentelemetry.io/schemas/1.26.0");
  auto* kv = rs->mutable_resource()->add_attributes();
  kv->set_key("service.name");
  kv->mutable_value()->set_string_value("api");
  rs->mutable_resource()->set_dropped_attributes_count(2);
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name("lib");
  ss->mutable_scope()->set_version("1.0");
  for (int i = 0; i < 2; ++i) {
    auto* s = ss->add_spans();
    s->set_trace_id(std::string(15, '\0') + "\x01");
    s->set_span_id(std::string(7, '\0') + static_cast<char>(i + 1));
    if (i == 1) s->set_parent_span_id(std::string(7, '\0') + "\x01");
    s->set_name(i == 0 ? "root" : "child");
    s->set_kind(tracepb::Span::SPAN_KIND_CONSUMER);
    s->set_trace_state("a=b");
    s->set_flags(0x301);
    s->set_start_time_unix_nano(1000 + i);
    s->set_end_time_unix_nano(5000);
    auto* a = s->add_attributes();
    a->set_key("arr");
    auto* arr = a->mutable_value()->mutable_array_value();
    arr->add_values()->set_int_value(1);
    arr->add_values()->mutable_kvlist_value()->add_values()->set_key("k");
    auto* b = s->add_attributes();
    b->set_key("raw");
    b->mutable_value()->set_bytes_value("\x01\x02");
    s->set_dropped_attributes_count(1);
    auto* e = s->add_events();
    e->set_name("ev");
    e->set_time_unix_nano(1500);
    e->set_dropped_attributes_count(3);
    s->set_dropped_events_count(4);
    auto* l = s->add_links();
    l->set_trace_id(std::string(15, '\0') + "\x09");
    l->set_span_id(std::string(7, '\0') + "\x09");
    l->set_flags(1);
    s->set_dropped_links_count(5);
    s->mutable_status()->set_code(tracepb::Status::STATUS_CODE_ERROR);
    s->mutable_status()->set_message("bad");
  }
  return req;
}

TEST(TracesTranslatorTest, KeepsEverything) {
  auto tr = otlp::TranslateTraces(Request());
  EXPECT_EQ(tr.rejected_spans, 0);
  ASSERT_EQ(tr.batch.spans.size(), 2u);
  const auto& s = tr.batch.spans[1];
  EXPECT_EQ(s.resource.get(), tr.batch.spans[0].resource.get()) << "resource shared";
  EXPECT_EQ(s.resource->schema_url, "https://opentelemetry.io/schemas/1.26.0");
  EXPECT_EQ(s.resource->dropped_attributes_count, 2u);
  EXPECT_EQ(s.scope->name, "lib");
  EXPECT_EQ(s.scope->version, "1.0");
  EXPECT_EQ(s.trace_id[15], 1);
  EXPECT_EQ(s.span_id[7], 2);
  EXPECT_EQ(s.parent_span_id[7], 1);
  EXPECT_EQ(s.kind, storage::SpanKind::kConsumer);
  EXPECT_EQ(s.trace_state, "a=b");
  EXPECT_EQ(s.flags, 0x301u);
  EXPECT_EQ(s.start_time_unix_nano, 1001u);
  EXPECT_EQ(s.end_time_unix_nano, 5000u);
  ASSERT_EQ(s.attributes.size(), 2u);
  const auto& arr = std::get<storage::AttributeArray>(s.attributes[0].value.value);
  EXPECT_EQ(std::get<int64_t>(arr[0].value), 1);
  EXPECT_EQ(std::get<storage::AttributeList>(arr[1].value).at(0).key, "k");
  EXPECT_EQ(std::get<storage::Bytes>(s.attributes[1].value.value).data, "\x01\x02");
  EXPECT_EQ(s.dropped_attributes_count, 1u);
  ASSERT_EQ(s.events.size(), 1u);
  EXPECT_EQ(s.events[0].dropped_attributes_count, 3u);
  EXPECT_EQ(s.dropped_events_count, 4u);
  ASSERT_EQ(s.links.size(), 1u);
  EXPECT_EQ(s.links[0].trace_id[15], 9);
  EXPECT_EQ(s.links[0].flags, 1u);
  EXPECT_EQ(s.dropped_links_count, 5u);
  EXPECT_EQ(s.status_code, storage::StatusCode::kError);
  EXPECT_EQ(s.status_message, "bad");
}

TEST(TracesTranslatorTest, InvalidIdsAreRejectedPerSpan) {
  auto req = Request();
  req.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(0)->set_trace_id("short");
  req.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(1)->set_span_id(std::string(8, '\0'));
  auto tr = otlp::TranslateTraces(req);
  EXPECT_EQ(tr.rejected_spans, 2);
  EXPECT_TRUE(tr.batch.spans.empty());
  EXPECT_NE(tr.first_error.find("trace id"), std::string::npos);
}

TEST(ZipkinTest, MapsAsTheCollectorDoes) {
  auto batch = zipkin::DecodeZipkinV2Json(R"([
    {"traceId":"a3ce929d0e0e4736","id":"00f067aa0ba902b7","parentId":"00f067aa0ba902b6",
     "name":"get /api","kind":"SERVER","timestamp":1700000000000001,"duration":2500,
     "localEndpoint":{"serviceName":"Frontend","ipv4":"10.0.0.1","port":8080},
     "remoteEndpoint":{"serviceName":"db","ipv4":"10.0.0.2","port":5432},
     "annotations":[{"timestamp":1700000000000100,"value":"cache.miss"},
                    {"timestamp":1700000000000200,"value":"exception|{\"exception.type\":\"E\",\"n\":2}|1"}],
     "tags":{"http.method":"GET","otel.status_code":"ERROR","otel.status_description":"boom",
             "otel.library.name":"lib","otel.library.version":"2","telemetry.sdk.name":"opentelemetry",
             "w3c.tracestate":"k=v"}},
    {"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","id":"0000000000000001","name":"x",
     "tags":{"error":"true","span.kind":"internal"}}])");
  ASSERT_TRUE(batch.ok()) << batch.status();
  ASSERT_EQ(batch->spans.size(), 2u);
  const auto& s = batch->spans[0];
  EXPECT_EQ(s.trace_id[8], 0xa3);
  EXPECT_EQ(s.trace_id[0], 0) << "64-bit ids are left-padded";
  EXPECT_EQ(s.parent_span_id[7], 0xb6);
  EXPECT_EQ(s.kind, storage::SpanKind::kServer);
  EXPECT_EQ(s.start_time_unix_nano, 1700000000000001000u);
  EXPECT_EQ(s.end_time_unix_nano - s.start_time_unix_nano, 2500000u);
  EXPECT_EQ(s.status_code, storage::StatusCode::kError);
  EXPECT_EQ(s.status_message, "boom");
  EXPECT_EQ(s.trace_state, "k=v");
  EXPECT_EQ(s.scope->name, "lib");
  EXPECT_EQ(s.scope->version, "2");
  ASSERT_EQ(s.resource->attributes.size(), 2u);
  EXPECT_EQ(s.resource->attributes[0].key, "service.name");
  EXPECT_EQ(std::get<std::string>(s.resource->attributes[0].value.value), "frontend");
  EXPECT_EQ(s.resource->attributes[1].key, "telemetry.sdk.name");
  auto attr = [&](const storage::Span& sp, std::string_view k) -> const storage::AttributeValue* {
    for (const auto& kv : sp.attributes) {
      if (kv.key == k) return &kv.value;
    }
    return nullptr;
  };
  EXPECT_EQ(std::get<std::string>(attr(s, "http.method")->value), "GET");
  EXPECT_EQ(std::get<std::string>(attr(s, "peer.service")->value), "db");
  EXPECT_EQ(std::get<int64_t>(attr(s, "net.peer.port")->value), 5432);
  EXPECT_EQ(std::get<std::string>(attr(s, "net.host.ip")->value), "10.0.0.1");
  EXPECT_EQ(attr(s, "otel.status_code"), nullptr);
  ASSERT_EQ(s.events.size(), 2u);
  EXPECT_EQ(s.events[0].name, "cache.miss");
  EXPECT_EQ(s.events[1].name, "exception");
  EXPECT_EQ(s.events[1].attributes.size(), 2u);
  EXPECT_EQ(s.events[1].dropped_attributes_count, 1u);
  const auto& t = batch->spans[1];
  EXPECT_EQ(t.status_code, storage::StatusCode::kError);
  EXPECT_EQ(t.kind, storage::SpanKind::kInternal);
  EXPECT_EQ(attr(t, "error"), nullptr);
}

TEST(ZipkinTest, BadInputIsInvalidArgument) {
  for (const char* body : {"", "{}", "[1]", R"([{"id":"0000000000000001"}])",
                           R"([{"traceId":"xyz","id":"0000000000000001"}])",
                           R"([{"traceId":"0000000000000001","id":"00000000000000000001"}])",
                           R"([{"traceId":"0000000000000001","id":"0000000000000001","timestamp":-1}])",
                           R"([{"traceId":"0000000000000001","id":"0000000000000001","tags":{"a":{}}}])",
                           R"([{"traceId":"0000000000000001","id":"0000000000000001","annotations":[{"value":"x"}]}])"}) {
    auto b = zipkin::DecodeZipkinV2Json(body);
    EXPECT_EQ(b.status().code(), absl::StatusCode::kInvalidArgument) << body;
  }
}

TEST(TracesIngestTest, OtlpHttpProtobufJsonAndGzip) {
  FakeAppender appender;
  TracesIngest ingest(&appender, nullptr, IngestLimits{});
  const std::string proto = Request().SerializeAsString();
  IngestRequest r{"team-a", "application/x-protobuf", "", proto};
  auto reply = ingest.HandleOtlpHttp(r);
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.content_type, "application/x-protobuf");
  EXPECT_EQ(appender.spans.size(), 2u);
  EXPECT_EQ(appender.tenants.back(), "team-a");

  const std::string json = R"({"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"j"}}]},
    "scopeSpans":[{"spans":[{"traceId":"4BF92F3577B34DA6A3CE929D0E0E4736","spanId":"00f067aa0ba902b7",
    "name":"n","kind":2,"startTimeUnixNano":"10","endTimeUnixNano":20}]}]}]})";
  reply = ingest.HandleOtlpHttp({"", "application/json; charset=utf-8", "", json});
  EXPECT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.body, "{}");
  EXPECT_EQ(appender.spans.back().trace_id[0], 0x4b);
  EXPECT_EQ(appender.spans.back().kind, storage::SpanKind::kServer);
  EXPECT_EQ(appender.tenants.back(), "fake");

  // Partial success: storage rejects old spans, the translator rejects bad ids.
  appender.cutoff_ns = 1001;
  auto req = Request();
  auto* extra = req.mutable_resource_spans(0)->mutable_scope_spans(0)->add_spans();
  extra->set_trace_id("bad");
  reply = ingest.HandleOtlpHttp({"", "application/x-protobuf", "", req.SerializeAsString()});
  ASSERT_EQ(reply.status, 200);
  collector::ExportTraceServiceResponse resp;
  ASSERT_TRUE(resp.ParseFromString(reply.body));
  EXPECT_EQ(resp.partial_success().rejected_spans(), 2);
  EXPECT_FALSE(resp.partial_success().error_message().empty());
}

TEST(TracesIngestTest, OtlpHttpErrorsAsTheCollector) {
  FakeAppender appender;
  TracesIngest ingest(&appender, nullptr, IngestLimits{});
  EXPECT_EQ(ingest.HandleOtlpHttp({"", "text/plain", "", "x"}).status, 415);
  auto reply = ingest.HandleOtlpHttp({"", "application/x-protobuf", "", "\x0a\xff"});
  EXPECT_EQ(reply.status, 400);
  reply = ingest.HandleOtlpHttp({"", "application/json", "", "{"});
  EXPECT_EQ(reply.status, 400);
  EXPECT_NE(reply.body.find("\"code\":3"), std::string::npos) << reply.body;
  EXPECT_EQ(ingest.HandleOtlpHttp({"", "application/json", "gzip", "nope"}).status, 400);
  IngestLimits small;
  small.max_body_bytes = 10;
  TracesIngest limited(&appender, nullptr, small);
  EXPECT_EQ(limited.HandleOtlpHttp({"", "application/json", "", std::string(100, ' ')}).status, 413);
  EXPECT_TRUE(appender.spans.empty());
}

TEST(TracesIngestTest, Zipkin) {
  FakeAppender appender;
  TracesIngest ingest(&appender, nullptr, IngestLimits{});
  const std::string body = R"([{"traceId":"0000000000000001","id":"0000000000000002","name":"z",
      "timestamp":1,"duration":2,"localEndpoint":{"serviceName":"s"}}])";
  EXPECT_EQ(ingest.HandleZipkin({"", "application/json", "", body}).status, 202);
  EXPECT_EQ(ingest.HandleZipkin({"", "application/json", "gzip", "not gzip"}).status, 400);
  EXPECT_EQ(ingest.HandleZipkin({"", "application/json", "", "[{]"}).status, 400);
  EXPECT_EQ(ingest.HandleZipkin({"", "application/x-thrift", "", "x"}).status, 415);
  EXPECT_EQ(appender.spans.size(), 1u);
}

}  // namespace
}  // namespace otelbox::ingest
