#include "query/promql/lexer.h"

#include <gtest/gtest.h>

namespace otelbox::query::promql {
namespace {

std::vector<TokenType> Types(std::string_view in) {
  std::vector<TokenType> out;
  for (const auto& t : Lexer::All(in)) out.push_back(t.type);
  return out;
}

TEST(LexerTest, Selector) {
  using T = TokenType;
  EXPECT_EQ(Types("foo{a=\"b\",c!=\"d\",e=~\"f.*\",g!~'h'}"),
            (std::vector<T>{T::kIdentifier, T::kLeftBrace, T::kIdentifier, T::kEql, T::kString,
                            T::kComma, T::kIdentifier, T::kNeq, T::kString, T::kComma,
                            T::kIdentifier, T::kEqlRegex, T::kString, T::kComma, T::kIdentifier,
                            T::kNeqRegex, T::kString, T::kRightBrace, T::kEOF}));
}

TEST(LexerTest, NumbersDurationsAndMetricNames) {
  auto toks = Lexer::All("job:rate5m[5m:1m] offset 1h30m 1e3 0x1F .5 Inf NaN 100ms");
  ASSERT_EQ(toks.size(), 15u);
  EXPECT_EQ(toks[0].type, TokenType::kMetricIdentifier);
  EXPECT_EQ(toks[0].text, "job:rate5m");
  EXPECT_EQ(toks[2].type, TokenType::kDuration);
  EXPECT_EQ(toks[3].type, TokenType::kColon);
  EXPECT_EQ(toks[4].type, TokenType::kDuration);
  EXPECT_EQ(toks[6].text, "offset");
  EXPECT_EQ(toks[7].type, TokenType::kDuration);
  EXPECT_EQ(toks[7].text, "1h30m");
  for (int i : {8, 9, 10, 11, 12}) EXPECT_EQ(toks[i].type, TokenType::kNumber) << i;
  EXPECT_EQ(toks[13].type, TokenType::kDuration);
  EXPECT_EQ(toks[14].type, TokenType::kEOF);
}

TEST(LexerTest, Operators) {
  using T = TokenType;
  EXPECT_EQ(Types("+ - * / % ^ == != < <= > >= @ ( ) [ ] ,"),
            (std::vector<T>{T::kAdd, T::kSub, T::kMul, T::kDiv, T::kMod, T::kPow, T::kEqlc,
                            T::kNeq, T::kLss, T::kLte, T::kGtr, T::kGte, T::kAt, T::kLeftParen,
                            T::kRightParen, T::kLeftBracket, T::kRightBracket, T::kComma, T::kEOF}));
}

TEST(LexerTest, StringEscapes) {
  auto toks = Lexer::All(R"("a\"b\n\x41\u00e9\101" 'it\'s' `raw\n`)");
  ASSERT_EQ(toks.size(), 4u);
  EXPECT_EQ(toks[0].text, "a\"b\nA\xc3\xa9" "A");
  EXPECT_EQ(toks[1].text, "it's");
  EXPECT_EQ(toks[2].text, "raw\\n");
}

TEST(LexerTest, Errors) {
  auto last = [](std::string_view in) { return Lexer::All(in).back(); };
  EXPECT_EQ(last("\"abc").type, TokenType::kError);
  EXPECT_EQ(last("\"abc").text, "unterminated quoted string");
  EXPECT_EQ(last("1x").type, TokenType::kError);
  EXPECT_EQ(last("foo $").type, TokenType::kError);
  EXPECT_EQ(last("foo $").pos, 4);
  EXPECT_EQ(last("\"\\q\"").type, TokenType::kError);
  EXPECT_EQ(last("# only a comment").type, TokenType::kEOF);
}

}  // namespace
}  // namespace otelbox::query::promql
