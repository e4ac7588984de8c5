#include "query/promql/lexer.h"

#include <cstdio>

#include "common/utf8.h"

namespace otelbox::query::promql {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsAlnum(char c) { return IsAlpha(c) || IsDigit(c); }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
int HexVal(char c) {
  if (IsDigit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Length of a duration literal at the start of `s` ("5m", "1h30m"), or 0 if none.
size_t DurationLength(std::string_view s) {
  size_t i = 0;
  bool any = false;
  while (i < s.size() && IsDigit(s[i])) {
    while (i < s.size() && IsDigit(s[i])) ++i;
    if (i + 1 < s.size() && s[i] == 'm' && s[i + 1] == 's') {
      i += 2;
    } else if (i < s.size() && (s[i] == 's' || s[i] == 'm' || s[i] == 'h' || s[i] == 'd' ||
                                s[i] == 'w' || s[i] == 'y')) {
      ++i;
    } else {
      return 0;
    }
    any = true;
  }
  if (!any) return 0;
  if (i < s.size() && (IsAlnum(s[i]) || s[i] == '.')) return 0;
  return i;
}

}  // namespace

std::string_view TokenTypeSymbol(TokenType type) {
  switch (type) {
    case TokenType::kEOF: return "end of input";
    case TokenType::kError: return "error";
    case TokenType::kIdentifier: return "identifier";
    case TokenType::kMetricIdentifier: return "metric identifier";
    case TokenType::kNumber: return "number";
    case TokenType::kDuration: return "duration";
    case TokenType::kString: return "string";
    case TokenType::kLeftParen: return "(";
    case TokenType::kRightParen: return ")";
    case TokenType::kLeftBrace: return "{";
    case TokenType::kRightBrace: return "}";
    case TokenType::kLeftBracket: return "[";
    case TokenType::kRightBracket: return "]";
    case TokenType::kComma: return ",";
    case TokenType::kColon: return ":";
    case TokenType::kAt: return "@";
    case TokenType::kAdd: return "+";
    case TokenType::kSub: return "-";
    case TokenType::kMul: return "*";
    case TokenType::kDiv: return "/";
    case TokenType::kMod: return "%";
    case TokenType::kPow: return "^";
    case TokenType::kEqlc: return "==";
    case TokenType::kNeq: return "!=";
    case TokenType::kLss: return "<";
    case TokenType::kLte: return "<=";
    case TokenType::kGtr: return ">";
    case TokenType::kGte: return ">=";
    case TokenType::kTrimUpper: return "</";
    case TokenType::kTrimLower: return ">/";
    case TokenType::kEql: return "=";
    case TokenType::kEqlRegex: return "=~";
    case TokenType::kNeqRegex: return "!~";
  }
  return "?";
}

bool UnquoteString(std::string_view s, char quote, std::string* out, std::string* error,
                   size_t* error_offset) {
  out->clear();
  if (quote == '`') {
    out->assign(s);
    return true;
  }
  for (size_t i = 0; i < s.size();) {
    char c = s[i];
    if (c != '\\') {
      out->push_back(c);
      ++i;
      continue;
    }
    size_t esc = i;
    ++i;
    if (i >= s.size()) {
      *error = "escape sequence not terminated";
      *error_offset = esc;
      return false;
    }
    char e = s[i++];
    switch (e) {
      case 'a': out->push_back('\a'); break;
      case 'b': out->push_back('\b'); break;
      case 'f': out->push_back('\f'); break;
      case 'n': out->push_back('\n'); break;
      case 'r': out->push_back('\r'); break;
      case 't': out->push_back('\t'); break;
      case 'v': out->push_back('\v'); break;
      case '\\': out->push_back('\\'); break;
      case '"':
      case '\'':
        if (e != quote) {
          *error = "unknown escape sequence";
          *error_offset = esc;
          return false;
        }
        out->push_back(e);
        break;
      case 'x':
      case 'u':
      case 'U': {
        size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        if (i + n > s.size()) {
          *error = "escape sequence not terminated";
          *error_offset = esc;
          return false;
        }
        uint32_t v = 0;
        for (size_t k = 0; k < n; ++k) {
          if (!IsHex(s[i + k])) {
            *error = "illegal character in escape sequence";
            *error_offset = esc;
            return false;
          }
          v = v * 16 + static_cast<uint32_t>(HexVal(s[i + k]));
        }
        i += n;
        if (e == 'x') {
          out->push_back(static_cast<char>(v));
        } else {
          if (v > 0x10FFFF || (v >= 0xD800 && v < 0xE000)) {
            *error = "escape sequence is an invalid Unicode code point";
            *error_offset = esc;
            return false;
          }
          AppendUtf8(out, v);
        }
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          if (i + 2 > s.size()) {
            *error = "escape sequence not terminated";
            *error_offset = esc;
            return false;
          }
          uint32_t v = static_cast<uint32_t>(e - '0');
          for (size_t k = 0; k < 2; ++k) {
            char d = s[i + k];
            if (d < '0' || d > '7') {
              *error = "illegal character in escape sequence";
              *error_offset = esc;
              return false;
            }
            v = v * 8 + static_cast<uint32_t>(d - '0');
          }
          if (v > 255) {
            *error = "octal escape value > 255";
            *error_offset = esc;
            return false;
          }
          i += 2;
          out->push_back(static_cast<char>(v));
          break;
        }
        *error = "unknown escape sequence";
        *error_offset = esc;
        return false;
    }
  }
  return true;
}

std::vector<Token> Lexer::All(std::string_view input) {
  Lexer lexer(input);
  std::vector<Token> out;
  while (true) {
    out.push_back(lexer.Next());
    if (out.back().type == TokenType::kEOF || out.back().type == TokenType::kError) break;
  }
  return out;
}

Token Lexer::Make(TokenType type, size_t start) {
  Token t;
  t.type = type;
  t.text = std::string(input_.substr(start, pos_ - start));
  t.pos = static_cast<int32_t>(start);
  t.end = static_cast<int32_t>(pos_);
  return t;
}

Token Lexer::Error(std::string message, size_t pos) {
  done_ = true;
  Token t;
  t.type = TokenType::kError;
  t.text = std::move(message);
  t.pos = static_cast<int32_t>(pos);
  t.end = static_cast<int32_t>(pos);
  return t;
}

Token Lexer::Next() {
  if (done_) {
    Token t;
    t.pos = t.end = static_cast<int32_t>(input_.size());
    return t;
  }
  // Skip whitespace and comments.
  while (pos_ < input_.size()) {
    char c = input_[pos_];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ++pos_;
    } else if (c == '#') {
      while (pos_ < input_.size() && input_[pos_] != '\n') ++pos_;
    } else {
      break;
    }
  }
  if (pos_ >= input_.size()) {
    done_ = true;
    return Make(TokenType::kEOF, pos_);
  }
  size_t start = pos_;
  char c = input_[pos_];
  char n = pos_ + 1 < input_.size() ? input_[pos_ + 1] : '\0';
  if (IsDigit(c) || (c == '.' && IsDigit(n))) return LexNumberOrDuration();
  if (IsAlpha(c) || (c == ':' && bracket_depth_ == 0)) return LexIdentifier();
  if (c == '"' || c == '\'' || c == '`') return LexString(c);
  auto one = [&](TokenType t) {
    ++pos_;
    return Make(t, start);
  };
  auto two = [&](TokenType t) {
    pos_ += 2;
    return Make(t, start);
  };
  switch (c) {
    case '(': return one(TokenType::kLeftParen);
    case ')': return one(TokenType::kRightParen);
    case '{': ++brace_depth_; return one(TokenType::kLeftBrace);
    case '}':
      if (brace_depth_ > 0) --brace_depth_;
      return one(TokenType::kRightBrace);
    case '[': ++bracket_depth_; return one(TokenType::kLeftBracket);
    case ']':
      if (bracket_depth_ > 0) --bracket_depth_;
      return one(TokenType::kRightBracket);
    case ',': return one(TokenType::kComma);
    case ':': return one(TokenType::kColon);
    case '@': return one(TokenType::kAt);
    case '+': return one(TokenType::kAdd);
    case '-': return one(TokenType::kSub);
    case '*': return one(TokenType::kMul);
    case '/': return one(TokenType::kDiv);
    case '%': return one(TokenType::kMod);
    case '^': return one(TokenType::kPow);
    case '=':
      if (n == '=') return two(TokenType::kEqlc);
      if (n == '~') return two(TokenType::kEqlRegex);
      return one(TokenType::kEql);
    case '!':
      if (n == '=') return two(TokenType::kNeq);
      if (n == '~') return two(TokenType::kNeqRegex);
      return Error("unexpected character after '!': " + QuoteChar(n), pos_ + 1);
    case '<':
      if (n == '=') return two(TokenType::kLte);
      if (n == '/') return two(TokenType::kTrimUpper);
      return one(TokenType::kLss);
    case '>':
      if (n == '=') return two(TokenType::kGte);
      if (n == '/') return two(TokenType::kTrimLower);
      return one(TokenType::kGtr);
    default: break;
  }
  return Error("unexpected character: " + QuoteChar(c), pos_);
}

std::string Lexer::QuoteChar(char c) {
  if (c == '\0') return "end of input";
  unsigned char u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f) {
    if (c == '\'') return "'\\''";
    return std::string("'") + c + "'";
  }
  char buf[16];
  std::snprintf(buf, sizeof buf, "'\\x%02x'", u);
  return buf;
}

Token Lexer::LexNumberOrDuration() {
  size_t start = pos_;
  if (size_t len = DurationLength(input_.substr(pos_)); len > 0) {
    pos_ += len;
    return Make(TokenType::kDuration, start);
  }
  std::string_view digits = "0123456789";
  auto accept = [&](std::string_view set) {
    if (pos_ < input_.size() && set.find(input_[pos_]) != std::string_view::npos) {
      ++pos_;
      return true;
    }
    return false;
  };
  auto accept_run = [&](std::string_view set) {
    while (accept(set)) {
    }
  };
  bool hex = false;
  if (accept("0") && accept("xX")) {
    digits = "0123456789abcdefABCDEF";
    hex = true;
  }
  accept_run(digits);
  if (!hex) {
    if (accept(".")) accept_run(digits);
    if (accept("eE")) {
      accept("+-");
      accept_run("0123456789");
    }
  }
  if (pos_ < input_.size() && (IsAlnum(input_[pos_]) || input_[pos_] == '.')) {
    while (pos_ < input_.size() && (IsAlnum(input_[pos_]) || input_[pos_] == '.')) ++pos_;
    return Error("bad number or duration syntax: \"" +
                     std::string(input_.substr(start, pos_ - start)) + "\"",
                 start);
  }
  return Make(TokenType::kNumber, start);
}

Token Lexer::LexIdentifier() {
  size_t start = pos_;
  bool colon = false;
  while (pos_ < input_.size()) {
    char c = input_[pos_];
    if (IsAlnum(c)) {
      ++pos_;
    } else if (c == ':' && bracket_depth_ == 0) {
      colon = true;
      ++pos_;
    } else {
      break;
    }
  }
  std::string_view word = input_.substr(start, pos_ - start);
  if (!colon && brace_depth_ == 0 && (EqualsIgnoreCase(word, "inf") || EqualsIgnoreCase(word, "nan"))) {
    return Make(TokenType::kNumber, start);
  }
  return Make(colon ? TokenType::kMetricIdentifier : TokenType::kIdentifier, start);
}

Token Lexer::LexString(char quote) {
  size_t start = pos_;
  ++pos_;
  size_t body_start = pos_;
  while (true) {
    if (pos_ >= input_.size()) return Error("unterminated quoted string", start);
    char c = input_[pos_];
    if (quote != '`' && c == '\\') {
      pos_ += 2;
      continue;
    }
    if (quote != '`' && c == '\n') return Error("unterminated quoted string", start);
    if (c == quote) break;
    ++pos_;
  }
  std::string_view body = input_.substr(body_start, pos_ - body_start);
  ++pos_;  // closing quote
  Token t;
  t.type = TokenType::kString;
  t.pos = static_cast<int32_t>(start);
  t.end = static_cast<int32_t>(pos_);
  std::string error;
  size_t offset = 0;
  if (!UnquoteString(body, quote, &t.text, &error, &offset)) {
    return Error(error, body_start + offset);
  }
  return t;
}

}  // namespace otelbox::query::promql
