#include "ingest/prometheus/remote_write.h"

#include "gtest/gtest.h"
#include "snappy.h"

namespace otelbox::ingest {
namespace {

void AddLabel(::prometheus::TimeSeries* ts, const std::string& n, const std::string& v) {
  auto* l = ts->add_labels();
  l->set_name(n);
  l->set_value(v);
}

::prometheus::WriteRequest OneSeries(std::vector<std::pair<std::string, std::string>> labels) {
  ::prometheus::WriteRequest req;
  auto* ts = req.add_timeseries();
  for (auto& [n, v] : labels) AddLabel(ts, n, v);
  auto* s = ts->add_samples();
  s->set_value(1);
  s->set_timestamp(1000);
  return req;
}

TEST(RemoteWrite, TranslatesSeriesExemplarsAndMetadata) {
  auto req = OneSeries({{"__name__", "up"}, {"job", "api"}, {"empty", ""}});
  auto* ex = req.mutable_timeseries(0)->add_exemplars();
  ex->set_value(0.5);
  ex->set_timestamp(999);
  auto* el = ex->add_labels();
  el->set_name("trace_id");
  el->set_value("abc");
  auto* md = req.add_metadata();
  md->set_type(::prometheus::MetricMetadata::COUNTER);
  md->set_metric_family_name("http_requests_total");
  md->set_help("Requests.");
  md->set_unit("requests");

  auto batch = TranslateWriteRequest(req);
  ASSERT_TRUE(batch.ok()) << batch.status();
  ASSERT_EQ(batch->series.size(), 1u);
  EXPECT_EQ(batch->series[0].labels, (storage::Labels{{"__name__", "up"}, {"job", "api"}}));
  EXPECT_EQ(batch->series[0].samples, (std::vector<storage::Sample>{{1000, 1}}));
  ASSERT_EQ(batch->series[0].exemplars.size(), 1u);
  EXPECT_EQ(batch->series[0].exemplars[0].labels, (storage::Labels{{"trace_id", "abc"}}));
  ASSERT_EQ(batch->metadata.size(), 1u);
  EXPECT_EQ(batch->metadata[0],
            (storage::MetricMetadata{"http_requests_total", storage::MetricType::kCounter,
                                     "Requests.", "requests"}));
}

TEST(RemoteWrite, InvalidSeriesNamed) {
  struct Case {
    std::vector<std::pair<std::string, std::string>> labels;
    std::string want;
  };
  const Case cases[] = {
      {{{"job", "api"}}, "missing or empty __name__"},
      {{{"__name__", ""}, {"job", "api"}}, "missing or empty __name__"},
      {{{"__name__", "up"}, {"1bad", "x"}}, "invalid label name \"1bad\""},
      {{{"__name__", "up"}, {"a.b", "x"}}, "invalid label name \"a.b\""},
      {{{"__name__", "up"}, {"", "x"}}, "invalid label name \"\""},
      {{{"__name__", "up"}, {"job", "a"}, {"job", "b"}}, "duplicate label with name: job"},
      {{{"__name__", "up"}, {"job", "\xff\xfe"}}, "invalid UTF-8"},
  };
  for (const auto& c : cases) {
    auto batch = TranslateWriteRequest(OneSeries(c.labels));
    ASSERT_EQ(batch.status().code(), absl::StatusCode::kInvalidArgument) << c.want;
    const std::string msg(batch.status().message());
    EXPECT_NE(msg.find(c.want), std::string::npos) << msg;
    EXPECT_NE(msg.find("in series {"), std::string::npos) << msg;
  }
}

TEST(RemoteWrite, DecodeSnappyRoundTripAndErrors) {
  auto req = OneSeries({{"__name__", "up"}});
  std::string compressed;
  const std::string raw = req.SerializeAsString();
  snappy::Compress(raw.data(), raw.size(), &compressed);
  ::prometheus::WriteRequest decoded;
  auto status = DecodeWriteRequest(compressed, 1 << 20, &decoded);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(decoded.SerializeAsString(), raw);

  EXPECT_EQ(DecodeWriteRequest(compressed, raw.size() - 1, &decoded).code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(DecodeWriteRequest(raw + "garbage", 1 << 20, &decoded).code(),
            absl::StatusCode::kInvalidArgument);
  std::string not_proto;
  snappy::Compress("\xff\xff\xff", 3, &not_proto);
  EXPECT_EQ(DecodeWriteRequest(not_proto, 1 << 20, &decoded).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace otelbox::ingest
