#include "web/json_writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "web/api_errors.h"

namespace otelbox::web {
namespace {

using storage::Labels;

TEST(JsonWriterTest, Values) {
  auto v = [](double d) {
    std::string s;
    AppendSampleValue(&s, d);
    return s;
  };
  EXPECT_EQ(v(2), "\"2\"");
  EXPECT_EQ(v(0.5), "\"0.5\"");
  EXPECT_EQ(v(12.5), "\"12.5\"");
  EXPECT_EQ(v(1e6), "\"1000000\"");
  EXPECT_EQ(v(0.1), "\"0.1\"");
  // Exponent form below 1e-6 and from 1e21, as Prometheus' jsonutil.MarshalValue.
  EXPECT_EQ(v(1e-7), "\"1e-07\"");
  EXPECT_EQ(v(-2.5e-9), "\"-2.5e-09\"");
  EXPECT_EQ(v(1e-6), "\"0.000001\"");
  EXPECT_EQ(v(1e21), "\"1e+21\"");
  EXPECT_EQ(v(123456789012345678901.0), "\"123456789012345680000\"");
  EXPECT_EQ(v(0), "\"0\"");
  EXPECT_EQ(v(-3), "\"-3\"");
  EXPECT_EQ(v(std::nan("")), "\"NaN\"");
  EXPECT_EQ(v(std::numeric_limits<double>::infinity()), "\"+Inf\"");
  EXPECT_EQ(v(-std::numeric_limits<double>::infinity()), "\"-Inf\"");
}

TEST(JsonWriterTest, Timestamps) {
  auto t = [](int64_t ms) {
    std::string s;
    AppendTimestamp(&s, ms);
    return s;
  };
  EXPECT_EQ(t(4000), "4");
  EXPECT_EQ(t(1700000000000), "1700000000");
  EXPECT_EQ(t(1700000012345), "1700000012.345");
  EXPECT_EQ(t(1700000000500), "1700000000.500");  // as Prometheus' MarshalTimestamp
  EXPECT_EQ(t(1700000000005), "1700000000.005");
  EXPECT_EQ(t(-1500), "-1.500");
  EXPECT_EQ(t(0), "0");
}

TEST(JsonWriterTest, StringEscaping) {
  std::string s;
  AppendJsonString(&s, "a\"b\\c\n\t<&>\x01\xff\xc3\xa9");
  EXPECT_EQ(s, "\"a\\\"b\\\\c\\n\\t\\u003c\\u0026\\u003e\\u0001\\ufffd\xc3\xa9\"");
}

TEST(JsonWriterTest, ContractGoldens) {
  // contract §1 / §6: the health check.
  EXPECT_EQ(RenderSuccess(RenderQueryData(query::Scalar{4000, 2})),
            R"({"status":"success","data":{"resultType":"scalar","result":[4,"2"]}})");
  // §4.2 vector.
  query::Vector vec{{Labels{{"job", "api"}}, 1700000000000, 1}};
  EXPECT_EQ(RenderSuccess(RenderQueryData(vec)),
            R"({"status":"success","data":{"resultType":"vector","result":[)"
            R"({"metric":{"job":"api"},"value":[1700000000,"1"]}]}})");
  // §4.2 matrix.
  query::Matrix m{{Labels{{"__name__", "http_requests_total"}, {"job", "api"}, {"instance", "i-1"}},
                   {{1700000000000, 10}, {1700000015000, 12.5}, {1700000030000, std::nan("")}}}};
  EXPECT_EQ(RenderSuccess(RenderQueryData(m)),
            R"({"status":"success","data":{"resultType":"matrix","result":[)"
            R"({"metric":{"__name__":"http_requests_total","instance":"i-1","job":"api"},)"
            R"("values":[[1700000000,"10"],[1700000015,"12.5"],[1700000030,"NaN"]]}]}})");
  // Empty results are [] never null (§5.13).
  EXPECT_EQ(RenderQueryData(query::Matrix{}), R"({"resultType":"matrix","result":[]})");
  EXPECT_EQ(RenderQueryData(query::Vector{}), R"({"resultType":"vector","result":[]})");
  EXPECT_EQ(RenderQueryData(query::String{4000, "hi"}), R"({"resultType":"string","result":[4,"hi"]})");
  // Warnings after data.
  EXPECT_EQ(RenderSuccess("[]", {"results truncated due to limit"}),
            R"({"status":"success","data":[],"warnings":["results truncated due to limit"]})");
  // Infos follow warnings; each list is omitted when empty.
  EXPECT_EQ(RenderSuccess("[]", {"PromQL warning: w (1:1)"}, {"PromQL info: i (1:6)"}),
            R"x({"status":"success","data":[],"warnings":["PromQL warning: w (1:1)"],)x"
            R"x("infos":["PromQL info: i (1:6)"]})x");
  EXPECT_EQ(RenderSuccess("[]", {}, {"PromQL info: i (1:6)"}),
            R"x({"status":"success","data":[],"infos":["PromQL info: i (1:6)"]})x");
}

TEST(JsonWriterTest, ExemplarsAndMetadata) {
  std::vector<storage::SeriesExemplars> ex = {
      {Labels{{"__name__", "http_server_duration_seconds_bucket"}, {"job", "api"}, {"le", "0.5"}},
       {{Labels{{"trace_id", "4bf92f3577b34da6a3ce929d0e0e4736"}, {"span_id", "00f067aa0ba902b7"}},
         1700000012345, 0.27}}}};
  EXPECT_EQ(RenderExemplars(ex),
            R"([{"seriesLabels":{"__name__":"http_server_duration_seconds_bucket","job":"api","le":"0.5"},)"
            R"("exemplars":[{"labels":{"span_id":"00f067aa0ba902b7","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"},)"
            R"("value":"0.27","timestamp":1700000012.345}]}])");
  EXPECT_EQ(RenderExemplars({}), "[]");
  std::vector<storage::MetricMetadata> md = {
      {"rpc_duration_seconds", storage::MetricType::kHistogram, "RPC latency.", "seconds"},
      {"http_requests_total", storage::MetricType::kCounter, "Total requests.", ""}};
  EXPECT_EQ(RenderMetadata(md),
            R"({"http_requests_total":[{"type":"counter","help":"Total requests.","unit":""}],)"
            R"("rpc_duration_seconds":[{"type":"histogram","help":"RPC latency.","unit":"seconds"}]})");
  EXPECT_EQ(RenderMetadata({}), "{}");
}

// Native histograms as Prometheus' jsonutil.MarshalHistogram renders them.
storage::FloatHistogram ExponentialHistogram() {
  storage::FloatHistogram h;
  h.schema = 0;
  h.count = 6;
  h.sum = 10;
  h.zero_count = 1;
  h.zero_threshold = 0.001;
  h.positive_spans = {{0, 3}};
  h.positive_buckets = {1, 2, 1};
  h.negative_spans = {{0, 1}};
  h.negative_buckets = {1};
  return h;
}

TEST(JsonWriterTest, HistogramVector) {
  query::Vector v;
  v.push_back({Labels({{"__name__", "h"}}), 4000, 0, ExponentialHistogram()});
  EXPECT_EQ(RenderQueryData(v),
            "{\"resultType\":\"vector\",\"result\":[{\"metric\":{\"__name__\":\"h\"},"
            "\"histogram\":[4,{\"count\":\"6\",\"sum\":\"10\",\"buckets\":["
            "[1,\"-1\",\"-0.5\",\"1\"],[3,\"-0.001\",\"0.001\",\"1\"],"
            "[0,\"0.5\",\"1\",\"1\"],[0,\"1\",\"2\",\"2\"],[0,\"2\",\"4\",\"1\"]]}]}]}");
}

TEST(JsonWriterTest, HistogramCustomBucketsAndEmpty) {
  storage::FloatHistogram nhcb;
  nhcb.schema = storage::kCustomBucketsSchema;
  nhcb.count = 4;
  nhcb.sum = 7.5;
  nhcb.custom_values = {1, 2};
  nhcb.positive_spans = {{0, 3}};
  nhcb.positive_buckets = {1, 0, 3};  // the empty bucket is left out
  storage::FloatHistogram empty;
  query::Vector v;
  v.push_back({Labels({{"a", "1"}}), 1500, 0, nhcb});
  v.push_back({Labels({{"a", "2"}}), 1500, 0, empty});
  EXPECT_EQ(RenderQueryData(v),
            "{\"resultType\":\"vector\",\"result\":["
            "{\"metric\":{\"a\":\"1\"},\"histogram\":[1.500,{\"count\":\"4\",\"sum\":\"7.5\","
            "\"buckets\":[[3,\"-Inf\",\"1\",\"1\"],[0,\"2\",\"+Inf\",\"3\"]]}]},"
            "{\"metric\":{\"a\":\"2\"},\"histogram\":[1.500,{\"count\":\"0\",\"sum\":\"0\"}]}]}");
}

TEST(JsonWriterTest, HistogramMatrix) {
  query::Matrix m;
  query::MatrixSeries floats{Labels({{"a", "1"}}), {{1000, 1}}, {}};
  query::MatrixSeries hists{Labels({{"a", "2"}}), {}, {}};
  storage::FloatHistogram h;
  h.count = 1;
  h.sum = 3;
  h.positive_spans = {{2, 1}};
  h.positive_buckets = {1};
  hists.histograms.push_back({2000, h});
  m.push_back(floats);
  m.push_back(hists);
  EXPECT_EQ(RenderQueryData(m),
            "{\"resultType\":\"matrix\",\"result\":["
            "{\"metric\":{\"a\":\"1\"},\"values\":[[1,\"1\"]]},"
            "{\"metric\":{\"a\":\"2\"},\"histograms\":[[2,{\"count\":\"1\",\"sum\":\"3\","
            "\"buckets\":[[0,\"2\",\"4\",\"1\"]]}]]}]}");
}

TEST(ApiErrorsTest, Mapping) {
  struct Case {
    absl::Status status;
    int http;
    std::string body;
  } cases[] = {
      {absl::InvalidArgumentError("parse error at char 5: unexpected end of input"), 400,
       R"({"status":"error","errorType":"bad_data","error":"parse error at char 5: unexpected end of input"})"},
      {absl::UnimplementedError("rate"), 422,
       R"({"status":"error","errorType":"execution","error":"not supported yet: rate"})"},
      {absl::UnimplementedError("x is not supported yet"), 422,
       R"({"status":"error","errorType":"execution","error":"x is not supported yet"})"},
      {absl::ResourceExhaustedError("too many samples"), 422,
       R"({"status":"error","errorType":"execution","error":"too many samples"})"},
      {absl::DeadlineExceededError("query timed out"), 503,
       R"({"status":"error","errorType":"timeout","error":"query timed out"})"},
      {absl::CancelledError("gone"), 503,
       R"({"status":"error","errorType":"canceled","error":"gone"})"},
      {absl::UnavailableError("starting"), 503,
       R"({"status":"error","errorType":"unavailable","error":"starting"})"},
      {absl::InternalError("bug \"x\""), 500,
       R"({"status":"error","errorType":"internal","error":"bug \"x\""})"},
  };
  for (const auto& c : cases) {
    HttpResponse r = PrometheusErrorResponse(c.status);
    EXPECT_EQ(r.status, c.http) << c.status;
    EXPECT_EQ(r.body, c.body);
    EXPECT_EQ(r.content_type, "application/json");
  }
}

}  // namespace
}  // namespace otelbox::web
