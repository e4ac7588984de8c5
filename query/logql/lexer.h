#pragma once
// Splits a LogQL query into tokens the way Loki's lexer (pkg/logql/syntax/lex.go over Go's
// text/scanner) does, so the parser can report Loki's error texts and positions:
//  * keywords (by, and, json, unwrap, ...) are case-insensitive; function names (rate, sum,
//    ip, duration, ...) are keywords only when followed by `(` (or `by (` / `without (`),
//    otherwise identifiers;
//  * a number directly followed by a unit is a duration (5m, 1.5s, 1d) or a byte size (10MB);
//  * `[...]` is one RANGE token holding a Prometheus duration;
//  * `--strict` / `--keep-empty` are parser flags; `#` and `//` start comments.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace otelbox::query::logql {

enum class TokenKind {
  kEof,
  kError,       // text = message
  kIdentifier,  // text = the identifier
  kString,      // text = the unquoted value
  kNumber,      // text = the literal as written
  kDuration,    // ns = the duration; text = as written
  kRange,       // ns = the duration inside [...]; text = inside the brackets
  kBytes,       // bytes = the size; text = as written
  kFlag,        // text = --strict / --keep-empty
  kOp,          // text = the lower-case symbol or keyword ("|=", "(", "by", "json", ...)
  kFunc,        // text = the lower-case function name ("rate", "sum", "ip", "duration", ...)
};

struct Token {
  TokenKind kind = TokenKind::kEof;
  std::string text;
  int64_t ns = 0;
  uint64_t bytes = 0;
  int line = 1;  // 1-based position of the first character, as Go's scanner counts
  int col = 1;
  bool Is(std::string_view op) const {
    return (kind == TokenKind::kOp || kind == TokenKind::kFunc) && text == op;
  }
};

// How Loki's yacc grammar names a token in "syntax error: unexpected X": keywords and
// symbols by their text, functions by their upper-case token name, literals by class
// (IDENTIFIER, STRING, NUMBER, DURATION, RANGE, BYTES, FUNCTION_FLAG), end of input "$end".
std::string TokenName(const Token& t);

// Every token of `input` up to and including the kEof or the first kError.
std::vector<Token> Lex(std::string_view input);

}  // namespace otelbox::query::logql
