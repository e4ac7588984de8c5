#pragma once
// PromQL tokens, as Prometheus' promql/parser/lex.go names them.
// Keywords (by, sum, offset, and, ...) are lexed as kIdentifier; the parser decides what
// an identifier means from where it stands, which keeps `{on="x"}` and `sum` as a label
// name working without lexer states.

#include <cstdint>
#include <string>
#include <string_view>

namespace otelbox::query::promql {

enum class TokenType {
  kEOF,
  kError,  // `text` holds the message
  kIdentifier,        // [a-zA-Z_][a-zA-Z0-9_]*
  kMetricIdentifier,  // an identifier containing ':'
  kNumber,            // 1, 1.5, .5, 1e3, 0x1f, Inf, NaN
  kDuration,          // 5m, 1h30m, 100ms
  kString,            // "…", '…', `…` (`text` is the unquoted value)
  kLeftParen, kRightParen,
  kLeftBrace, kRightBrace,
  kLeftBracket, kRightBracket,
  kComma, kColon, kAt,
  // Operators.
  kAdd, kSub, kMul, kDiv, kMod, kPow,
  kEqlc,  // ==
  kNeq,   // !=
  kLss, kLte, kGtr, kGte,
  kTrimUpper,  // </ (native histogram buckets above the value removed)
  kTrimLower,  // >/
  kEql,       // = (in selectors)
  kEqlRegex,  // =~
  kNeqRegex,  // !~
};

struct Token {
  TokenType type = TokenType::kEOF;
  std::string text;  // source text, or the decoded value for strings, or an error message
  int32_t pos = 0;   // byte offset of the first character in the input
  int32_t end = 0;   // byte offset one past the last character
};

// "+", "==", "(", … for messages; identifiers and literals describe themselves.
std::string_view TokenTypeSymbol(TokenType type);

}  // namespace otelbox::query::promql
