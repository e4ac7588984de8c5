#include "web/tempo_api.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>

#include "storage/traces/trace_store.h"
#include "web/tempo_trace_encoding.h"

namespace otelbox::web {
namespace {

constexpr int64_t kNowMs = 1'705'276'800'000;  // 2024-01-15T00:00:00Z
constexpr uint64_t kNowNs = static_cast<uint64_t>(kNowMs) * 1'000'000;

TEST(TempoParamsTest, TraceIds) {
  auto id = ParseTraceIdHex("A3CE929D0E0E4736");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ((*id)[0], 0);
  EXPECT_EQ((*id)[8], 0xa3);
  EXPECT_EQ((*id)[15], 0x36);
  EXPECT_TRUE(ParseTraceIdHex("1").ok());
  EXPECT_FALSE(ParseTraceIdHex("").ok());
  EXPECT_FALSE(ParseTraceIdHex(std::string(33, 'a')).ok());
  EXPECT_FALSE(ParseTraceIdHex("xyz").ok());
}

TEST(TempoParamsTest, DurationsAndTimes) {
  EXPECT_EQ(*ParseGoDurationNs("1h30m"), 5400LL * 1'000'000'000);
  EXPECT_EQ(*ParseGoDurationNs("1.5s"), 1'500'000'000);
  EXPECT_EQ(*ParseGoDurationNs("100ms"), 100'000'000);
  EXPECT_EQ(*ParseGoDurationNs("250us"), 250'000);
  EXPECT_EQ(*ParseGoDurationNs("0"), 0);
  EXPECT_FALSE(ParseGoDurationNs("10").ok());
  EXPECT_FALSE(ParseGoDurationNs("1d").ok());
  EXPECT_EQ(*ParseTempoTimeNs("1700000000"), 1'700'000'000ULL * 1'000'000'000);
  EXPECT_EQ(*ParseTempoTimeNs("1700000000000000000"), 1'700'000'000ULL * 1'000'000'000);
  EXPECT_EQ(*ParseTempoTimeNs("1700000000.5"), 1'700'000'000'500'000'000ULL);
  EXPECT_EQ(*ParseTempoTimeNs("2023-11-14T22:13:20Z"), 1'700'000'000ULL * 1'000'000'000);
  EXPECT_EQ(*ParseTempoTimeNs("2023-11-14T23:13:20.25+01:00"), 1'700'000'000'250'000'000ULL);
  EXPECT_FALSE(ParseTempoTimeNs("yesterday").ok());
}

class TempoApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/otelbox-tempo-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    storage::DatabaseOptions dbo;
    dbo.now_ms = [] { return kNowMs; };
    db_ = *storage::Database::Open(dir_, dbo);
    storage::TraceStoreOptions o;
    o.now_ms = [] { return kNowMs; };
    store_ = *storage::TraceStore::Open(db_.get(), o, nullptr);
    engine_ = std::make_unique<query::traceql::Engine>(store_.get());
    api_ = std::make_unique<TempoApi>(store_.get(), engine_.get(), TempoBuildInfo{}, [] { return kNowMs; });
    api_->Register(&router_);

    auto res = std::make_shared<storage::Resource>();
    res->attributes.push_back({"service.name", {std::string("api")}});
    auto scope = std::make_shared<storage::InstrumentationScope>();
    scope->name = "lib";
    storage::SpanBatch batch;
    for (int i = 0; i < 2; ++i) {
      storage::Span s;
      s.resource = res;
      s.scope = scope;
      s.trace_id[15] = 0x42;
      s.span_id[7] = static_cast<uint8_t>(i + 1);
      if (i == 1) s.parent_span_id[7] = 1;
      s.name = i == 0 ? "GET /" : "db";
      s.kind = i == 0 ? storage::SpanKind::kServer : storage::SpanKind::kClient;
      s.start_time_unix_nano = kNowNs - 60'000'000'000ULL + static_cast<uint64_t>(i) * 1000;
      s.end_time_unix_nano = s.start_time_unix_nano + 2'000'000;
      s.attributes.push_back({"http.status_code", {int64_t{500}}});
      s.attributes.push_back({"ratio", {0.5}});
      if (i == 1) s.status_code = storage::StatusCode::kError;
      batch.spans.push_back(s);
    }
    ASSERT_TRUE(store_->Append("fake", batch).ok());
  }
  void TearDown() override {
    api_.reset();
    engine_.reset();
    store_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  HttpResponse Get(std::string target, KeyValues headers = {}) {
    HttpRequest r;
    r.method = "GET";
    auto q = target.find('?');
    r.path = target.substr(0, q);
    if (q != std::string::npos) EXPECT_TRUE(ParseFormEncoded(target.substr(q + 1), &r.params).ok());
    r.headers = std::move(headers);
    std::string pattern;
    return router_.Dispatch(r, &pattern);
  }

  std::string dir_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<storage::TraceStore> store_;
  std::unique_ptr<query::traceql::Engine> engine_;
  std::unique_ptr<TempoApi> api_;
  Router router_;
};

TEST_F(TempoApiTest, EchoAndBuildInfo) {
  auto r = Get("/api/echo");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "echo");
  r = Get("/api/status/buildinfo");
  auto v = boost::json::parse(r.body);
  EXPECT_EQ(v.at("version").as_string(), "2.7.0");
  EXPECT_FALSE(v.as_object().contains("status"));
}

TEST_F(TempoApiTest, TraceByIdJsonAndProtobuf) {
  auto r = Get("/api/v2/traces/42");
  ASSERT_EQ(r.status, 200) << r.body;
  auto v = boost::json::parse(r.body);
  EXPECT_EQ(v.at("status").as_string(), "COMPLETE");
  auto& spans = v.at("trace").at("resourceSpans").at(0).at("scopeSpans").at(0).at("spans").as_array();
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0].at("traceId").as_string(), "AAAAAAAAAAAAAAAAAAAAQg==");
  EXPECT_EQ(spans[0].at("kind").as_string(), "SPAN_KIND_SERVER");
  r = Get("/api/traces/0042");
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(boost::json::parse(r.body).as_object().contains("resourceSpans"));
  r = Get("/api/traces/42", {{"Accept", "application/protobuf"}});
  EXPECT_EQ(r.content_type, "application/protobuf");
  auto v2 = Get("/api/v2/traces/42", {{"Accept", "application/protobuf"}});
  EXPECT_EQ(v2.body.substr(v2.body.size() - r.body.size()), r.body);
  EXPECT_EQ(static_cast<uint8_t>(v2.body[0]), 0x0a);
  EXPECT_EQ(Get("/api/traces/43").status, 404);
  EXPECT_EQ(Get("/api/traces/zz").status, 400);
  // Outside the given range: not found.
  EXPECT_EQ(Get("/api/traces/42?start=1000&end=2000").status, 404);
}

TEST_F(TempoApiTest, SearchShapes) {
  auto r = Get("/api/search?q=%7Bstatus%3Derror%7D&limit=5");
  ASSERT_EQ(r.status, 200) << r.body;
  auto v = boost::json::parse(r.body);
  auto& t = v.at("traces").at(0);
  EXPECT_EQ(t.at("traceID").as_string(), "42");
  EXPECT_TRUE(t.at("startTimeUnixNano").is_string());
  EXPECT_EQ(t.at("durationMs").as_int64(), 2);
  EXPECT_EQ(t.at("rootServiceName").as_string(), "api");
  EXPECT_EQ(t.at("spanSet"), t.at("spanSets").at(0));
  EXPECT_TRUE(t.at("spanSets").at(0).at("spans").at(0).at("durationNanos").is_string());
  EXPECT_EQ(t.at("serviceStats").at("api").at("errorCount").as_int64(), 1);
  r = Get("/api/search?q=%7Bstatus%3Dok%7D");
  EXPECT_EQ(boost::json::parse(r.body).at("traces").as_array().size(), 0u);
  EXPECT_EQ(Get("/api/search?q=%7B").status, 400);
  EXPECT_EQ(Get("/api/search?limit=-1").status, 400);
  // Tag-based search.
  r = Get("/api/search?tags=http.status_code%3D500%20service.name%3Dapi&minDuration=1ms");
  EXPECT_EQ(boost::json::parse(r.body).at("traces").as_array().size(), 1u) << r.body;
  r = Get("/api/search?tags=service.name%3Dother");
  EXPECT_EQ(boost::json::parse(r.body).at("traces").as_array().size(), 0u) << r.body;
}

TEST_F(TempoApiTest, TagsAndValues) {
  auto r = Get("/api/v2/search/tags?scope=span");
  auto v = boost::json::parse(r.body);
  ASSERT_EQ(v.at("scopes").as_array().size(), 1u);
  EXPECT_EQ(v.at("scopes").at(0).at("tags"), boost::json::parse(R"(["http.status_code","ratio"])"));
  r = Get("/api/v2/search/tags?scope=intrinsic");
  v = boost::json::parse(r.body);
  EXPECT_EQ(v.at("scopes").at(0).at("name").as_string(), "intrinsic");
  r = Get("/api/v2/search/tag/span.ratio/values");
  EXPECT_EQ(boost::json::parse(r.body).at("tagValues"), boost::json::parse(R"([{"type":"float","value":"0.5"}])"));
  r = Get("/api/v2/search/tag/name/values?q=%7Bkind%3Dserver%7D");
  EXPECT_EQ(boost::json::parse(r.body).at("tagValues"), boost::json::parse(R"([{"type":"string","value":"GET /"}])"));
  r = Get("/api/v2/search/tag/duration/values");
  EXPECT_EQ(boost::json::parse(r.body).at("tagValues").as_array().size(), 0u);
  // Double-encoded by Grafana 10.x: the server decoded once already, the API decodes again.
  r = Get("/api/v2/search/tag/resource%2Eservice%2Ename/values");
  EXPECT_EQ(boost::json::parse(r.body).at("tagValues"), boost::json::parse(R"([{"type":"string","value":"api"}])"));
  r = Get("/api/search/tag/service.name/values");
  EXPECT_EQ(boost::json::parse(r.body).at("tagValues"), boost::json::parse(R"(["api"])"));
}

TEST_F(TempoApiTest, Metrics) {
  const std::string range = "&start=" + std::to_string(kNowMs / 1000 - 600) + "&end=" + std::to_string(kNowMs / 1000);
  auto r = Get("/api/metrics/query_range?query=%7B%7D%20%7C%20count_over_time()%20by%20(name)" + range + "&step=5m");
  ASSERT_EQ(r.status, 200) << r.body;
  auto v = boost::json::parse(r.body);
  EXPECT_EQ(v.at("series").as_array().size(), 2u);
  EXPECT_TRUE(v.at("series").at(0).at("samples").at(0).at("timestampMs").is_string());
  r = Get("/api/metrics/query?q=%7B%7D%20%7C%20count_over_time()" + range);
  ASSERT_EQ(r.status, 200) << r.body;
  v = boost::json::parse(r.body);
  EXPECT_EQ(v.at("series").at(0).at("value").to_number<double>(), 2.0);
  EXPECT_EQ(Get("/api/metrics/query_range?q=%7B").status, 400);
}

}  // namespace
}  // namespace otelbox::web
