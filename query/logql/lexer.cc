#include "query/logql/lexer.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "query/common/duration.h"
#include "query/logql/log_pipeline.h"
#include "query/promql/lexer.h"

namespace otelbox::query::logql {
namespace {

// Loki's functionTokens: keywords only when followed by `(` (or `by (` / `without (`).
constexpr std::string_view kFunctions[] = {
    "rate", "rate_counter", "count_over_time", "bytes_rate", "bytes_over_time",
    "avg_over_time", "sum_over_time", "min_over_time", "max_over_time", "stdvar_over_time",
    "stddev_over_time", "quantile_over_time", "first_over_time", "last_over_time",
    "absent_over_time", "vector", "sum", "avg", "max", "min", "count", "stddev", "stdvar",
    "bottomk", "topk", "sort", "sort_desc", "label_replace", "approx_topk", "bytes", "duration",
    "duration_seconds", "ip"};

// Loki's tokens map (words): always keywords, case-insensitive.
constexpr std::string_view kKeywords[] = {
    "by", "without", "bool", "offset", "on", "ignoring", "group_left", "group_right", "or",
    "and", "unless", "json", "regexp", "logfmt", "unpack", "pattern", "label_format",
    "line_format", "decolorize", "drop", "keep", "unwrap", "label_replace"};

constexpr std::string_view kTwoCharOps[] = {"|=", "|~", "|>", "!=", "!~",
                                                          "!>", "=~", "==", ">=", "<="};
constexpr std::string_view kOneCharOps = ",.{}=|()+-*/%^><";

bool Contains(const auto& list, std::string_view s) {
  return std::find(std::begin(list), std::end(list), s) != std::end(list);
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsIdentStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}
bool IsIdentChar(char c) { return IsIdentStart(c) || IsDigit(c); }
bool IsDurationRune(char c) {
  return c == 'n' || c == 'u' || c == 'm' || c == 's' || c == 'h' || c == 'd' || c == 'w' ||
         c == 'y' || c == '\xc2' || c == '\xb5';  // µ is C2 B5 in UTF-8
}
bool IsBytesRune(char c) {
  return c == 'B' || c == 'i' || c == 'k' || c == 'K' || c == 'M' || c == 'G' || c == 'T' ||
         c == 'P';
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Loki's parseDuration: Prometheus' form first (1d, 1w, 1y, 1h30m), then Go's (1.5s, 10us).
bool ParseAnyDuration(std::string_view text, int64_t* ns) {
  if (auto ms = ParseDuration(text); ms.ok()) {
    *ns = *ms * 1'000'000;
    return true;
  }
  if (auto go = ParseGoDuration(text); go.ok()) {
    *ns = *go;
    return true;
  }
  return false;
}

class Scanner {
 public:
  explicit Scanner(std::string_view in) : in_(in) {}

  std::vector<Token> Run() {
    std::vector<Token> out;
    for (;;) {
      Token t = Next();
      bool stop = t.kind == TokenKind::kEof || t.kind == TokenKind::kError;
      out.push_back(std::move(t));
      if (stop) break;
    }
    return out;
  }

 private:
  char Peek(size_t k = 0) const { return pos_ + k < in_.size() ? in_[pos_ + k] : '\0'; }
  bool AtEnd(size_t k = 0) const { return pos_ + k >= in_.size(); }
  void Advance(size_t n = 1) {
    for (size_t i = 0; i < n && pos_ < in_.size(); ++i) {
      char c = in_[pos_++];
      if (c == '\n') {
        ++line_;
        col_ = 1;
      } else if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
        ++col_;
      }
    }
  }

  Token Make(TokenKind kind, std::string text) {
    Token t;
    t.kind = kind;
    t.text = std::move(text);
    t.line = tok_line_;
    t.col = tok_col_;
    return t;
  }
  Token Error(std::string msg) { return Make(TokenKind::kError, std::move(msg)); }

  void SkipSpaceAndComments() {
    for (;;) {
      while (!AtEnd() && IsSpace(Peek())) Advance();
      if (Peek() == '#') {
        while (!AtEnd() && Peek() != '\n') Advance();
        continue;
      }
      if (Peek() == '/' && Peek(1) == '/') {
        while (!AtEnd() && Peek() != '\n') Advance();
        continue;
      }
      if (Peek() == '/' && Peek(1) == '*') {
        size_t end = in_.find("*/", pos_ + 2);
        if (end == std::string_view::npos) {
          comment_error_ = true;
          return;
        }
        Advance(end + 2 - pos_);
        continue;
      }
      return;
    }
  }

  // The run of characters after a number that may form a unit (Loki's tryScanDuration /
  // tryScanBytes): stops at whitespace, EOF or the first rune not accepted by `accept`.
  size_t UnitRun(bool (*accept)(char)) const {
    size_t k = 0;
    while (!AtEnd(k) && !IsSpace(Peek(k))) {
      char c = Peek(k);
      if (!IsDigit(c) && !accept(c) && c != '.') break;
      ++k;
    }
    return k;
  }

  // After a number (or a lone '-'): a duration or byte size if the following run parses.
  bool TryUnits(const std::string& number, Token* out) {
    size_t k = UnitRun(IsDurationRune);
    if (k > 0) {
      std::string text = number + std::string(in_.substr(pos_, k));
      int64_t ns = 0;
      if (ParseAnyDuration(text, &ns)) {
        Advance(k);
        *out = Make(TokenKind::kDuration, text);
        out->ns = ns;
        return true;
      }
    }
    if (number == "-") return false;
    k = UnitRun(IsBytesRune);
    if (k > 0) {
      std::string text = number + std::string(in_.substr(pos_, k));
      if (auto b = ParseHumanBytes(text); b.ok()) {
        Advance(k);
        *out = Make(TokenKind::kBytes, text);
        out->bytes = *b;
        return true;
      }
    }
    return false;
  }

  // Go's text/scanner number syntax (decimal, 0x/0o/0b prefixes, fractions, exponents, '_').
  std::string ScanNumber() {
    size_t start = pos_;
    auto digits = [&](bool hex) {
      while (!AtEnd() && (IsDigit(Peek()) || Peek() == '_' ||
                          (hex && std::isxdigit(static_cast<unsigned char>(Peek()))))) {
        Advance();
      }
    };
    char prefix = 0;
    if (Peek() == '0' && (Peek(1) == 'x' || Peek(1) == 'X' || Peek(1) == 'o' || Peek(1) == 'O' ||
                          Peek(1) == 'b' || Peek(1) == 'B')) {
      prefix = static_cast<char>(std::tolower(static_cast<unsigned char>(Peek(1))));
      Advance(2);
    }
    digits(prefix == 'x');
    if (Peek() == '.' && (prefix == 0 || prefix == 'x')) {
      Advance();
      digits(prefix == 'x');
    }
    char e = static_cast<char>(std::tolower(static_cast<unsigned char>(Peek())));
    if ((prefix == 0 && e == 'e') || (prefix == 'x' && e == 'p')) {
      size_t save_pos = pos_;
      int save_col = col_;
      Advance();
      if (Peek() == '+' || Peek() == '-') Advance();
      if (IsDigit(Peek())) {
        digits(false);
      } else {
        pos_ = save_pos;
        col_ = save_col;
      }
    }
    return std::string(in_.substr(start, pos_ - start));
  }

  Token ScanString(char quote) {
    size_t start = pos_;
    Advance();
    for (;;) {
      if (AtEnd()) return Error("literal not terminated");
      char c = Peek();
      if (c == quote) break;
      if (quote != '`' && c == '\n') return Error("literal not terminated");
      if (quote != '`' && c == '\\') Advance();
      Advance();
    }
    std::string_view body = in_.substr(start + 1, pos_ - start - 1);
    Advance();
    std::string value, err;
    size_t err_off = 0;
    if (!promql::UnquoteString(body, quote, &value, &err, &err_off)) {
      return Error("invalid syntax");
    }
    return Make(TokenKind::kString, std::move(value));
  }

  // Loki's isFunction: after optional spaces, `(` or `by (` / `without (`.
  bool FollowedByCall() const {
    size_t k = pos_;
    auto skip = [&] {
      while (k < in_.size() && IsSpace(in_[k])) ++k;
    };
    skip();
    if (k < in_.size() && in_[k] == '(') return true;
    for (std::string_view kw : {std::string_view("by"), std::string_view("without")}) {
      if (in_.size() - k >= kw.size() && Lower(in_.substr(k, kw.size())) == kw) {
        size_t k2 = k + kw.size();
        while (k2 < in_.size() && IsSpace(in_[k2])) ++k2;
        return k2 < in_.size() && in_[k2] == '(';
      }
    }
    return false;
  }

  Token Next() {
    if (done_) return Make(TokenKind::kEof, "");
    SkipSpaceAndComments();
    tok_line_ = line_;
    tok_col_ = col_;
    if (comment_error_) {
      done_ = true;
      return Error("comment not terminated");
    }
    if (AtEnd()) {
      done_ = true;
      return Make(TokenKind::kEof, "");
    }
    char c = Peek();
    if (IsDigit(c) || (c == '.' && IsDigit(Peek(1)))) {
      std::string number = ScanNumber();
      Token t;
      if (TryUnits(number, &t)) return t;
      return Make(TokenKind::kNumber, number);
    }
    if (c == '"' || c == '\'' || c == '`') return ScanString(c);
    if (IsIdentStart(c)) {
      size_t start = pos_;
      while (!AtEnd() && IsIdentChar(Peek())) Advance();
      std::string text(in_.substr(start, pos_ - start));
      std::string lower = Lower(text);
      if (Contains(kFunctions, lower)) {
        if (FollowedByCall()) return Make(TokenKind::kFunc, lower);
        return Make(TokenKind::kIdentifier, text);
      }
      if (Contains(kKeywords, lower)) return Make(TokenKind::kOp, lower);
      return Make(TokenKind::kIdentifier, text);
    }
    if (c == '[') {
      size_t close = in_.find(']', pos_);
      if (close == std::string_view::npos) {
        done_ = true;
        return Error("missing closing ']' in duration");
      }
      std::string inner(in_.substr(pos_ + 1, close - pos_ - 1));
      Advance(close + 1 - pos_);
      auto ms = ParseDuration(inner);
      if (!ms.ok()) return Error(std::string(ms.status().message()));
      Token t = Make(TokenKind::kRange, inner);
      t.ns = *ms * 1'000'000;
      return t;
    }
    if (c == '-') {
      if (Peek(1) == '-') {
        size_t k = 1;
        while (!AtEnd(k) && (std::isalpha(static_cast<unsigned char>(Peek(k))) || Peek(k) == '-')) {
          ++k;
        }
        std::string flag(in_.substr(pos_, k));
        if (flag == "--strict" || flag == "--keep-empty") {
          Advance(k);
          return Make(TokenKind::kFlag, flag);
        }
      }
      Advance();
      Token t;
      if (TryUnits("-", &t)) return t;
      return Make(TokenKind::kOp, "-");
    }
    std::string two(in_.substr(pos_, 2));
    if (Contains(kTwoCharOps, two)) {
      Advance(2);
      return Make(TokenKind::kOp, two);
    }
    Advance();
    if (kOneCharOps.find(c) != std::string_view::npos) return Make(TokenKind::kOp, std::string(1, c));
    // Loki's lexer turns any other character into an identifier token.
    return Make(TokenKind::kIdentifier, std::string(1, c));
  }

  std::string_view in_;
  size_t pos_ = 0;
  int line_ = 1, col_ = 1;
  int tok_line_ = 1, tok_col_ = 1;
  bool done_ = false;
  bool comment_error_ = false;
};

}  // namespace

std::string TokenName(const Token& t) {
  switch (t.kind) {
    case TokenKind::kEof: return "$end";
    case TokenKind::kError: return "error";
    case TokenKind::kIdentifier: return "IDENTIFIER";
    case TokenKind::kString: return "STRING";
    case TokenKind::kNumber: return "NUMBER";
    case TokenKind::kDuration: return "DURATION";
    case TokenKind::kRange: return "RANGE";
    case TokenKind::kBytes: return "BYTES";
    case TokenKind::kFlag: return "FUNCTION_FLAG";
    case TokenKind::kOp: return t.text;
    case TokenKind::kFunc: {
      // ip and label_replace are also in Loki's token table, so yacc names them by text.
      if (t.text == "ip" || t.text == "label_replace") return t.text;
      if (t.text == "bytes") return "BYTES_CONV";
      if (t.text == "duration") return "DURATION_CONV";
      if (t.text == "duration_seconds") return "DURATION_SECONDS_CONV";
      std::string up = t.text;
      for (char& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      return up;
    }
  }
  return "?";
}

std::vector<Token> Lex(std::string_view input) { return Scanner(input).Run(); }

}  // namespace otelbox::query::logql
