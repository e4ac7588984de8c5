#pragma once
// Splits a TraceQL query into tokens the way Tempo's lexer does (Go text/scanner rules for
// numbers, strings and comments; keywords; multi-character operators; durations such as
// `1h30m` or `10ms`; attribute names read raw after `.`, `span.`, `resource.` ... up to a
// rune that ends them, with "quoted" parts). Never fails: a problem ends the list with a
// kError token whose text is the message.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace otelbox::query::traceql {

enum class Tok : uint8_t {
  kEOF, kError,
  kIdentifier, kString, kInteger, kFloat, kDuration,
  kDot, kOpenBrace, kCloseBrace, kOpenParens, kCloseParens, kComma,
  kNil, kTrue, kFalse, kStatusError, kStatusOk, kStatusUnset,
  kKindUnspecified, kKindInternal, kKindServer, kKindClient, kKindProducer, kKindConsumer,
  kIDuration, kChildCount, kName, kStatus, kStatusMessage, kParent, kKind, kRootName,
  kRootServiceName, kRootService, kTraceDuration, kNestedSetLeft, kNestedSetRight,
  kNestedSetParent, kId, kTraceIdKw, kSpanIdKw, kParentIdKw, kTimeSinceStart, kVersion,
  kParentDot, kResourceDot, kSpanDot, kTraceColon, kSpanColon, kEventColon, kEventDot,
  kLinkColon, kLinkDot, kInstrumentationColon, kInstrumentationDot,
  kCount, kAvg, kMax, kMin, kSum, kBy, kCoalesce, kSelect, kEndAttribute,
  kRate, kCountOverTime, kMinOverTime, kMaxOverTime, kAvgOverTime, kSumOverTime,
  kQuantileOverTime, kHistogramOverTime, kCompare, kTopK, kBottomK, kWith,
  kPipe, kAnd, kOr, kEq, kNeq, kLt, kLte, kGt, kGte, kNre, kRe, kDesc, kAnce, kSibl,
  kNotChild, kNotParent, kNotDesc, kNotAnce, kUnionChild, kUnionParent, kUnionDesc,
  kUnionAnce, kUnionSibl, kAdd, kSub, kNot, kMul, kDiv, kMod, kPow,
};

struct Token {
  Tok type = Tok::kEOF;
  std::string text;       // identifier / string value / error message / source text
  int64_t int_value = 0;  // kInteger; kDuration in nanoseconds
  double float_value = 0; // kFloat
  int line = 1, col = 1;  // of the token start (1-based, columns count code points)
};

// Every token up to and including kEOF (or a kError, which ends the list).
std::vector<Token> Lex(std::string_view input);

// How Tempo names a token in "syntax error: unexpected X" ("{", "IDENTIFIER", "$end").
std::string TokenName(const Token& token);

// Go's time.ParseDuration / Prometheus' model.ParseDuration (whichever accepts), in ns.
bool ParseTraceQLDuration(std::string_view text, int64_t* ns);

}  // namespace otelbox::query::traceql
