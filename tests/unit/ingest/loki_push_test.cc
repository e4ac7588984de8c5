// Loki push decoding (JSON, snappy protobuf), the label-string parser, detected_level and
// the distributor-style validation.

#include <string>

#include "gtest/gtest.h"
#include "ingest/loki/detected_level.h"
#include "ingest/loki/push_request.h"
#include "ingest/loki/push_validator.h"
#include "ingest/loki/stream_labels.h"
#include "loki/push.pb.h"
#include "snappy.h"

namespace otelbox::ingest::loki {
namespace {

using storage::Label;

constexpr int64_t kNow = 1700000000000000000;

std::vector<Label> L(std::initializer_list<Label> l) { return l; }

TEST(StreamLabelsTest, ParsesSelectorForm) {
  auto l = ParseStreamLabels(R"({app="api", env = "prod",})");
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(*l, L({{"app", "api"}, {"env", "prod"}}));
  l = ParseStreamLabels(R"( {a="x\"y\n\u00e9", b=`raw\n`, c='s', d=""} )");
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(*l, L({{"a", "x\"y\n\xc3\xa9"}, {"b", "raw\\n"}, {"c", "s"}}));  // empty d dropped
  l = ParseStreamLabels(R"({"service.name"="x"})");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ((*l)[0].name, "service.name");
  l = ParseStreamLabels("up{job=\"a\"}");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(*l, L({{"__name__", "up"}, {"job", "a"}}));
  EXPECT_TRUE(ParseStreamLabels("{}").ok());
}

TEST(StreamLabelsTest, RejectsBadSyntaxWithPosition) {
  for (const char* bad : {"{app=\"x\"", "{app=x}", "{app-x=\"1\"}", "app=\"x\"}", "{a=\"x\" b=\"y\"}",
                          "{a=\"\\q\"}", "", "{a=\"x\"}}"}) {
    auto l = ParseStreamLabels(bad);
    EXPECT_FALSE(l.ok()) << bad;
    if (!l.ok()) EXPECT_NE(std::string(l.status().message()).find("parse error"), std::string::npos) << bad;
  }
  EXPECT_EQ(ParseStreamLabels("{app-x=\"1\"}").status().message(),
            "1:5: parse error: unexpected character '-', expected \"=\"");
}

TEST(PushRequestTest, DecodesJsonWithStructuredMetadata) {
  auto s = DecodePushJson(R"({"streams":[{"stream":{"app":"api","env":"dev"},
      "values":[["1700000000000000001","first"],
                ["1700000000000000000","second",{"trace_id":"abc","n":5}],
                ["3","third",{"structuredMetadata":{"user":"u1"},"parsed":{"x":"y"}}]]}]})");
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->size(), 1u);
  const PushStream& st = (*s)[0];
  EXPECT_EQ(st.labels, L({{"app", "api"}, {"env", "dev"}}));
  ASSERT_EQ(st.entries.size(), 3u);
  EXPECT_EQ(st.entries[0].t_ns, 1700000000000000001);
  EXPECT_EQ(st.entries[0].line, "first");
  EXPECT_EQ(st.entries[1].metadata, L({{"trace_id", "abc"}, {"n", "5"}}));
  EXPECT_EQ(st.entries[2].metadata, L({{"user", "u1"}}));
}

TEST(PushRequestTest, RejectsMalformedJson) {
  for (const char* bad : {"{", "[]", R"({"streams":{}})", R"({"streams":[{"values":[[1,"x"]]}]})",
                          R"({"streams":[{"values":[["x","y"]]}]})",
                          R"({"streams":[{"values":[["1"]]}]})",
                          R"({"streams":[{"stream":{"a":1},"values":[]}]})",
                          R"({"streams":[{"values":[["1","l",{"k":{"deep":1}}]]}]})"}) {
    auto s = DecodePushJson(bad);
    // The last one is accepted by Loki too (unknown nested objects are ignored).
    if (std::string_view(bad).find("deep") != std::string_view::npos) {
      EXPECT_TRUE(s.ok()) << s.status();
      continue;
    }
    EXPECT_FALSE(s.ok()) << bad;
    if (!s.ok()) EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

std::string SnappyPush(const std::string& labels) {
  logproto::PushRequest req;
  auto* s = req.add_streams();
  s->set_labels(labels);
  auto* e = s->add_entries();
  e->mutable_timestamp()->set_seconds(1700000000);
  e->mutable_timestamp()->set_nanos(42);
  e->set_line("hello");
  auto* md = e->add_structuredmetadata();
  md->set_name("trace_id");
  md->set_value("t1");
  std::string raw = req.SerializeAsString(), out;
  snappy::Compress(raw.data(), raw.size(), &out);
  return out;
}

TEST(PushRequestTest, DecodesSnappyProtobuf) {
  auto s = DecodePushProtobuf(SnappyPush(R"({job="winston", host="h1"})"), true, 1 << 20);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->size(), 1u);
  EXPECT_EQ((*s)[0].labels, L({{"job", "winston"}, {"host", "h1"}}));
  ASSERT_EQ((*s)[0].entries.size(), 1u);
  EXPECT_EQ((*s)[0].entries[0].t_ns, 1700000000000000042);
  EXPECT_EQ((*s)[0].entries[0].metadata, L({{"trace_id", "t1"}}));
}

TEST(PushRequestTest, ProtobufErrors) {
  auto bad_labels = DecodePushProtobuf(SnappyPush("{job=\"x\""), true, 1 << 20);
  ASSERT_FALSE(bad_labels.ok());
  EXPECT_TRUE(std::string(bad_labels.status().message()).starts_with("couldn't parse labels: "))
      << bad_labels.status();
  EXPECT_FALSE(DecodePushProtobuf("not snappy at all", true, 1 << 20).ok());
  std::string garbage, compressed;
  garbage.assign("\xff\xff\xff\xff\x0f\x0a", 6);
  snappy::Compress(garbage.data(), garbage.size(), &compressed);
  EXPECT_FALSE(DecodePushProtobuf(compressed, true, 1 << 20).ok());
  auto big = DecodePushProtobuf(SnappyPush(std::string(2000, 'x')), true, 100);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(PushRequestTest, LabelsStringIsGoQuoted) {
  EXPECT_EQ(LabelsString(L({{"a", "x\"y"}, {"b", "2"}})), R"({a="x\"y", b="2"})");
}

TEST(DetectedLevelTest, Normalises) {
  EXPECT_EQ(NormalizeLogLevel("WARNING"), "warn");
  EXPECT_EQ(NormalizeLogLevel("Err"), "error");
  EXPECT_EQ(NormalizeLogLevel("INF"), "info");
  EXPECT_EQ(NormalizeLogLevel("notice"), "notice");
}

std::string Detect(const storage::Labels& stream, std::string_view line,
                   std::vector<Label> md = {}) {
  AddDetectedLevel(stream, line, &md);
  for (const auto& l : md) {
    if (l.name == "detected_level") return l.value;
  }
  return "<none>";
}

TEST(DetectedLevelTest, ResolutionOrder) {
  EXPECT_EQ(Detect({{"level", "ERROR"}}, "info line", {{"severity_text", "debug"}}), "error");
  EXPECT_EQ(Detect({}, "x", {{"severity_text", "WARN"}, {"severity_number", "9"}}), "warn");
  EXPECT_EQ(Detect({}, "x", {{"severity_number", "17"}}), "error");
  EXPECT_EQ(Detect({}, "x", {{"severity_number", "0"}}), "unknown");
  EXPECT_EQ(Detect({}, R"({"msg":"hi","level":"dbg"})"), "debug");
  EXPECT_EQ(Detect({}, R"({"msg":"error happened","meta":{"severity":"fatal"}})"), "fatal");
  // Depth 2 is not searched: the first level word in the line decides.
  EXPECT_EQ(Detect({}, R"({"m":"error x","a":{"b":{"level":"info"}}})"), "error");
  EXPECT_EQ(Detect({}, "ts=1 lvl=warn level=info msg=x"), "info");  // `level` outranks `lvl`
  EXPECT_EQ(Detect({}, "ts=1 Level=Information"), "info");
  EXPECT_EQ(Detect({}, "2024-01-01 [ERROR] disk full, warning ignored"), "error");
  EXPECT_EQ(Detect({}, "nothing to see"), "unknown");
  EXPECT_EQ(Detect({}, "terror is not a level"), "unknown");
  // An existing detected_level is normalised, not replaced.
  std::vector<Label> md = {{"detected_level", "WRN"}};
  AddDetectedLevel({{"level", "error"}}, "x", &md);
  EXPECT_EQ(md, L({{"detected_level", "warn"}}));
}

PushStream Stream(std::vector<Label> labels, std::vector<storage::LogEntry> entries) {
  return PushStream{std::move(labels), std::move(entries)};
}

TEST(PushValidatorTest, AcceptsAndAddsMetadata) {
  std::vector<PushStream> in;
  in.push_back(Stream({{"job", "api"}}, {{kNow, "level=error boom", {{"trace.id", "t"}}}}));
  DiscoverServiceName(&in[0].labels);
  ValidatedPush out = ValidatePush(std::move(in), PushLimits{}, kNow);
  EXPECT_TRUE(out.errors.empty());
  ASSERT_EQ(out.batch.streams.size(), 1u);
  EXPECT_EQ(out.batch.streams[0].labels, storage::Labels({{"job", "api"}, {"service_name", "api"}}));
  EXPECT_EQ(out.batch.streams[0].entries[0].metadata,
            L({{"trace_id", "t"}, {"detected_level", "error"}}));
}

TEST(PushValidatorTest, ServiceNameDiscovery) {
  std::vector<Label> l = {{"container", "c"}, {"app", "a"}};
  DiscoverServiceName(&l);
  EXPECT_EQ(l.back(), (Label{"service_name", "a"}));
  l = {{"foo", "bar"}};
  DiscoverServiceName(&l);
  EXPECT_EQ(l.back(), (Label{"service_name", "unknown_service"}));
  l = {{"service_name", "keep"}, {"app", "a"}};
  DiscoverServiceName(&l);
  EXPECT_EQ(l, L({{"service_name", "keep"}, {"app", "a"}}));
}

TEST(PushValidatorTest, RejectsWithLokiMessages) {
  std::vector<PushStream> in;
  std::vector<Label> many;
  for (int i = 0; i < 16; ++i) many.push_back({"l" + std::to_string(i + 10), "v"});
  in.push_back(Stream(many, {{kNow, "x", {}}}));
  in.push_back(Stream({{"app", "a"}, {"app", "b"}}, {{kNow, "x", {}}}));
  in.push_back(Stream({{"app", "ok"}}, {{kNow, std::string(300 * 1024, 'x'), {}},
                                        {kNow + int64_t{3600} * 1000000000, "future", {}},
                                        {kNow, "fine", {}}}));
  ValidatedPush out = ValidatePush(std::move(in), PushLimits{}, kNow);
  ASSERT_EQ(out.errors.size(), 4u);
  EXPECT_TRUE(out.errors[0].starts_with("entry for stream '{l10=\"v\", "));
  EXPECT_TRUE(out.errors[0].ends_with("' has 16 label names; limit 15")) << out.errors[0];
  EXPECT_EQ(out.errors[1], "stream '{app=\"a\", app=\"b\"}' has duplicate label name: 'app'");
  EXPECT_EQ(out.errors[2],
            "Max entry size '262144' bytes exceeded for stream '{app=\"ok\"}' while adding an "
            "entry with length '307200' bytes");
  EXPECT_EQ(out.errors[3],
            "entry for stream '{app=\"ok\"}' has timestamp too new: 2023-11-14T23:13:20Z");
  EXPECT_EQ(out.rejected_entries, 4);
  ASSERT_EQ(out.batch.streams.size(), 1u);
  ASSERT_EQ(out.batch.streams[0].entries.size(), 1u);
  EXPECT_EQ(out.batch.streams[0].entries[0].line, "fine");
}

TEST(PushValidatorTest, GroupedErrors) {
  EXPECT_EQ(GroupedErrorText({"a"}), "a");
  EXPECT_EQ(GroupedErrorText({"a", "a"}), "2 errors like: a");
  EXPECT_EQ(GroupedErrorText({"a", "b", "a"}), "2 errors like: a; 1 errors like: b");
}

}  // namespace
}  // namespace otelbox::ingest::loki
