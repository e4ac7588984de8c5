// The Loki HTTP API over the real LogStore and LogQL engine (contracts/loki.md §4, §6).

#include "web/loki_api.h"

#include <gtest/gtest.h>

#include <set>

#include <boost/json.hpp>
#include <filesystem>

#include "storage/db.h"
#include "storage/logs/log_store.h"
#include "web/loki_json.h"
#include "web/loki_params.h"

namespace otelbox::web {
namespace {

using storage::Label;
using storage::Labels;
namespace json = boost::json;

// 2024-01-15T00:00:00Z.
constexpr int64_t kNowMs = 1'705'276'800'000;
constexpr int64_t kNowNs = kNowMs * 1'000'000;
constexpr int64_t kSec = 1'000'000'000;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "otelbox-loki-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class LokiApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::DatabaseOptions dbo;
    dbo.now_ms = [] { return kNowMs; };
    auto db = storage::Database::Open(dir_.path(), dbo);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    storage::LogStoreOptions o;
    o.now_ms = [] { return kNowMs; };
    o.background_flush = false;
    auto store = storage::LogStore::Open(db_.get(), o, nullptr);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    engine_ = std::make_unique<query::logql::Engine>(store_.get());
    api_ = std::make_unique<LokiApi>(store_.get(), engine_.get(), store_.get(),
                                     [] { return kNowNs; });
    api_->Register(&router_);

    storage::LogBatch batch;
    batch.streams.push_back(
        {Labels{{"service_name", "api"}, {"env", "prod"}},
         {{kNowNs - 30 * kSec, "level=info msg=start", {{"detected_level", "info"}}},
          {kNowNs - 20 * kSec, "level=error msg=boom",
           {{"trace_id", "4bf92f3577b34da6a3ce929d0e0e4736"}, {"detected_level", "error"}}},
          {kNowNs - 10 * kSec, "level=info msg=done", {{"detected_level", "info"}}}}});
    batch.streams.push_back({Labels{{"service_name", "worker"}, {"env", "dev"}},
                             {{kNowNs - 15 * kSec, "job ran", {}}}});
    auto stats = store_->Append("fake", batch);
    ASSERT_TRUE(stats.ok()) << stats.status();
    ASSERT_EQ(stats->entries_written, 4);
  }

  HttpResponse Get(const std::string& target, KeyValues headers = {}) {
    HttpRequest r;
    r.method = "GET";
    size_t q = target.find('?');
    r.path = target.substr(0, q);
    if (q != std::string::npos) EXPECT_TRUE(ParseFormEncoded(target.substr(q + 1), &r.params).ok());
    r.headers = std::move(headers);
    std::string pattern;
    return router_.Dispatch(r, &pattern);
  }

  json::value GetJson(const std::string& target, KeyValues headers = {}) {
    HttpResponse r = Get(target, std::move(headers));
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    boost::system::error_code ec;
    json::value v = json::parse(r.body, ec);
    EXPECT_FALSE(ec) << r.body;
    return v;
  }

  static std::string Range() {
    return "&start=" + std::to_string(kNowNs - 3600 * kSec) + "&end=" + std::to_string(kNowNs);
  }

  TempDir dir_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<storage::LogStore> store_;
  std::unique_ptr<query::logql::Engine> engine_;
  std::unique_ptr<LokiApi> api_;
  Router router_;
};

TEST_F(LokiApiTest, GrafanaHealthCheck) {
  HttpResponse r = Get("/loki/api/v1/query?direction=backward&query=vector%281%29%2Bvector%281%29&time=4000000000");
  ASSERT_EQ(r.status, 200) << r.body;
  // Loki reads a 10-digit time as seconds (4000000000 s); Grafana only checks the value.
  EXPECT_TRUE(r.body.starts_with(
      R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[4000000000,"2"]}],"stats":{"summary":{)"))
      << r.body;
  r = Get("/loki/api/v1/query?query=vector%281%29%2Bvector%281%29&time=4000000000000000000");
  EXPECT_TRUE(r.body.starts_with(
      R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[4000000000,"2"]}])"))
      << r.body;
}

TEST_F(LokiApiTest, QueryRangePlainStreamsNewestFirst) {
  json::value v = GetJson("/loki/api/v1/query_range?direction=backward&limit=1000&step=15000ms&query=" +
                          std::string("%7Bservice_name%3D%22api%22%7D") + Range());
  const auto& data = v.at("data");
  EXPECT_EQ(data.at("resultType"), "streams");
  EXPECT_FALSE(data.as_object().contains("encodingFlags"));
  const auto& result = data.at("result").as_array();
  // Plain mode: structured metadata merged into the stream labels (info and error+trace_id).
  ASSERT_EQ(result.size(), 2u);
  size_t total = 0;
  for (const auto& s : result) {
    EXPECT_EQ(s.at("stream").at("service_name"), "api");
    for (const auto& e : s.at("values").as_array()) {
      EXPECT_EQ(e.as_array().size(), 2u);
      EXPECT_TRUE(e.at(0).is_string());
      ++total;
    }
  }
  EXPECT_EQ(total, 3u);
}

TEST_F(LokiApiTest, QueryRangeCategorizedLabels) {
  HttpResponse r = Get("/loki/api/v1/query_range?direction=backward&limit=2&query=%7Bservice_name%3D%22api%22%7D" + Range(),
                       {{"X-Loki-Response-Encoding-Flags", "categorize-labels"}});
  ASSERT_EQ(r.status, 200) << r.body;
  // encodingFlags must come before result (Grafana's streaming parser).
  EXPECT_LT(r.body.find("\"encodingFlags\":[\"categorize-labels\"]"), r.body.find("\"result\""));
  EXPECT_LT(r.body.find("\"result\""), r.body.find("\"stats\""));
  json::value v = json::parse(r.body);
  const auto& result = v.at("data").at("result").as_array();
  ASSERT_EQ(result.size(), 1u) << r.body;
  EXPECT_EQ(result[0].at("stream").as_object().size(), 2u) << "only indexed labels";
  const auto& values = result[0].at("values").as_array();
  ASSERT_EQ(values.size(), 2u) << "limit counts lines across the result";
  EXPECT_EQ(std::string(values[0].at(0).as_string()), std::to_string(kNowNs - 10 * kSec)) << "newest first";
  EXPECT_EQ(values[0].at(1), "level=info msg=done");
  EXPECT_EQ(values[1].at(2).at("structuredMetadata").at("trace_id"),
            "4bf92f3577b34da6a3ce929d0e0e4736");
}

TEST_F(LokiApiTest, ForwardAndMetricQueries) {
  json::value v = GetJson("/loki/api/v1/query_range?direction=forward&limit=10&query=%7Benv%3D~%22.%2B%22%7D" + Range(),
                          {{"X-Loki-Response-Encoding-Flags", "categorize-labels"}});
  const auto& result = v.at("data").at("result").as_array();
  ASSERT_EQ(result.size(), 2u);
  v = GetJson("/loki/api/v1/query_range?step=60s&query=" +
              std::string("sum%20by%20(detected_level)%20(count_over_time(%7Bservice_name%3D%22api%22%7D%20%7C%20drop%20__error__%5B1m%5D))") +
              "&start=" + std::to_string(kNowNs - 60 * kSec) + "&end=" + std::to_string(kNowNs));
  EXPECT_EQ(v.at("data").at("resultType"), "matrix");
  const auto& m = v.at("data").at("result").as_array();
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].at("metric").at("detected_level"), "error");
  EXPECT_TRUE(m[0].at("values").at(0).at(0).is_number());
  EXPECT_EQ(m[1].at("metric").at("detected_level"), "info");
  EXPECT_EQ(m[1].at("values").as_array().back().at(1), "2");
}

TEST_F(LokiApiTest, MetadataEndpoints) {
  json::value v = GetJson("/loki/api/v1/labels?" + Range().substr(1));
  EXPECT_EQ(json::serialize(v), R"({"status":"success","data":["env","service_name"]})");
  v = GetJson("/loki/api/v1/label/service_name/values?" + Range().substr(1));
  EXPECT_EQ(json::serialize(v.at("data")), R"(["api","worker"])");
  v = GetJson("/loki/api/v1/label/service_name/values?query=%7Benv%3D%22dev%22%7D" + Range());
  EXPECT_EQ(json::serialize(v.at("data")), R"(["worker"])");
  v = GetJson("/loki/api/v1/label/__stream_shard__/values?" + Range().substr(1));
  EXPECT_EQ(json::serialize(v), R"({"status":"success","data":[]})");
  v = GetJson("/loki/api/v1/label/nope/values?" + Range().substr(1));
  EXPECT_EQ(json::serialize(v.at("data")), "[]") << "never null";
  v = GetJson("/loki/api/v1/series?match%5B%5D=%7Bservice_name%3D%22api%22%7D" + Range());
  EXPECT_EQ(json::serialize(v.at("data")), R"([{"env":"prod","service_name":"api"}])");
  v = GetJson("/loki/api/v1/index/stats?query=%7Bservice_name%3D%22api%22%7D" + Range());
  EXPECT_EQ(v.at("streams"), 1);
  EXPECT_EQ(v.at("entries"), 3);
  EXPECT_FALSE(v.as_object().contains("status")) << "index/stats is not wrapped";
  v = GetJson("/loki/api/v1/index/volume?query=%7Bservice_name%3D~%22.%2B%22%7D" + Range());
  EXPECT_EQ(v.at("data").at("resultType"), "vector");
  EXPECT_EQ(v.at("data").at("result").as_array().size(), 2u);
  EXPECT_EQ(v.at("data").at("result").at(0).at("metric").at("service_name"), "api");
  // aggregateBy=labels: one row per label name of the matching streams, {"<name>":""}.
  v = GetJson("/loki/api/v1/index/volume?aggregateBy=labels&query=%7Bservice_name%3D~%22.%2B%22%7D" + Range());
  {
    const auto& rows = v.at("data").at("result").as_array();
    ASSERT_EQ(rows.size(), 2u) << json::serialize(v);
    std::set<std::string> names;
    int64_t service_bytes = 0, env_bytes = 0;
    for (const auto& r : rows) {
      const auto& metric = r.at("metric").as_object();
      ASSERT_EQ(metric.size(), 1u);
      EXPECT_EQ(metric.begin()->value(), "");
      const std::string name(metric.begin()->key());
      names.insert(name);
      const int64_t bytes = std::stoll(std::string(r.at("value").at(1).as_string()));
      (name == "service_name" ? service_bytes : env_bytes) = bytes;
    }
    EXPECT_EQ(names, (std::set<std::string>{"env", "service_name"}));
    EXPECT_GT(service_bytes, 0);
    EXPECT_EQ(service_bytes, env_bytes) << "every stream carries both labels";
  }
  v = GetJson("/loki/api/v1/index/volume?aggregateBy=labels&targetLabels=env&query=%7Bservice_name%3D~%22.%2B%22%7D" + Range());
  ASSERT_EQ(v.at("data").at("result").as_array().size(), 1u);
  EXPECT_TRUE(v.at("data").at("result").at(0).at("metric").as_object().contains("env"));
  EXPECT_EQ(Get("/loki/api/v1/index/volume?aggregateBy=streams&query=%7Ba%3D%22b%22%7D" + Range()).status, 400);
  v = GetJson("/loki/api/v1/detected_labels?query=" + Range());
  EXPECT_EQ(v.at("detectedLabels").as_array().size(), 2u);
  v = GetJson("/loki/api/v1/detected_fields?query=%7Bservice_name%3D%22api%22%7D" + Range());
  bool saw_trace = false;
  for (const auto& f : v.at("fields").as_array()) saw_trace |= f.at("label") == "trace_id";
  EXPECT_TRUE(saw_trace) << json::serialize(v);
  v = GetJson("/loki/api/v1/status/buildinfo");
  EXPECT_EQ(v.at("version"), "3.5.0");
  v = GetJson("/loki/api/v1/format_query?query=%7Ba%3D%22b%22%7D%20%7C%3D%20%22x%22");
  EXPECT_EQ(v.at("status"), "success");
}

TEST_F(LokiApiTest, ErrorsArePlainText400) {
  HttpResponse r = Get("/loki/api/v1/query_range?query=%7Bservice_name%3D%22api%22" + Range());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.content_type, "text/plain; charset=utf-8");
  EXPECT_NE(r.body.find("parse error"), std::string::npos) << r.body;
  r = Get("/loki/api/v1/query_range?direction=sideways&query=%7Ba%3D%22b%22%7D" + Range());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, "invalid direction 'sideways'");
  r = Get("/loki/api/v1/query_range?limit=-1&query=%7Ba%3D%22b%22%7D" + Range());
  EXPECT_EQ(r.body, "limit must be a positive value");
  r = Get("/loki/api/v1/query_range?step=0&query=%7Ba%3D%22b%22%7D" + Range());
  EXPECT_EQ(r.status, 400);
  r = Get("/loki/api/v1/query_range?start=bogus&query=%7Ba%3D%22b%22%7D");
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(r.body.starts_with("could not parse 'start' parameter")) << r.body;
  r = Get("/loki/api/v1/tail?query=%7Ba%3D%22b%22%7D");
  EXPECT_EQ(r.status, 400) << "a tail request without the upgrade";
}

TEST(LokiParamsTest, TimesAsLokiParsesThem) {
  EXPECT_EQ(*ParseLokiTimeNs("1700000000"), 1700000000 * kSec) << "<= 10 digits: seconds";
  EXPECT_EQ(*ParseLokiTimeNs("1700000000000000001"), 1700000000000000001);
  EXPECT_EQ(*ParseLokiTimeNs("1700000000.5"), 1700000000 * kSec + 500'000'000);
  EXPECT_EQ(*ParseLokiTimeNs("2024-01-15T00:00:00.000Z"), kNowNs);
  EXPECT_FALSE(ParseLokiTimeNs("yesterday").ok());
  EXPECT_EQ(*ParseLokiDurationNs("15000ms"), 15 * kSec);
  EXPECT_EQ(*ParseLokiDurationNs("1.5"), 1500'000'000);
}

}  // namespace
}  // namespace otelbox::web
