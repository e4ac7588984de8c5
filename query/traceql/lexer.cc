#include "query/traceql/lexer.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <unordered_map>

#include "absl/strings/numbers.h"
#include "query/common/duration.h"
#include "query/promql/lexer.h"

namespace otelbox::query::traceql {
namespace {

const std::unordered_map<std::string_view, Tok>& TokenMap() {
  static const auto* map = new std::unordered_map<std::string_view, Tok>{
      {",", Tok::kComma}, {".", Tok::kDot}, {"{", Tok::kOpenBrace}, {"}", Tok::kCloseBrace},
      {"(", Tok::kOpenParens}, {")", Tok::kCloseParens}, {"=", Tok::kEq}, {"!=", Tok::kNeq},
      {"=~", Tok::kRe}, {"!~", Tok::kNre}, {">", Tok::kGt}, {">=", Tok::kGte},
      {"<", Tok::kLt}, {"<=", Tok::kLte}, {"+", Tok::kAdd}, {"-", Tok::kSub},
      {"/", Tok::kDiv}, {"%", Tok::kMod}, {"*", Tok::kMul}, {"^", Tok::kPow},
      {"true", Tok::kTrue}, {"false", Tok::kFalse}, {"nil", Tok::kNil},
      {"ok", Tok::kStatusOk}, {"error", Tok::kStatusError}, {"unset", Tok::kStatusUnset},
      {"unspecified", Tok::kKindUnspecified}, {"internal", Tok::kKindInternal},
      {"server", Tok::kKindServer}, {"client", Tok::kKindClient},
      {"producer", Tok::kKindProducer}, {"consumer", Tok::kKindConsumer},
      {"&&", Tok::kAnd}, {"||", Tok::kOr}, {"!", Tok::kNot}, {"|", Tok::kPipe},
      {">>", Tok::kDesc}, {"<<", Tok::kAnce}, {"~", Tok::kSibl}, {"!>", Tok::kNotChild},
      {"!<", Tok::kNotParent}, {"!>>", Tok::kNotDesc}, {"!<<", Tok::kNotAnce},
      {"&~", Tok::kUnionSibl}, {"&>", Tok::kUnionChild}, {"&<", Tok::kUnionParent},
      {"&>>", Tok::kUnionDesc}, {"&<<", Tok::kUnionAnce},
      {"duration", Tok::kIDuration}, {"childCount", Tok::kChildCount}, {"name", Tok::kName},
      {"status", Tok::kStatus}, {"statusMessage", Tok::kStatusMessage}, {"kind", Tok::kKind},
      {"rootName", Tok::kRootName}, {"rootServiceName", Tok::kRootServiceName},
      {"rootService", Tok::kRootService}, {"traceDuration", Tok::kTraceDuration},
      {"nestedSetLeft", Tok::kNestedSetLeft}, {"nestedSetRight", Tok::kNestedSetRight},
      {"nestedSetParent", Tok::kNestedSetParent}, {"id", Tok::kId},
      {"traceID", Tok::kTraceIdKw}, {"spanID", Tok::kSpanIdKw}, {"parentID", Tok::kParentIdKw},
      {"timeSinceStart", Tok::kTimeSinceStart}, {"version", Tok::kVersion},
      {"parent", Tok::kParent}, {"parent.", Tok::kParentDot}, {"resource.", Tok::kResourceDot},
      {"span.", Tok::kSpanDot}, {"trace:", Tok::kTraceColon}, {"span:", Tok::kSpanColon},
      {"event:", Tok::kEventColon}, {"link:", Tok::kLinkColon},
      {"instrumentation:", Tok::kInstrumentationColon}, {"event.", Tok::kEventDot},
      {"link.", Tok::kLinkDot}, {"instrumentation.", Tok::kInstrumentationDot},
      {"count", Tok::kCount}, {"avg", Tok::kAvg}, {"max", Tok::kMax}, {"min", Tok::kMin},
      {"sum", Tok::kSum}, {"by", Tok::kBy}, {"coalesce", Tok::kCoalesce},
      {"select", Tok::kSelect}, {"rate", Tok::kRate}, {"count_over_time", Tok::kCountOverTime},
      {"min_over_time", Tok::kMinOverTime}, {"max_over_time", Tok::kMaxOverTime},
      {"avg_over_time", Tok::kAvgOverTime}, {"sum_over_time", Tok::kSumOverTime},
      {"quantile_over_time", Tok::kQuantileOverTime},
      {"histogram_over_time", Tok::kHistogramOverTime}, {"compare", Tok::kCompare},
      {"topk", Tok::kTopK}, {"bottomk", Tok::kBottomK}, {"with", Tok::kWith},
  };
  return *map;
}

bool IsScopeToken(Tok t) {
  switch (t) {
    case Tok::kParentDot: case Tok::kSpanDot: case Tok::kResourceDot: case Tok::kSpanColon:
    case Tok::kTraceColon: case Tok::kEventColon: case Tok::kLinkColon:
    case Tok::kInstrumentationColon: case Tok::kEventDot: case Tok::kLinkDot:
    case Tok::kInstrumentationDot:
      return true;
    default:
      return false;
  }
}

bool StartsAttribute(Tok t) {
  return t == Tok::kDot || t == Tok::kResourceDot || t == Tok::kSpanDot ||
         t == Tok::kParentDot || t == Tok::kEventDot || t == Tok::kLinkDot ||
         t == Tok::kInstrumentationDot;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

// Tempo's isAttributeRune: everything but whitespace and the runes that end an attribute.
bool IsAttributeRune(char c) {
  if (IsSpace(c)) return false;
  switch (c) {
    case '{': case '}': case '(': case ')': case '=': case '~': case '!': case '<':
    case '>': case '&': case '|': case '^': case ',':
      return false;
    default:
      return true;
  }
}

bool IsLetter(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

class Scanner {
 public:
  explicit Scanner(std::string_view in) : in_(in) {}

  std::vector<Token> Run() {
    std::vector<Token> out;
    while (true) {
      Token t = NextToken();
      bool stop = t.type == Tok::kEOF || t.type == Tok::kError;
      out.push_back(std::move(t));
      if (stop) break;
    }
    return out;
  }

 private:
  char Peek(size_t ahead = 0) const {
    return pos_ + ahead < in_.size() ? in_[pos_ + ahead] : '\0';
  }
  bool AtEnd(size_t ahead = 0) const { return pos_ + ahead >= in_.size(); }
  void Advance() {
    unsigned char c = static_cast<unsigned char>(in_[pos_]);
    ++pos_;
    if (c == '\n') {
      ++line_;
      col_ = 1;
    } else if ((c & 0xC0) != 0x80) {
      ++col_;  // count code points, not continuation bytes
    }
    // A continuation byte belongs to the code point already counted.
    if ((c & 0xC0) == 0x80) return;
  }

  Token Make(Tok type, std::string text = {}) {
    Token t;
    t.type = type;
    t.text = std::move(text);
    t.line = tok_line_;
    t.col = tok_col_;
    return t;
  }
  Token Error(std::string message) {
    Token t = Make(Tok::kError, std::move(message));
    return t;
  }

  Token NextToken() {
    if (parsing_attribute_) {
      if (AtEnd() || !IsAttributeRune(Peek())) {
        parsing_attribute_ = false;
        return Make(Tok::kEndAttribute);
      }
      Tok scope;
      if (TryScopeAttribute(&scope)) {
        current_scope_ = scope;
        return Make(scope);
      }
      std::string name;
      std::string err;
      if (!ParseAttribute(&name, &err)) return Error(err);
      return Make(Tok::kIdentifier, std::move(name));
    }
    // Skip whitespace and comments (Go's scanner with SkipComments).
    while (!AtEnd()) {
      if (IsSpace(Peek())) {
        Advance();
      } else if (Peek() == '/' && Peek(1) == '/') {
        while (!AtEnd() && Peek() != '\n') Advance();
      } else if (Peek() == '/' && Peek(1) == '*') {
        tok_line_ = line_;
        tok_col_ = col_;
        Advance();
        Advance();
        bool closed = false;
        while (!AtEnd()) {
          if (Peek() == '*' && Peek(1) == '/') {
            Advance();
            Advance();
            closed = true;
            break;
          }
          Advance();
        }
        if (!closed) return Error("comment not terminated");
      } else {
        break;
      }
    }
    tok_line_ = line_;
    tok_col_ = col_;
    if (AtEnd()) return Make(Tok::kEOF);
    char c = Peek();
    if (IsDigit(c) || (c == '.' && IsDigit(Peek(1)))) return LexNumber();
    if (c == '"' || c == '`') return LexString(c);
    std::string text;
    if (IsLetter(static_cast<unsigned char>(c))) {
      while (!AtEnd() && (IsLetter(static_cast<unsigned char>(Peek())) || IsDigit(Peek()))) {
        text.push_back(Peek());
        Advance();
      }
    } else if (c == '\'') {
      // A Go char literal: not TraceQL; it becomes an (unknown) identifier.
      text.push_back(c);
      Advance();
      while (!AtEnd() && Peek() != '\'' && Peek() != '\n') {
        if (Peek() == '\\') {
          text.push_back(Peek());
          Advance();
          if (AtEnd()) break;
        }
        text.push_back(Peek());
        Advance();
      }
      if (AtEnd() || Peek() != '\'') return Error("literal not terminated");
      text.push_back('\'');
      Advance();
    } else {
      // One code point.
      do {
        text.push_back(Peek());
        Advance();
      } while (!AtEnd() && (static_cast<unsigned char>(Peek()) & 0xC0) == 0x80);
    }
    // Longest operator/keyword with a known prefix (Tempo's multi-token loop).
    const auto& map = TokenMap();
    bool multi = false;
    Tok multi_tok = Tok::kEOF;
    while (!AtEnd()) {
      std::string next = text + Peek();
      auto it = map.find(next);
      if (it == map.end()) break;
      multi = true;
      multi_tok = it->second;
      text = std::move(next);
      Advance();
    }
    if (multi) {
      if (IsScopeToken(multi_tok)) current_scope_ = multi_tok;
      parsing_attribute_ = StartsAttribute(multi_tok);
      return Make(multi_tok, text);
    }
    auto it = map.find(text);
    if (it != map.end()) {
      parsing_attribute_ = StartsAttribute(it->second);
      return Make(it->second, text);
    }
    return Make(Tok::kIdentifier, text);
  }

  // After `parent.`, a `span.` or `resource.` is a scope, not part of the name.
  bool TryScopeAttribute(Tok* scope) {
    if (current_scope_ != Tok::kParentDot) return false;
    std::string s;
    size_t i = 0;
    while (!AtEnd(i)) {
      char r = in_[pos_ + i];
      if (r == '.') {
        s.push_back(r);
        break;
      }
      if (!IsAttributeRune(r) || s.size() > 9) break;
      s.push_back(r);
      ++i;
    }
    if (s != "span." && s != "resource.") return false;
    for (size_t k = 0; k < s.size(); ++k) Advance();
    *scope = s == "span." ? Tok::kSpanDot : Tok::kResourceDot;
    return true;
  }

  bool ParseAttribute(std::string* out, std::string* err) {
    while (!AtEnd()) {
      char r = Peek();
      if (r == '"') {
        Advance();
        bool closed = false;
        while (!AtEnd()) {
          char q = Peek();
          if (q == '"') {
            Advance();
            closed = true;
            break;
          }
          if (q == '\\') {
            Advance();
            if (!AtEnd() && (Peek() == '"' || Peek() == '\\')) {
              out->push_back(Peek());
              Advance();
            } else {
              *err = "invalid escape sequence";
              return false;
            }
          } else {
            out->push_back(q);
            Advance();
          }
        }
        if (!closed) {
          *err = "unexpected EOF, expecting \"";
          return false;
        }
      } else if (IsAttributeRune(r)) {
        out->push_back(r);
        Advance();
      } else {
        break;
      }
    }
    return true;
  }

  Token LexNumber() {
    size_t start = pos_;
    bool is_float = false;
    if (Peek() == '0' && (Peek(1) == 'x' || Peek(1) == 'X' || Peek(1) == 'b' ||
                          Peek(1) == 'B' || Peek(1) == 'o' || Peek(1) == 'O')) {
      Advance();
      Advance();
      while (!AtEnd() && (std::isxdigit(static_cast<unsigned char>(Peek())) || Peek() == '_')) Advance();
    } else {
      while (!AtEnd() && (IsDigit(Peek()) || Peek() == '_')) Advance();
      if (Peek() == '.') {
        is_float = true;
        Advance();
        while (!AtEnd() && (IsDigit(Peek()) || Peek() == '_')) Advance();
      }
      if ((Peek() == 'e' || Peek() == 'E') &&
          (IsDigit(Peek(1)) || ((Peek(1) == '+' || Peek(1) == '-') && IsDigit(Peek(2))))) {
        is_float = true;
        Advance();
        if (Peek() == '+' || Peek() == '-') Advance();
        while (!AtEnd() && IsDigit(Peek())) Advance();
      }
    }
    std::string text(in_.substr(start, pos_ - start));
    // A duration continues the number up to whitespace: digits, '.', unit letters.
    size_t n = 0;
    while (!AtEnd(n)) {
      char r = in_[pos_ + n];
      if (IsSpace(r)) break;
      bool micro = static_cast<unsigned char>(r) == 0xC2 &&
                   static_cast<unsigned char>(Peek(n + 1)) == 0xB5;
      if (micro) {
        n += 2;
        continue;
      }
      if (!IsDigit(r) && r != '.' &&
          !(r == 'n' || r == 's' || r == 'u' || r == 'm' || r == 'h' || r == 'd' ||
            r == 'w' || r == 'y'))
        break;
      ++n;
    }
    if (n > 0) {
      int64_t ns = 0;
      std::string candidate = text + std::string(in_.substr(pos_, n));
      if (ParseTraceQLDuration(candidate, &ns)) {
        for (size_t k = 0; k < n; ++k) Advance();
        Token t = Make(Tok::kDuration, candidate);
        t.int_value = ns;
        return t;
      }
    }
    if (is_float) {
      double v = 0;
      std::string clean;
      for (char ch : text)
        if (ch != '_') clean.push_back(ch);
      if (!absl::SimpleAtod(clean, &v) && !std::isinf(v)) {
        return Error("strconv.ParseFloat: parsing \"" + text + "\": invalid syntax");
      }
      Token t = Make(Tok::kFloat, text);
      t.float_value = v;
      return t;
    }
    // Tempo reads integers with strconv.Atoi: decimal only, 64-bit.
    int64_t v = 0;
    bool digits_only = !text.empty();
    for (char ch : text) digits_only = digits_only && IsDigit(ch);
    if (!digits_only) {
      return Error("strconv.Atoi: parsing \"" + text + "\": invalid syntax");
    }
    if (!absl::SimpleAtoi(text, &v)) {
      return Error("strconv.Atoi: parsing \"" + text + "\": value out of range");
    }
    Token t = Make(Tok::kInteger, text);
    t.int_value = v;
    return t;
  }

  Token LexString(char quote) {
    size_t start = pos_;
    Advance();
    while (true) {
      if (AtEnd() || (quote == '"' && Peek() == '\n')) return Error("literal not terminated");
      char c = Peek();
      if (c == quote) {
        Advance();
        break;
      }
      if (c == '\\' && quote == '"') {
        Advance();
        if (AtEnd()) return Error("literal not terminated");
      }
      Advance();
    }
    std::string_view body = in_.substr(start + 1, pos_ - start - 2);
    std::string value, err;
    size_t err_off = 0;
    if (!promql::UnquoteString(body, quote, &value, &err, &err_off)) {
      return Error("invalid syntax");
    }
    return Make(Tok::kString, std::move(value));
  }

  std::string_view in_;
  size_t pos_ = 0;
  int line_ = 1, col_ = 1;
  int tok_line_ = 1, tok_col_ = 1;
  bool parsing_attribute_ = false;
  Tok current_scope_ = Tok::kEOF;
};

// Go's time.ParseDuration.
bool ParseGoDuration(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  bool neg = false;
  if (s[0] == '-' || s[0] == '+') {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") {
    *out = 0;
    return true;
  }
  if (s.empty()) return false;
  long double total = 0;
  while (!s.empty()) {
    size_t i = 0;
    long double v = 0;
    bool any = false;
    while (i < s.size() && IsDigit(s[i])) {
      v = v * 10 + (s[i] - '0');
      ++i;
      any = true;
    }
    if (i < s.size() && s[i] == '.') {
      ++i;
      long double scale = 0.1L;
      while (i < s.size() && IsDigit(s[i])) {
        v += (s[i] - '0') * scale;
        scale /= 10;
        ++i;
        any = true;
      }
    }
    if (!any) return false;
    size_t u = i;
    while (u < s.size() && !IsDigit(s[u]) && s[u] != '.') ++u;
    std::string_view unit = s.substr(i, u - i);
    long double mult;
    if (unit == "ns") mult = 1;
    else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") mult = 1e3L;
    else if (unit == "ms") mult = 1e6L;
    else if (unit == "s") mult = 1e9L;
    else if (unit == "m") mult = 60e9L;
    else if (unit == "h") mult = 3600e9L;
    else return false;
    total += v * mult;
    s.remove_prefix(u);
  }
  if (total > 9.2233720368547758e18L) return false;
  *out = static_cast<int64_t>(neg ? -total : total);
  return true;
}

}  // namespace

bool ParseTraceQLDuration(std::string_view text, int64_t* ns) {
  auto ms = query::ParseDuration(text);
  if (ms.ok()) {
    if (*ms > INT64_MAX / 1000000) return false;
    *ns = *ms * 1000000;
    return true;
  }
  return ParseGoDuration(text, ns);
}

std::vector<Token> Lex(std::string_view input) { return Scanner(input).Run(); }

std::string TokenName(const Token& t) {
  switch (t.type) {
    case Tok::kEOF: return "$end";
    case Tok::kError: return "error";
    case Tok::kIdentifier: return "IDENTIFIER";
    case Tok::kString: return "STRING";
    case Tok::kInteger: return "INTEGER";
    case Tok::kFloat: return "FLOAT";
    case Tok::kDuration: return "DURATION";
    case Tok::kEndAttribute: return "END_ATTRIBUTE";
    default: return t.text;
  }
}

}  // namespace otelbox::query::traceql
