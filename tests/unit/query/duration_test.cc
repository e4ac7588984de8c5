#include "query/common/duration.h"

#include <gtest/gtest.h>

namespace otelbox::query {
namespace {

TEST(DurationTest, ParsesPrometheusDurations) {
  EXPECT_EQ(*ParseDuration("5m"), 300000);
  EXPECT_EQ(*ParseDuration("1h30m"), 5400000);
  EXPECT_EQ(*ParseDuration("15s"), 15000);
  EXPECT_EQ(*ParseDuration("100ms"), 100);
  EXPECT_EQ(*ParseDuration("1d"), 86400000);
  EXPECT_EQ(*ParseDuration("2w"), 14LL * 86400000);
  EXPECT_EQ(*ParseDuration("1y"), 365LL * 86400000);
  EXPECT_EQ(*ParseDuration("0"), 0);
  EXPECT_EQ(*ParseDuration("1m1s1ms"), 61001);
}

TEST(DurationTest, RejectsBadDurations) {
  for (const char* bad : {"", "5", "m", "5x", "1s1m", "1m1m", "-5m", "1.5m", "5m "}) {
    EXPECT_FALSE(ParseDuration(bad).ok()) << bad;
  }
  EXPECT_EQ(ParseDuration("5x").status().message(), "not a valid duration string: \"5x\"");
  EXPECT_FALSE(ParseDuration("99999999999999999999y").ok());
}

TEST(DurationTest, Formats) {
  EXPECT_EQ(FormatDuration(0), "0s");
  EXPECT_EQ(FormatDuration(5400000), "1h30m");
  EXPECT_EQ(FormatDuration(100), "100ms");
  EXPECT_EQ(FormatDuration(7LL * 86400000), "1w");
  EXPECT_EQ(FormatDuration(-60000), "-1m");
  for (int64_t ms : {1LL, 999LL, 61001LL, 86400000LL * 400 + 7}) {
    EXPECT_EQ(*ParseDuration(FormatDuration(ms)), ms);
  }
}

}  // namespace
}  // namespace otelbox::query
