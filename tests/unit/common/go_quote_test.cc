#include "common/go_quote.h"

#include <gtest/gtest.h>

namespace otelbox {
namespace {

// Expected strings are what Go's strconv.Quote returns for the same input.
TEST(GoQuoteTest, EscapesAsGoDoes) {
  EXPECT_EQ(GoQuote(""), R"("")");
  EXPECT_EQ(GoQuote(R"(a"b\c)"), R"("a\"b\\c")");
  EXPECT_EQ(GoQuote("\a\b\f\n\r\t\v"), R"("\a\b\f\n\r\t\v")");
  EXPECT_EQ(GoQuote(std::string("\x00\x1b\x7f", 3)), R"("\x00\x1b\x7f")");
  EXPECT_EQ(GoQuote("héllo 世界"), "\"héllo 世界\"") << "valid UTF-8 stays";
  EXPECT_EQ(GoQuote("a\xff" "b\xc3"), R"("a\xffb\xc3")") << "invalid bytes one by one";
  std::string out = "x=";
  AppendGoQuoted(&out, "y");
  EXPECT_EQ(out, R"(x="y")");
}

}  // namespace
}  // namespace otelbox
