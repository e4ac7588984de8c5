#include "web/router.h"

#include <gtest/gtest.h>

#include "web/ingest_routes.h"
#include "web/ops_routes.h"

namespace otelbox::web {
namespace {

HttpRequest Req(std::string method, std::string path) {
  HttpRequest r;
  r.method = std::move(method);
  r.path = std::move(path);
  return r;
}

TEST(RouterTest, NotFoundVsMethodNotAllowed) {
  Router router;
  router.Handle("/a", {"GET", "POST"}, [](const HttpRequest&) { return HttpResponse::Text(200, "a"); });
  std::string pattern;
  auto r = Req("GET", "/a");
  EXPECT_EQ(router.Dispatch(r, &pattern).status, 200);
  EXPECT_EQ(pattern, "/a");
  r = Req("DELETE", "/a");
  auto resp = router.Dispatch(r, &pattern);
  EXPECT_EQ(resp.status, 405);
  ASSERT_EQ(resp.headers.size(), 1u);
  EXPECT_EQ(resp.headers[0].second, "GET, POST");
  r = Req("GET", "/b");
  EXPECT_EQ(router.Dispatch(r, &pattern).status, 404);
  EXPECT_EQ(pattern, "");
}

TEST(RouterTest, PrefixCapturesTail) {
  Router router;
  router.HandlePrefix("/api/v1/label/", "/values", "name", {"GET"}, [](const HttpRequest& r) {
    return HttpResponse::Text(200, r.path_tail);
  });
  std::string pattern;
  auto r = Req("GET", "/api/v1/label/job/values");
  auto resp = router.Dispatch(r, &pattern);
  EXPECT_EQ(resp.body, "job");
  EXPECT_EQ(pattern, "/api/v1/label/:name/values");
  r = Req("GET", "/api/v1/label//values");
  EXPECT_EQ(router.Dispatch(r, &pattern).status, 404);
  r = Req("GET", "/api/v1/label/a/b/values");
  EXPECT_EQ(router.Dispatch(r, &pattern).status, 404);
  r = Req("POST", "/api/v1/label/job/values");
  EXPECT_EQ(router.Dispatch(r, &pattern).status, 405);
}

TEST(RouterTest, HeadersParamsAndTenant) {
  HttpRequest r;
  r.headers = {{"x-scope-orgid", "team-a"}, {"Content-Type", "x"}};
  r.params = {{"match[]", "a"}, {"match[]", "b"}, {"q", "1"}};
  EXPECT_EQ(r.Header("X-Scope-OrgID"), "team-a");
  EXPECT_EQ(r.Header("content-type"), "x");
  EXPECT_EQ(TenantOf(r), "team-a");
  EXPECT_EQ(r.Params("match[]"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(r.Param("q"), "1");
  EXPECT_FALSE(r.HasParam("z"));
  EXPECT_EQ(TenantOf(HttpRequest{}), "fake");
}

TEST(RouterTest, FormDecoding) {
  KeyValues kv;
  ASSERT_TRUE(ParseFormEncoded("query=1%2B1&time=4&x=a+b&&flag", &kv).ok());
  EXPECT_EQ(kv, (KeyValues{{"query", "1+1"}, {"time", "4"}, {"x", "a b"}, {"flag", ""}}));
  kv.clear();
  EXPECT_FALSE(ParseFormEncoded("a=%zz&b=1", &kv).ok());
  EXPECT_EQ(kv, (KeyValues{{"b", "1"}}));
  kv.clear();
  EXPECT_FALSE(ParseFormEncoded("a=%4", &kv).ok());
}

TEST(IngestRoutesTest, MapsRequestAndReply) {
  Router router;
  ingest::IngestRequest seen;
  std::string seen_body;
  RegisterIngestRoutes(&router, IngestHandlers{
      [&](const ingest::IngestRequest& r) {
        seen = r;
        seen_body = std::string(r.body);
        return ingest::IngestReply{200, "application/x-protobuf", "ok", {}};
      },
      [&](const ingest::IngestRequest& r) {
        return ingest::IngestReply{429, "text/plain", "slow down", {{"Retry-After", "1"}}};
      }});
  std::string pattern;
  HttpRequest r = Req("POST", "/v1/metrics");
  r.headers = {{"Content-Type", "application/x-protobuf"}, {"Content-Encoding", "gzip"},
               {"X-Scope-OrgID", "t1"}};
  r.body = "\x1f\x8b";
  auto resp = router.Dispatch(r, &pattern);
  EXPECT_EQ(resp.status, 200);
  EXPECT_EQ(resp.body, "ok");
  EXPECT_EQ(seen.tenant, "t1");
  EXPECT_EQ(seen.content_encoding, "gzip");
  EXPECT_EQ(seen.content_type, "application/x-protobuf");
  EXPECT_EQ(seen_body, "\x1f\x8b");
  r = Req("POST", "/api/v1/otlp/v1/metrics");
  EXPECT_EQ(router.Dispatch(r, &pattern).status, 200);
  r = Req("POST", "/api/v1/write");
  resp = router.Dispatch(r, &pattern);
  EXPECT_EQ(resp.status, 429);
  EXPECT_EQ(resp.headers, (KeyValues{{"Retry-After", "1"}}));
  r = Req("GET", "/v1/metrics");
  resp = router.Dispatch(r, &pattern);
  EXPECT_EQ(resp.status, 405);
  EXPECT_NE(resp.body.find("POST"), std::string::npos);
}

TEST(OpsRoutesTest, ReadyAndMetrics) {
  Router router;
  SelfMetrics metrics;
  metrics.GetCounter("x_total", "help")->Add(3);
  bool ready = false;
  RegisterOpsRoutes(&router, [&] { return ready; }, &metrics);
  std::string pattern;
  auto r = Req("GET", "/ready");
  EXPECT_EQ(router.Dispatch(r, &pattern).status, 503);
  ready = true;
  auto resp = router.Dispatch(r, &pattern);
  EXPECT_EQ(resp.status, 200);
  EXPECT_EQ(resp.body, "ready");
  r = Req("GET", "/metrics");
  resp = router.Dispatch(r, &pattern);
  EXPECT_EQ(resp.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(resp.body.find("x_total 3"), std::string::npos);
}

}  // namespace
}  // namespace otelbox::web
