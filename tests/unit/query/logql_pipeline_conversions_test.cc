// Go-compatible conversions (strconv.ParseFloat, time.ParseDuration, humanize.ParseBytes),
// label-name sanitising and unwrap extraction (conversions.logqltest).

#include <cmath>

#include "tests/unit/query/logql_pipeline_test_util.h"

namespace otelbox::query::logql {
namespace {

using testing::L;
using testing::Must;

TEST(LogqlConversions, ParseGoFloat) {
  EXPECT_EQ(*ParseGoFloat("200"), 200);
  EXPECT_EQ(*ParseGoFloat("200.0"), 200);
  EXPECT_EQ(*ParseGoFloat("-1"), -1);
  EXPECT_EQ(*ParseGoFloat("1.5e3"), 1500);
  EXPECT_EQ(*ParseGoFloat(".5"), 0.5);
  EXPECT_EQ(*ParseGoFloat("5."), 5);
  EXPECT_EQ(*ParseGoFloat("0x1p4"), 16);
  EXPECT_EQ(*ParseGoFloat("0x_1p4"), 16);
  EXPECT_TRUE(std::isinf(*ParseGoFloat("+Inf")));
  EXPECT_TRUE(std::isinf(*ParseGoFloat("-infinity")));
  EXPECT_TRUE(std::isnan(*ParseGoFloat("NaN")));
  EXPECT_EQ(*ParseGoFloat("1e-400"), 0);
  for (const char* bad : {"", "abc", "0x10", "1_000", "1e", "1.2.3", " 1", "1 ", "--1", "nan1"}) {
    EXPECT_FALSE(ParseGoFloat(bad).ok()) << bad;
  }
  EXPECT_EQ(ParseGoFloat("abc").status().message(), "strconv.ParseFloat: parsing \"abc\": invalid syntax");
  EXPECT_EQ(ParseGoFloat("1e400").status().message(), "strconv.ParseFloat: parsing \"1e400\": value out of range");
}

TEST(LogqlConversions, ParseGoDuration) {
  EXPECT_EQ(*ParseGoDuration("2s"), 2000000000);
  EXPECT_EQ(*ParseGoDuration("500ms"), 500000000);
  EXPECT_EQ(*ParseGoDuration("1h30m"), 5400000000000);
  EXPECT_EQ(*ParseGoDuration("1.5h"), 5400000000000);
  EXPECT_EQ(*ParseGoDuration("-5s"), -5000000000);
  EXPECT_EQ(*ParseGoDuration("0"), 0);
  EXPECT_EQ(*ParseGoDuration("1us"), 1000);
  EXPECT_EQ(*ParseGoDuration("1\xC2\xB5s"), 1000);
  EXPECT_EQ(*ParseGoDuration(".5s"), 500000000);
  EXPECT_EQ(*ParseGoDuration("3m10s"), 190000000000);
  EXPECT_EQ(ParseGoDuration("1d").status().message(), "time: unknown unit \"d\" in duration \"1d\"");
  EXPECT_EQ(ParseGoDuration("90").status().message(), "time: missing unit in duration \"90\"");
  EXPECT_EQ(ParseGoDuration("nope").status().message(), "time: invalid duration \"nope\"");
  EXPECT_EQ(ParseGoDuration("").status().message(), "time: invalid duration \"\"");
  EXPECT_FALSE(ParseGoDuration("9999999999999h").ok());
}

TEST(LogqlConversions, ParseHumanBytes) {
  EXPECT_EQ(*ParseHumanBytes("1KB"), 1000u);
  EXPECT_EQ(*ParseHumanBytes("1KiB"), 1024u);
  EXPECT_EQ(*ParseHumanBytes("1MB"), 1000000u);
  EXPECT_EQ(*ParseHumanBytes("1MiB"), 1048576u);
  EXPECT_EQ(*ParseHumanBytes("1GiB"), 1073741824u);
  EXPECT_EQ(*ParseHumanBytes("1TiB"), 1099511627776u);
  EXPECT_EQ(*ParseHumanBytes("1PiB"), 1125899906842624u);
  EXPECT_EQ(*ParseHumanBytes("1.5KB"), 1500u);
  EXPECT_EQ(*ParseHumanBytes("1024"), 1024u);
  EXPECT_EQ(*ParseHumanBytes("2Kb"), 2000u);
  EXPECT_EQ(*ParseHumanBytes("2,048"), 2048u);
  EXPECT_EQ(*ParseHumanBytes("1.5B"), 1u);
  EXPECT_EQ(*ParseHumanBytes("3 kB"), 3000u);
  EXPECT_EQ(*ParseHumanBytes("25MB"), 25000000u);
  EXPECT_EQ(*ParseHumanBytes("1k"), 1000u);
  EXPECT_EQ(ParseHumanBytes("1XB").status().message(), "unhandled size name: xb");
  EXPECT_EQ(ParseHumanBytes("oops").status().message(), "strconv.ParseFloat: parsing \"\": invalid syntax");
  EXPECT_FALSE(ParseHumanBytes("100000EB").ok());
}

TEST(LogqlConversions, SanitizeLabelKey) {
  EXPECT_EQ(SanitizeLabelKey("a-b"), "a_b");
  EXPECT_EQ(SanitizeLabelKey("9x"), "_9x");
  EXPECT_EQ(SanitizeLabelKey(" a.b "), "a_b");
  EXPECT_EQ(SanitizeLabelKey("é"), "_");
  EXPECT_EQ(SanitizeLabelKey("  "), "");
}

struct Sample {
  bool emitted = false;
  double value = 0;
  std::string labels;
};

Sample Unwrap(const char* logfmt_line, UnwrapConversion conv, const char* label = "v") {
  Pipeline p;
  p.Add(Must(MakeLogfmtParser(false, false, {})));
  std::vector<Label> stream = L({{"app", "a"}});
  LabelsBuilder lbs;
  lbs.SetStream(&stream);
  lbs.StartEntry({});
  std::string_view line = logfmt_line;
  EXPECT_TRUE(p.Process(0, line, lbs));
  Sample s;
  logql::Unwrap u(label, conv);
  s.emitted = u.Extract(lbs, &s.value);
  std::vector<Label> out;
  lbs.Labels(&out);
  s.labels = testing::Render(out);
  return s;
}

TEST(LogqlUnwrap, Conversions) {
  EXPECT_EQ(Unwrap("v=1.5", UnwrapConversion::kNumber).value, 1.5);
  EXPECT_EQ(Unwrap("v=2s", UnwrapConversion::kDuration).value, 2);
  EXPECT_EQ(Unwrap("v=500ms", UnwrapConversion::kDurationSeconds).value, 0.5);
  EXPECT_EQ(Unwrap("v=1h30m", UnwrapConversion::kDuration).value, 5400);
  EXPECT_EQ(Unwrap("v=-5s", UnwrapConversion::kDuration).value, -5);
  EXPECT_EQ(Unwrap("v=1KiB", UnwrapConversion::kBytes).value, 1024);
  EXPECT_EQ(Unwrap("bytes=25MB", UnwrapConversion::kBytes, "bytes").value, 25000000);
}

TEST(LogqlUnwrap, MissingLabelYieldsNoSample) {
  auto s = Unwrap("other=1", UnwrapConversion::kNumber);
  EXPECT_FALSE(s.emitted);
  EXPECT_EQ(s.labels.find("__error__"), std::string::npos);
}

TEST(LogqlUnwrap, ConversionErrorSetsSampleExtractionErr) {
  auto s = Unwrap("v=1XB", UnwrapConversion::kBytes);
  EXPECT_TRUE(s.emitted);
  EXPECT_EQ(s.value, 0);
  EXPECT_EQ(s.labels,
            R"({__error__="SampleExtractionErr", __error_details__="unhandled size name: xb", app="a", v="1XB"})");
  s = Unwrap("v=1d", UnwrapConversion::kDuration);
  EXPECT_NE(s.labels.find("SampleExtractionErr"), std::string::npos);
  s = Unwrap("v=abc", UnwrapConversion::kNumber);
  EXPECT_NE(s.labels.find("SampleExtractionErr"), std::string::npos);
}

}  // namespace
}  // namespace otelbox::query::logql
