#pragma once
// Splits a PromQL expression into tokens. Never fails on input: a problem becomes a
// kError token (text = message, pos = where), after which Next() keeps returning kEOF.

#include <string_view>
#include <vector>

#include "query/promql/token.h"

namespace otelbox::query::promql {

class Lexer {
 public:
  explicit Lexer(std::string_view input) : input_(input) {}

  Token Next();

  // Convenience for tests: every token up to and including kEOF or kError.
  static std::vector<Token> All(std::string_view input);

 private:
  Token LexNumberOrDuration();
  Token LexIdentifier();
  Token LexString(char quote);
  Token Make(TokenType type, size_t start);
  Token Error(std::string message, size_t pos);
  static std::string QuoteChar(char c);

  std::string_view input_;
  size_t pos_ = 0;
  int brace_depth_ = 0;    // Inf/NaN are numbers only outside braces
  int bracket_depth_ = 0;  // ':' is a subquery colon inside brackets
  bool done_ = false;
};

// Decodes a Go-quoted string body (quote is ", ' or `). On error returns false and sets
// *error and *error_offset (relative to body).
bool UnquoteString(std::string_view body, char quote, std::string* out, std::string* error,
                   size_t* error_offset);

}  // namespace otelbox::query::promql
