#include "web/params.h"

#include <gtest/gtest.h>

namespace otelbox::web {
namespace {

TEST(ParamsTest, Times) {
  EXPECT_EQ(*ParseTimeMs("1700000000"), 1700000000000);
  EXPECT_EQ(*ParseTimeMs("1700000000.5"), 1700000000500);
  EXPECT_EQ(*ParseTimeMs("1700000000.123"), 1700000000123);
  EXPECT_EQ(*ParseTimeMs("4"), 4000);
  EXPECT_EQ(*ParseTimeMs("-1.5"), -1500);
  EXPECT_EQ(*ParseTimeMs("1e3"), 1000000);
  // The exemplar probe sends milliseconds where seconds belong: accepted.
  EXPECT_EQ(*ParseTimeMs("1700000000000"), 1700000000000000);
  EXPECT_EQ(*ParseTimeMs("1e300"), storage::kMaxTimeMs);
  EXPECT_EQ(*ParseTimeMs("-1e300"), storage::kMinTimeMs);
  EXPECT_EQ(*ParseTimeMs("2023-11-14T22:13:20Z"), 1700000000000);
  EXPECT_EQ(*ParseTimeMs("2023-11-14T22:13:20.5Z"), 1700000000500);
  EXPECT_EQ(*ParseTimeMs("2023-11-14T22:13:20.123456789Z"), 1700000000123);
  EXPECT_EQ(*ParseTimeMs("2023-11-15T00:13:20+02:00"), 1700000000000);
  EXPECT_EQ(*ParseTimeMs("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*ParseTimeMs("292277025-08-18T07:12:54.999999999Z"), storage::kMaxTimeMs);
  for (const char* bad : {"", "x", "NaN", "2023-13-01T00:00:00Z", "2023-11-14 22:13:20Z",
                          "2023-11-14T22:13:20", "1 ", " 1"}) {
    EXPECT_FALSE(ParseTimeMs(bad).ok()) << bad;
  }
}

TEST(ParamsTest, Durations) {
  EXPECT_EQ(*ParseDurationMs("15"), 15000);
  EXPECT_EQ(*ParseDurationMs("0.5"), 500);
  EXPECT_EQ(*ParseDurationMs("3600"), 3600000);
  EXPECT_EQ(*ParseDurationMs("5m"), 300000);
  EXPECT_EQ(*ParseDurationMs("1h30m"), 5400000);
  EXPECT_EQ(*ParseDurationMs("100ms"), 100);
  EXPECT_EQ(ParseDurationMs("x").status().message(), "cannot parse \"x\" to a valid duration");
  EXPECT_NE(ParseDurationMs("1e300").status().message().find("overflows int64"), std::string::npos);
}

TEST(ParamsTest, ErrorsNameTheParameter) {
  HttpRequest r;
  r.params = {{"start", "x"}, {"step", "y"}, {"limit", "z"}};
  EXPECT_EQ(TimeParam(r, "start", 0).status().message(),
            "invalid parameter \"start\": cannot parse \"x\" to a valid timestamp");
  EXPECT_EQ(DurationParam(r, "step").status().message(),
            "invalid parameter \"step\": cannot parse \"y\" to a valid duration");
  EXPECT_EQ(RequiredTimeParam(r, "end").status().message(),
            "invalid parameter \"end\": cannot parse \"\" to a valid timestamp");
  EXPECT_EQ(*TimeParam(r, "end", 42), 42);
  EXPECT_FALSE(LimitParam(r).ok());
  r.params = {{"limit", "5"}};
  EXPECT_EQ(*LimitParam(r), 5u);
  r.params = {{"limit", "-1"}};
  EXPECT_FALSE(LimitParam(r).ok());
  r.params = {};
  EXPECT_EQ(*LimitParam(r), 0u);
}

TEST(ParamsTest, MatchParams) {
  HttpRequest r;
  r.params = {{"match[]", "up{job=\"api\"}"}, {"match[]", "{__name__=~\"x.*\"}"}};
  auto sets = MatchParams(r);
  ASSERT_TRUE(sets.ok());
  ASSERT_EQ(sets->size(), 2u);
  EXPECT_EQ((*sets)[0].size(), 2u);
  r.params = {{"match[]", "up + 1"}};
  EXPECT_EQ(MatchParams(r).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ParamsTest, UnescapeLabelName) {
  EXPECT_EQ(UnescapeLabelName("U__http_2e_method"), "http.method");
  EXPECT_EQ(UnescapeLabelName("U__a__b"), "a_b");
  EXPECT_EQ(UnescapeLabelName("U__caf_e9_"), "caf\xc3\xa9");
  EXPECT_EQ(UnescapeLabelName("U___1f600_"), "\xf0\x9f\x98\x80");
  EXPECT_EQ(UnescapeLabelName("job"), "job");
  // Invalid escapes leave the name as it was (Prometheus' UnescapeName).
  EXPECT_EQ(UnescapeLabelName("U__a_2e"), "U__a_2e");
  EXPECT_EQ(UnescapeLabelName("U__a_zz_"), "U__a_zz_");
  EXPECT_EQ(UnescapeLabelName("U__a_"), "U__a_");
  EXPECT_EQ(UnescapeLabelName("U__a_1234567_"), "U__a_1234567_");
  EXPECT_EQ(UnescapeLabelName("U__a_d800_"), "U__a_d800_");
}

}  // namespace
}  // namespace otelbox::web
