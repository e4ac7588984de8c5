#include "ingest/otlp/otlp_json.h"

#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "google/rpc/status.pb.h"
#include "ingest/otlp/metrics_translator.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace otelbox::ingest::otlp {
namespace {

using MetricsRequest = opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest;
using MetricsResponse = opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceResponse;
using TraceRequest = opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;
using LogsRequest = opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest;

TEST(OtlpJson, SharedMetricsExample) {
  const std::string path = std::string(OTELBOX_SHARED_DIR) + "/conformance/otlp/examples/metrics.json";
  std::ifstream in(path);
  if (!in) GTEST_SKIP() << "missing " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  MetricsRequest req;
  ASSERT_TRUE(OtlpJsonToMessage(ss.str(), &req).ok());
  ASSERT_EQ(req.resource_metrics_size(), 1);
  const auto& metrics = req.resource_metrics(0).scope_metrics(0).metrics();
  ASSERT_EQ(metrics.size(), 4);
  EXPECT_EQ(metrics[0].name(), "my.counter");
  EXPECT_TRUE(metrics[0].sum().is_monotonic());
  EXPECT_EQ(metrics[0].sum().data_points(0).time_unix_nano(), 1544712660300000000ULL);
  EXPECT_EQ(metrics[2].histogram().data_points(0).bucket_counts_size(), 2);
  EXPECT_TRUE(metrics[2].histogram().data_points(0).has_sum());
  EXPECT_EQ(metrics[3].exponential_histogram().data_points(0).positive().offset(), 1);

  // The example uses delta temporality for the sum and both histograms: those three points
  // are rejected (our documented choice); the gauge becomes my_gauge_ratio.
  auto tr = TranslateMetrics(req);
  EXPECT_EQ(tr.rejected_points, 3);
  ASSERT_EQ(tr.batch.series.size(), 1u);
  EXPECT_EQ(tr.batch.series[0].labels.ToString(),
            "{__name__=\"my_gauge_ratio\", job=\"my.service\", my_gauge_attr=\"some value\"}");
  EXPECT_EQ(tr.batch.series[0].samples[0], (storage::Sample{1544712660300, 10}));
}

TEST(OtlpJson, HexIdsIntegersAndEnumNames) {
  // traceId upper-case hex, spanId lower-case; timeUnixNano once as a string, once as a
  // number; asInt as a string; temporality as an enum name; unknown fields ignored.
  const std::string json = R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[
    {"name":"c","unknownField":{"x":1},"sum":{"aggregationTemporality":"AGGREGATION_TEMPORALITY_CUMULATIVE",
     "isMonotonic":true,"dataPoints":[
       {"timeUnixNano":"1700000000000000000","asInt":"-5","exemplars":[
         {"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"eee19b7ec3c1b174","asDouble":1}]},
       {"timeUnixNano":1700000001000000000,"asInt":7}]}}]}]}]})";
  MetricsRequest req;
  auto st = OtlpJsonToMessage(json, &req);
  ASSERT_TRUE(st.ok()) << st;
  const auto& sum = req.resource_metrics(0).scope_metrics(0).metrics(0).sum();
  EXPECT_EQ(sum.aggregation_temporality(),
            opentelemetry::proto::metrics::v1::AGGREGATION_TEMPORALITY_CUMULATIVE);
  EXPECT_EQ(sum.data_points(0).as_int(), -5);
  EXPECT_EQ(sum.data_points(0).time_unix_nano(), 1700000000000000000ULL);
  EXPECT_EQ(sum.data_points(1).time_unix_nano(), 1700000001000000000ULL);
  EXPECT_EQ(sum.data_points(1).as_int(), 7);
  EXPECT_EQ(HexEncode(sum.data_points(0).exemplars(0).trace_id()),
            "5b8efff798038103d269b633813fc60c");
  EXPECT_EQ(HexEncode(sum.data_points(0).exemplars(0).span_id()), "eee19b7ec3c1b174");
}

TEST(OtlpJson, TraceAndLogIds) {
  const std::string trace = R"({"resourceSpans":[{"scopeSpans":[{"spans":[{
    "traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331",
    "parentSpanId":"","name":"GET /cart","kind":2,
    "links":[{"traceId":"0af7651916cd43dd8448eb211c80319d","spanId":"b7ad6b7169203332"}],
    "status":{"code":"STATUS_CODE_ERROR"}}]}]}]})";
  TraceRequest tr;
  ASSERT_TRUE(OtlpJsonToMessage(trace, &tr).ok());
  const auto& span = tr.resource_spans(0).scope_spans(0).spans(0);
  EXPECT_EQ(HexEncode(span.trace_id()), "0af7651916cd43dd8448eb211c80319c");
  EXPECT_TRUE(span.parent_span_id().empty());
  EXPECT_EQ(HexEncode(span.links(0).span_id()), "b7ad6b7169203332");
  EXPECT_EQ(span.kind(), opentelemetry::proto::trace::v1::Span::SPAN_KIND_SERVER);
  EXPECT_EQ(span.status().code(), opentelemetry::proto::trace::v1::Status::STATUS_CODE_ERROR);

  // Reverse: ids back to hex, enums as integers, 64-bit integers as strings.
  auto json = MessageToOtlpJson(tr);
  ASSERT_TRUE(json.ok());
  EXPECT_NE(json->find("\"traceId\":\"0af7651916cd43dd8448eb211c80319c\""), std::string::npos)
      << *json;
  EXPECT_NE(json->find("\"kind\":2"), std::string::npos) << *json;
  EXPECT_NE(json->find("\"code\":2"), std::string::npos) << *json;
  TraceRequest again;
  ASSERT_TRUE(OtlpJsonToMessage(*json, &again).ok());
  EXPECT_EQ(again.SerializeAsString(), tr.SerializeAsString());

  LogsRequest logs;
  ASSERT_TRUE(OtlpJsonToMessage(
                  R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174","severityNumber":9,"body":{"stringValue":"hi"}}]}]}]})",
                  &logs)
                  .ok());
  EXPECT_EQ(HexEncode(logs.resource_logs(0).scope_logs(0).log_records(0).span_id()),
            "eee19b7ec3c1b174");
}

TEST(OtlpJson, MalformedInputs) {
  MetricsRequest req;
  const char* bad[] = {
      "",
      "{",
      "[]",
      R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"gauge":{"dataPoints":[{"asDouble":"x"}]}}]}]}]})",
      R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"sum":{"dataPoints":[{"exemplars":[{"traceId":"zz"}]}]}}]}]}]})",
      R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"sum":{"dataPoints":[{"exemplars":[{"traceId":"0af7651916cd43dd8448eb211c80319"}]}]}}]}]}]})",
      R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"sum":{"dataPoints":[{"exemplars":[{"spanId":12}]}]}}]}]}]})",
      R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"sum":{"dataPoints":[{"timeUnixNano":"abc"}]}}]}]}]})",
  };
  for (const char* text : bad) {
    auto st = OtlpJsonToMessage(text, &req);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << text;
  }
  // Deep nesting is refused, not a stack overflow.
  std::string deep(100000, '[');
  EXPECT_FALSE(OtlpJsonToMessage(deep, &req).ok());
}

TEST(OtlpJson, ResponsesAndStatus) {
  MetricsResponse ok;
  EXPECT_EQ(*MessageToOtlpJson(ok), "{}");
  MetricsResponse partial;
  partial.mutable_partial_success()->set_rejected_data_points(3);
  partial.mutable_partial_success()->set_error_message("bad");
  EXPECT_EQ(*MessageToOtlpJson(partial),
            R"({"partialSuccess":{"rejectedDataPoints":"3","errorMessage":"bad"}})");
  google::rpc::Status status;
  status.set_code(3);
  status.set_message("nope");
  EXPECT_EQ(*MessageToOtlpJson(status), R"({"code":3,"message":"nope"})");
}

}  // namespace
}  // namespace otelbox::ingest::otlp
