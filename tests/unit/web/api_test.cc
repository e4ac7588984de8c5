#include "web/prometheus_api.h"

#include <gtest/gtest.h>

#include "tests/unit/query/fake_querier.h"

namespace otelbox::web {
namespace {

using storage::Labels;

class ApiTest : public ::testing::Test {
 protected:
  ApiTest()
      : engine_(&querier_), api_(&querier_, &engine_, BuildInfo{}, [] { return int64_t{1700000060000}; }) {
    querier_.Add(Labels{{"__name__", "up"}, {"job", "api"}, {"instance", "i-1"}},
                 {{1700000000000, 1}, {1700000015000, 1}, {1700000030000, 0}, {1700000045000, 1},
                  {1700000060000, 1}});
    querier_.Add(Labels{{"__name__", "http_requests_total"}, {"job", "api"}, {"http.method", "GET"}},
                 {{1700000000000, 10}});
    querier_.metadata = {
        {"http_requests_total", storage::MetricType::kCounter, "Total requests.", ""}};
    api_.Register(&router_);
  }

  // "GET /path?qs" or "POST /path" with a form body.
  HttpResponse Call(const std::string& method, const std::string& target,
                    const std::string& form = "") {
    HttpRequest r;
    r.method = method;
    size_t q = target.find('?');
    r.path = target.substr(0, q);
    if (q != std::string::npos) {
      EXPECT_TRUE(ParseFormEncoded(target.substr(q + 1), &r.params).ok());
    }
    EXPECT_TRUE(ParseFormEncoded(form, &r.params).ok());
    std::string pattern;
    return router_.Dispatch(r, &pattern);
  }

  testing::FakeQuerier querier_;
  query::promql::Engine engine_;
  PrometheusApi api_;
  Router router_;
};

TEST_F(ApiTest, HealthCheckPostAndGet) {
  const std::string want = R"({"status":"success","data":{"resultType":"scalar","result":[4,"2"]}})";
  auto r = Call("POST", "/api/v1/query", "query=1%2B1&time=4");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, want);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(Call("GET", "/api/v1/query?query=1%2B1&time=4").body, want);
  // timeout is accepted.
  EXPECT_EQ(Call("GET", "/api/v1/query?query=1%2B1&time=4&timeout=60s").body, want);
  EXPECT_EQ(Call("GET", "/api/v1/query?query=1%2B1&time=4&timeout=zz").status, 400);
}

TEST_F(ApiTest, QueryWithoutTimeUsesNow) {
  auto r = Call("GET", "/api/v1/query?query=up");
  EXPECT_EQ(r.body,
            R"({"status":"success","data":{"resultType":"vector","result":[)"
            R"({"metric":{"__name__":"up","instance":"i-1","job":"api"},"value":[1700000060,"1"]}]}})");
}

TEST_F(ApiTest, QueryRendersInfos) {
  // rate() over a metric not named like a counter: Prometheus answers with an info.
  auto r = Call("GET", "/api/v1/query?query=rate(up%5B1m%5D)&time=1700000060");
  EXPECT_EQ(r.status, 200);
  const std::string want_infos =
      R"x("infos":["PromQL info: metric might not be a counter, name does not )x"
      R"x(end in _total/_sum/_count/_bucket: \"up\" (1:6)"])x";
  EXPECT_NE(r.body.find(want_infos), std::string::npos)
      << r.body;
  EXPECT_EQ(r.body.find("\"warnings\""), std::string::npos) << r.body;
  // No infos: no key.
  EXPECT_EQ(Call("GET", "/api/v1/query?query=up&time=1700000060").body.find("infos"),
            std::string::npos);
}

TEST_F(ApiTest, QueryRange) {
  auto r = Call("POST", "/api/v1/query_range", "query=up&start=1700000000&end=1700000060&step=15");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            R"({"status":"success","data":{"resultType":"matrix","result":[)"
            R"({"metric":{"__name__":"up","instance":"i-1","job":"api"},"values":[)"
            R"([1700000000,"1"],[1700000015,"1"],[1700000030,"0"],[1700000045,"1"],[1700000060,"1"]]}]}})");
  EXPECT_EQ(Call("POST", "/api/v1/query_range", "query=nothing&start=1&end=2&step=1").body,
            R"({"status":"success","data":{"resultType":"matrix","result":[]}})");
}

TEST_F(ApiTest, QueryRangeValidation) {
  auto err = [&](const std::string& form) { return Call("POST", "/api/v1/query_range", form); };
  auto r = err("query=up&start=10&end=5&step=1");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"status":"error","errorType":"bad_data","error":"end timestamp must not be before start time"})");
  r = err("query=up&start=1&end=5&step=0");
  EXPECT_EQ(r.body, R"({"status":"error","errorType":"bad_data","error":"zero or negative query resolution step widths are not accepted. Try a positive integer"})");
  r = err("query=up&start=0&end=11001&step=1");
  EXPECT_EQ(r.body, R"j({"status":"error","errorType":"bad_data","error":"exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"})j");
  EXPECT_EQ(err("query=up&start=0&end=11000&step=1").status, 200);
  r = err("query=up&start=x&end=5&step=1");
  EXPECT_EQ(r.body, R"({"status":"error","errorType":"bad_data","error":"invalid parameter \"start\": cannot parse \"x\" to a valid timestamp"})");
  r = err("query=up[5m]&start=1&end=5&step=1");
  EXPECT_EQ(r.status, 400);
}

TEST_F(ApiTest, QueryErrors) {
  auto r = Call("POST", "/api/v1/query", "query=sum(");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"status":"error","errorType":"bad_data","error":"parse error at char 5: unexpected end of input"})");
  r = Call("POST", "/api/v1/query", "query=info(up)");
  EXPECT_EQ(r.status, 422);
  EXPECT_NE(r.body.find("\"errorType\":\"execution\""), std::string::npos);
}

TEST_F(ApiTest, Labels) {
  auto r = Call("POST", "/api/v1/labels", "start=1699999980&end=1700000040&limit=40000");
  EXPECT_EQ(r.body, R"({"status":"success","data":["__name__","http.method","instance","job"]})");
  r = Call("GET", "/api/v1/labels?match[]=up&limit=2");
  EXPECT_EQ(r.body, R"({"status":"success","data":["__name__","instance"],"warnings":["results truncated due to limit"]})");
  EXPECT_EQ(querier_.last_limit, 3u);  // one more than asked, to detect truncation
}

TEST_F(ApiTest, LabelValues) {
  auto r = Call("GET", "/api/v1/label/__name__/values?start=1&end=2&limit=40000&match[]=%7Bjob%3D%22api%22%7D");
  EXPECT_EQ(r.body, R"({"status":"success","data":["http_requests_total","up"]})");
  r = Call("GET", "/api/v1/label/U__http_2e_method/values");
  EXPECT_EQ(r.body, R"({"status":"success","data":["GET"]})");
  EXPECT_EQ(querier_.last_label_name, "http.method");
  HttpRequest bad;
  bad.method = "GET";
  bad.path = "/api/v1/label/\xff/values";
  std::string pattern;
  auto resp = router_.Dispatch(bad, &pattern);
  EXPECT_EQ(resp.status, 400);
  EXPECT_NE(resp.body.find("invalid label name"), std::string::npos);
  EXPECT_EQ(Call("GET", "/api/v1/label/nothing/values").body, R"({"status":"success","data":[]})");
}

TEST_F(ApiTest, Series) {
  auto r = Call("POST", "/api/v1/series", "match[]=up&start=1&end=2&limit=40000");
  EXPECT_EQ(r.body, R"({"status":"success","data":[{"__name__":"up","instance":"i-1","job":"api"}]})");
  r = Call("POST", "/api/v1/series", "start=1");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"status":"error","errorType":"bad_data","error":"no match[] parameter provided"})");
  EXPECT_EQ(Call("POST", "/api/v1/series", "match[]=up%2B1").status, 400);
  EXPECT_EQ(querier_.last_start_ms, 1000);
}

TEST_F(ApiTest, MetadataExemplarsBuildInfoRules) {
  EXPECT_EQ(Call("GET", "/api/v1/metadata?limit=40000").body,
            R"({"status":"success","data":{"http_requests_total":[{"type":"counter","help":"Total requests.","unit":""}]}})");
  EXPECT_EQ(Call("GET", "/api/v1/metadata?metric=nope").body, R"({"status":"success","data":{}})");
  EXPECT_EQ(Call("POST", "/api/v1/query_exemplars", "query=test&start=1700000000000&end=1700001800000").body,
            R"({"status":"success","data":[]})");
  auto bi = Call("POST", "/api/v1/status/buildinfo");
  EXPECT_EQ(bi.status, 200);
  EXPECT_EQ(bi.body.find("features"), std::string::npos);
  EXPECT_NE(bi.body.find(R"("version":"3.5.0")"), std::string::npos);
  EXPECT_EQ(Call("GET", "/api/v1/rules").body, R"({"status":"success","data":{"groups":[]}})");
  EXPECT_EQ(Call("GET", "/api/v1/status/flags").status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/format_query?query=sum(rate(x%5B5m%5D))by(job)").body,
            R"j({"status":"success","data":"sum by (job) (rate(x[5m]))"})j");
}

// Prometheus' `limit` on /query and /query_range: at most that many series (after the
// result is sorted), and a warning when some were cut.
TEST_F(ApiTest, QueryLimitTruncatesSeriesWithWarning) {
  const std::string sel = "query=%7Bjob%3D%22api%22%7D&time=1700000060";
  auto all = Call("POST", "/api/v1/query", sel);
  ASSERT_EQ(all.status, 200) << all.body;
  ASSERT_NE(all.body.find("http_requests_total"), std::string::npos) << all.body;
  ASSERT_NE(all.body.find("\"up\""), std::string::npos) << all.body;

  auto one = Call("POST", "/api/v1/query", sel + "&limit=1");
  EXPECT_EQ(one.status, 200);
  EXPECT_NE(one.body.find("http_requests_total"), std::string::npos) << one.body;
  EXPECT_EQ(one.body.find("\"up\""), std::string::npos) << one.body;
  EXPECT_NE(one.body.find(R"("warnings":["results truncated due to limit"])"), std::string::npos)
      << one.body;
  // Exactly as many as the limit, or no limit: no warning.
  EXPECT_EQ(Call("POST", "/api/v1/query", sel + "&limit=2").body, all.body);
  EXPECT_EQ(Call("POST", "/api/v1/query", sel + "&limit=0").body, all.body);
  // Scalars are never truncated.
  EXPECT_EQ(Call("GET", "/api/v1/query?query=1&time=4&limit=1").body,
            R"({"status":"success","data":{"resultType":"scalar","result":[4,"1"]}})");

  auto range = Call("POST", "/api/v1/query_range",
                    "query=%7Bjob%3D%22api%22%7D&start=1700000000&end=1700000060&step=15&limit=1");
  EXPECT_EQ(range.status, 200);
  EXPECT_NE(range.body.find(R"("resultType":"matrix")"), std::string::npos) << range.body;
  EXPECT_EQ(range.body.find("\"up\""), std::string::npos) << range.body;
  EXPECT_NE(range.body.find("results truncated due to limit"), std::string::npos) << range.body;
}

TEST_F(ApiTest, QueryLimitRejectsBadValues) {
  auto bad = Call("GET", "/api/v1/query?query=up&limit=x");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body,
            R"({"status":"error","errorType":"bad_data","error":"invalid parameter \"limit\": strconv.Atoi: parsing \"x\": invalid syntax"})");
  auto neg = Call("GET", "/api/v1/query_range?query=up&start=1&end=2&step=1&limit=-1");
  EXPECT_EQ(neg.status, 400);
  EXPECT_EQ(neg.body,
            R"({"status":"error","errorType":"bad_data","error":"invalid parameter \"limit\": limit must be non-negative"})");
  // `limit` is checked before the times, as Prometheus does.
  EXPECT_NE(Call("GET", "/api/v1/query_range?query=up&limit=z").body.find(R"(parameter \"limit\")"),
            std::string::npos);
}

// `timeout` bounds one query, below the server's own timeout.
TEST_F(ApiTest, QueryTimeoutAppliesPerRequest) {
  auto r = Call("GET", "/api/v1/query?query=up&time=1700000060&timeout=0s");
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find(R"("errorType":"timeout")"), std::string::npos) << r.body;
  auto rr = Call("GET", "/api/v1/query_range?query=up&start=1700000000&end=1700000060&step=15&timeout=0s");
  EXPECT_EQ(rr.status, 503);
  // Longer than the server's: the server's applies, and the query runs.
  EXPECT_EQ(Call("GET", "/api/v1/query?query=up&time=1700000060&timeout=1000h").status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/query?query=up&time=1700000060&timeout=30s").body,
            Call("GET", "/api/v1/query?query=up&time=1700000060").body);
}

TEST_F(ApiTest, QueryLookbackDelta) {
  // `up` has samples up to 1700000060: 10 minutes later, only a longer lookback sees them.
  auto base = Call("GET", "/api/v1/query?query=up&time=1700000660");
  EXPECT_NE(base.body.find(R"("result":[])"), std::string::npos) << base.body;
  auto longer = Call("GET", "/api/v1/query?query=up&time=1700000660&lookback_delta=15m");
  EXPECT_NE(longer.body.find(R"("value":[1700000660,"1"])"), std::string::npos) << longer.body;
  auto bad = Call("GET", "/api/v1/query?query=up&lookback_delta=zz");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("error parsing lookback delta duration"), std::string::npos) << bad.body;
}

// `stats` adds data.stats as Prometheus' BuiltinStats renders it.
TEST_F(ApiTest, QueryStats) {
  auto r = Call("GET", "/api/v1/query_range?query=up&start=1700000000&end=1700000060&step=15&stats=all");
  ASSERT_EQ(r.status, 200) << r.body;
  const size_t at = r.body.find(R"(,"stats":{"timings":{"evalTotalTime":)");
  ASSERT_NE(at, std::string::npos) << r.body;
  EXPECT_LT(r.body.find(R"("result":[)"), at);  // after the result, inside data
  for (const char* key : {"resultSortTime", "queryPreparationTime", "innerEvalTime",
                          "execQueueTime", "execTotalTime"}) {
    EXPECT_NE(r.body.find(std::string("\"") + key + "\":"), std::string::npos) << key;
  }
  // The five samples of `up` were read.
  EXPECT_NE(r.body.find(R"("samples":{"totalQueryableSamples":5,"peakSamples":5}}})"),
            std::string::npos)
      << r.body;
  EXPECT_NE(Call("GET", "/api/v1/query?query=up&time=1700000060&stats=true").body.find("\"stats\""),
            std::string::npos);
  EXPECT_EQ(Call("GET", "/api/v1/query?query=up&time=1700000060").body.find("stats"),
            std::string::npos);
}

TEST_F(ApiTest, WrongMethodIs405NotFound404) {
  EXPECT_EQ(Call("DELETE", "/api/v1/query").status, 405);
  EXPECT_EQ(Call("PUT", "/api/v1/label/job/values").status, 405);
  EXPECT_EQ(Call("GET", "/api/v1/nope").status, 404);
}

}  // namespace
}  // namespace otelbox::web
