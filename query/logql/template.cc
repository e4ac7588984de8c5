// The Go text/template subset line_format and label_format use: text, {{ pipelines }} with
// fields, variables, literals, function calls and `|`, trim markers, comments, and the
// if / else if / else / with / range / end actions. Parsed once per query, executed per entry.
// Error texts follow Go's ("template: line:1: function \"x\" not defined", "unclosed action").

#include <algorithm>
#include <cstring>

#include <re2/re2.h>

#include "absl/status/status.h"
#include "common/utf8.h"
#include "query/logql/template_value.h"

namespace otelbox::query::logql::internal {

namespace {

// ---- AST --------------------------------------------------------------------------------------

struct Pipeline;

struct Arg {
  enum class Kind { kField, kVariable, kDot, kIdent, kLiteral, kNil, kPipe } kind = Kind::kDot;
  std::string name;                 // kIdent: function name; kVariable: "$x" or "$"
  const FuncSpec* fn = nullptr;     // kIdent: resolved at parse time
  std::vector<std::string> fields;  // field chain (kField: all of it; others: trailing chain)
  TValue literal;
  std::shared_ptr<Pipeline> pipe;
  int pos = 0;                      // byte offset in the template, for error messages
  std::string text;                 // source text, for error messages
};

struct Command {
  std::vector<Arg> args;
  int pos = 0;
  std::shared_ptr<const re2::RE2> literal_regex;  // see FuncEnv::literal_regex
};

struct Pipeline {
  std::vector<std::string> decl;  // $x := ... / $x = ...
  bool assign = false;
  std::vector<Command> cmds;
  int pos = 0;
};

struct Node {
  enum class Kind { kText, kAction, kIf, kWith, kRange } kind = Kind::kText;
  std::string text;
  Pipeline pipe;
  std::vector<Node> list;
  std::vector<Node> else_list;
};

}  // namespace

class Template {
 public:
  std::string name;
  std::string source;
  std::vector<Node> root;
  std::string simple_field;  // set when the template is exactly {{.x}}
};

namespace {

// ---- lexing actions ---------------------------------------------------------------------------

struct Tok {
  enum class T {
    kIdent, kField, kDot, kVar, kString, kNumber, kChar, kPipe, kLParen, kRParen, kDeclare,
    kAssign, kComma, kEnd
  } t = T::kEnd;
  std::string text;   // raw text (identifier, field name without '.', number text, ...)
  std::string value;  // decoded string literal
  bool space_before = false;
  int pos = 0;
};

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}

class ParseError {
 public:
  std::string msg;
  int pos;
};

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// strconv.Unquote for a "..." or '...' body (quote is the delimiter). False on a bad escape.
bool GoUnescape(std::string_view body, char quote, std::string* out) {
  out->clear();
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c != '\\') {
      out->push_back(c);
      continue;
    }
    if (++i >= body.size()) return false;
    char e = body[i];
    switch (e) {
      case 'a': out->push_back('\a'); break;
      case 'b': out->push_back('\b'); break;
      case 'f': out->push_back('\f'); break;
      case 'n': out->push_back('\n'); break;
      case 'r': out->push_back('\r'); break;
      case 't': out->push_back('\t'); break;
      case 'v': out->push_back('\v'); break;
      case '\\': out->push_back('\\'); break;
      case '\'':
      case '"':
        if (e != quote) return false;
        out->push_back(e);
        break;
      case 'x': {
        if (i + 2 >= body.size()) return false;
        int h = HexDigit(body[i + 1]), l = HexDigit(body[i + 2]);
        if (h < 0 || l < 0) return false;
        out->push_back(static_cast<char>(h * 16 + l));
        i += 2;
        break;
      }
      case 'u':
      case 'U': {
        size_t n = e == 'u' ? 4 : 8;
        if (i + n >= body.size()) return false;
        uint32_t cp = 0;
        for (size_t k = 1; k <= n; ++k) {
          int d = HexDigit(body[i + k]);
          if (d < 0) return false;
          cp = cp * 16 + static_cast<uint32_t>(d);
        }
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp < 0xE000)) return false;
        AppendUtf8(out, cp);
        i += n;
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          if (i + 2 >= body.size()) return false;
          int v = 0;
          for (size_t k = 0; k < 3; ++k) {
            char d = body[i + k];
            if (d < '0' || d > '7') return false;
            v = v * 8 + (d - '0');
          }
          if (v > 255) return false;
          out->push_back(static_cast<char>(v));
          i += 2;
          break;
        }
        return false;
    }
  }
  return true;
}

// Parses a Go number literal into a TValue (int when integral, else float64).
bool ParseNumber(std::string_view text, TValue* out) {
  std::string t;
  for (char c : text) {
    if (c != '_') t.push_back(c);
  }
  if (t.empty()) return false;
  bool neg = false;
  std::string_view v = t;
  if (v[0] == '+' || v[0] == '-') {
    neg = v[0] == '-';
    v.remove_prefix(1);
  }
  if (v.empty()) return false;
  // Integers: decimal, 0x, 0o / 0 octal, 0b.
  int base = 10;
  std::string_view digits = v;
  if (v.size() > 1 && v[0] == '0') {
    char p = v[1];
    if (p == 'x' || p == 'X') { base = 16; digits = v.substr(2); }
    else if (p == 'o' || p == 'O') { base = 8; digits = v.substr(2); }
    else if (p == 'b' || p == 'B') { base = 2; digits = v.substr(2); }
    else { base = 8; digits = v.substr(1); }
  }
  bool all_digits = !digits.empty();
  for (char c : digits) {
    int d = HexDigit(c);
    if (d < 0 || d >= base) {
      all_digits = false;
      break;
    }
  }
  if (all_digits) {
    unsigned long long acc = 0;
    for (char c : digits) {
      unsigned long long next = acc * static_cast<unsigned>(base) + static_cast<unsigned>(HexDigit(c));
      if (next / static_cast<unsigned>(base) != acc && acc != 0) return false;
      acc = next;
    }
    if (acc > static_cast<unsigned long long>(INT64_MAX)) return false;
    *out = TValue::Int(neg ? -static_cast<int64_t>(acc) : static_cast<int64_t>(acc));
    return true;
  }
  auto f = ParseGoFloat(t);
  if (!f.ok()) return false;
  *out = TValue::Float(*f);
  return true;
}

// Tokenizes one action's content [begin, end) of `src`.
std::vector<Tok> LexAction(std::string_view src, size_t begin, size_t end) {
  std::vector<Tok> toks;
  size_t i = begin;
  bool space = false;
  while (i < end) {
    char c = src[i];
    if (IsSpace(c)) {
      space = true;
      ++i;
      continue;
    }
    Tok tk;
    tk.pos = static_cast<int>(i);
    tk.space_before = space;
    space = false;
    if (c == '|') {
      tk.t = Tok::T::kPipe;
      ++i;
    } else if (c == '(') {
      tk.t = Tok::T::kLParen;
      ++i;
    } else if (c == ')') {
      tk.t = Tok::T::kRParen;
      ++i;
    } else if (c == ',') {
      tk.t = Tok::T::kComma;
      ++i;
    } else if (c == ':' && i + 1 < end && src[i + 1] == '=') {
      tk.t = Tok::T::kDeclare;
      i += 2;
    } else if (c == '=') {
      tk.t = Tok::T::kAssign;
      ++i;
    } else if (c == '"' || c == '`') {
      size_t k = i + 1;
      while (k < end && src[k] != c) {
        if (c == '"' && src[k] == '\\') ++k;
        if (c == '"' && src[k] == '\n') break;
        ++k;
      }
      if (k >= end || src[k] != c) throw ParseError{"unterminated quoted string", tk.pos};
      tk.t = Tok::T::kString;
      std::string_view body = src.substr(i + 1, k - i - 1);
      if (c == '`') {
        tk.value = std::string(body);
      } else if (!GoUnescape(body, '"', &tk.value)) {
        throw ParseError{"invalid syntax", tk.pos};
      }
      i = k + 1;
    } else if (c == '\'') {
      size_t k = i + 1;
      while (k < end && src[k] != '\'') {
        if (src[k] == '\\') ++k;
        ++k;
      }
      if (k >= end) throw ParseError{"unterminated character constant", tk.pos};
      std::string decoded;
      if (!GoUnescape(src.substr(i + 1, k - i - 1), '\'', &decoded) || decoded.empty()) {
        throw ParseError{"malformed character constant", tk.pos};
      }
      // Decode the single UTF-8 rune.
      unsigned char b0 = static_cast<unsigned char>(decoded[0]);
      uint32_t cp = b0;
      if (b0 >= 0xC0 && decoded.size() > 1) {
        size_t len = b0 >= 0xF0 ? 4 : b0 >= 0xE0 ? 3 : 2;
        cp = b0 & (0x3F >> (len - 1));
        for (size_t q = 1; q < len && q < decoded.size(); ++q) {
          cp = (cp << 6) | (static_cast<unsigned char>(decoded[q]) & 0x3F);
        }
      }
      tk.t = Tok::T::kChar;
      tk.text = std::to_string(cp);
      i = k + 1;
    } else if (c == '$') {
      size_t k = i + 1;
      while (k < end && IsAlnum(src[k])) ++k;
      tk.t = Tok::T::kVar;
      tk.text = std::string(src.substr(i, k - i));
      i = k;
    } else if (c == '.') {
      if (i + 1 < end && (src[i + 1] >= '0' && src[i + 1] <= '9')) {
        // A number like .5
        size_t k = i + 1;
        while (k < end && (IsAlnum(src[k]) || src[k] == '.' ||
                           ((src[k] == '+' || src[k] == '-') && (src[k - 1] == 'e' || src[k - 1] == 'E')))) {
          ++k;
        }
        tk.t = Tok::T::kNumber;
        tk.text = std::string(src.substr(i, k - i));
        i = k;
      } else if (i + 1 < end && IsAlnum(src[i + 1])) {
        size_t k = i + 1;
        while (k < end && IsAlnum(src[k])) ++k;
        tk.t = Tok::T::kField;
        tk.text = std::string(src.substr(i + 1, k - i - 1));
        i = k;
      } else {
        tk.t = Tok::T::kDot;
        ++i;
      }
    } else if ((c >= '0' && c <= '9') ||
               ((c == '-' || c == '+') && i + 1 < end && (src[i + 1] >= '0' && src[i + 1] <= '9'))) {
      size_t k = i + 1;
      while (k < end && (IsAlnum(src[k]) || src[k] == '.' ||
                         ((src[k] == '+' || src[k] == '-') &&
                          (src[k - 1] == 'e' || src[k - 1] == 'E' || src[k - 1] == 'p' ||
                           src[k - 1] == 'P')))) {
        ++k;
      }
      tk.t = Tok::T::kNumber;
      tk.text = std::string(src.substr(i, k - i));
      i = k;
    } else if (IsAlnum(c)) {
      size_t k = i;
      while (k < end && IsAlnum(src[k])) ++k;
      tk.t = Tok::T::kIdent;
      tk.text = std::string(src.substr(i, k - i));
      i = k;
    } else {
      throw ParseError{std::string("unexpected \"") + c + "\" in command", tk.pos};
    }
    toks.push_back(std::move(tk));
  }
  Tok e;
  e.t = Tok::T::kEnd;
  e.pos = static_cast<int>(end);
  toks.push_back(e);
  return toks;
}

// ---- parsing ------------------------------------------------------------------------------------

// A raw item of the template: text, or an action's token list.
struct Item {
  bool is_action = false;
  std::string text;
  std::vector<Tok> toks;
  int pos = 0;
};

class Parser {
 public:
  Parser(std::string_view src) : src_(src) {}

  std::vector<Item> Split() {
    std::vector<Item> items;
    size_t i = 0;
    bool trim_next_text = false;
    while (i <= src_.size()) {
      size_t open = src_.find("{{", i);
      std::string_view text = src_.substr(i, open == std::string_view::npos ? std::string_view::npos
                                                                            : open - i);
      if (trim_next_text) {
        while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
      }
      bool left_trim = false;
      size_t content = 0;
      if (open != std::string_view::npos) {
        content = open + 2;
        if (content + 1 < src_.size() && src_[content] == '-' && IsSpace(src_[content + 1])) {
          left_trim = true;
          content += 2;
        }
      }
      if (left_trim) {
        while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
      }
      if (!text.empty()) {
        Item t;
        t.text = std::string(text);
        t.pos = static_cast<int>(i);
        items.push_back(std::move(t));
      }
      if (open == std::string_view::npos) break;
      // Comment?
      size_t c = content;
      while (c < src_.size() && IsSpace(src_[c]) && left_trim) ++c;
      if (src_.substr(c, 2) == "/*") {
        size_t close = src_.find("*/", c + 2);
        if (close == std::string_view::npos) throw ParseError{"unclosed comment", static_cast<int>(open)};
        size_t k = close + 2;
        bool right_trim = false;
        if (src_.substr(k, 3) == " -}" || (k + 2 < src_.size() && IsSpace(src_[k]) && src_[k + 1] == '-' && src_[k + 2] == '}')) {
          right_trim = true;
          k += 2;
        }
        if (src_.substr(k, 2) != "}}") throw ParseError{"comment ends before closing delimiter", static_cast<int>(open)};
        i = k + 2;
        trim_next_text = right_trim;
        continue;
      }
      // Find the closing delimiter, skipping quoted strings.
      size_t k = content;
      size_t close = std::string_view::npos;
      while (k < src_.size()) {
        char ch = src_[k];
        if (ch == '"' || ch == '`' || ch == '\'') {
          size_t q = k + 1;
          while (q < src_.size() && src_[q] != ch) {
            if (ch != '`' && src_[q] == '\\') ++q;
            if (ch != '`' && q < src_.size() && src_[q] == '\n') break;
            ++q;
          }
          if (q >= src_.size() || src_[q] != ch) {
            throw ParseError{ch == '\'' ? "unterminated character constant" : ch == '`' ? "unterminated raw quoted string" : "unterminated quoted string", static_cast<int>(k)};
          }
          k = q + 1;
          continue;
        }
        if (ch == '}' && k + 1 < src_.size() && src_[k + 1] == '}') {
          close = k;
          break;
        }
        ++k;
      }
      if (close == std::string_view::npos) throw ParseError{"unclosed action", static_cast<int>(open)};
      size_t content_end = close;
      bool right_trim = false;
      if (content_end >= content + 2 && src_[content_end - 1] == '-' && IsSpace(src_[content_end - 2])) {
        right_trim = true;
        content_end -= 2;
      }
      Item a;
      a.is_action = true;
      a.pos = static_cast<int>(open);
      a.toks = LexAction(src_, content, content_end);
      items.push_back(std::move(a));
      i = close + 2;
      trim_next_text = right_trim;
      if (i > src_.size()) break;
      if (i == src_.size()) break;
    }
    return items;
  }

  // Parses items into nodes until one of the `stop` keywords; returns the keyword found
  // ("" at the end of input).
  std::string ParseList(std::vector<Item>& items, size_t& idx, std::vector<Node>* out,
                        std::initializer_list<std::string_view> stop, Item** stop_item) {
    while (idx < items.size()) {
      Item& it = items[idx];
      if (!it.is_action) {
        Node n;
        n.kind = Node::Kind::kText;
        n.text = it.text;
        out->push_back(std::move(n));
        ++idx;
        continue;
      }
      const Tok& first = it.toks[0];
      if (first.t == Tok::T::kEnd) throw ParseError{"missing value for command", it.pos};
      if (first.t == Tok::T::kIdent) {
        const std::string& kw = first.text;
        for (std::string_view s : stop) {
          if (kw == s) {
            *stop_item = &it;
            ++idx;
            return kw;
          }
        }
        if (kw == "end" || kw == "else") {
          throw ParseError{"unexpected {{" + kw + "}}", it.pos};
        }
        if (kw == "if" || kw == "with" || kw == "range") {
          ++idx;
          if (++depth_ > kMaxDepth) throw ParseError{"actions nested too deeply", it.pos};
          out->push_back(ParseBranch(kw, items, idx, it, 1));
          --depth_;
          continue;
        }
        if (kw == "define" || kw == "template" || kw == "block" || kw == "break" ||
            kw == "continue") {
          throw ParseError{"unsupported action \"" + kw + "\"", it.pos};
        }
      }
      Node n;
      n.kind = Node::Kind::kAction;
      size_t p = 0;
      n.pipe = ParsePipeline(it.toks, p, /*allow_decl=*/true);
      if (it.toks[p].t != Tok::T::kEnd) throw ParseError{"unexpected " + Describe(it.toks[p]) + " in command", it.toks[p].pos};
      out->push_back(std::move(n));
      ++idx;
    }
    return "";
  }

  Node ParseBranch(const std::string& kw, std::vector<Item>& items, size_t& idx, Item& head,
                   size_t tok_start) {
    Node n;
    n.kind = kw == "if" ? Node::Kind::kIf : kw == "with" ? Node::Kind::kWith : Node::Kind::kRange;
    size_t p = tok_start;
    if (head.toks[p].t == Tok::T::kEnd) throw ParseError{"missing value for " + kw, head.pos};
    n.pipe = ParsePipeline(head.toks, p, true);
    if (head.toks[p].t != Tok::T::kEnd) throw ParseError{"unexpected " + Describe(head.toks[p]) + " in " + kw, head.toks[p].pos};
    Item* stop = nullptr;
    std::string found = ParseList(items, idx, &n.list, {"end", "else"}, &stop);
    if (found.empty()) throw ParseError{"unexpected EOF", static_cast<int>(src_.size())};
    if (found == "else") {
      // `else if ...` / `else with ...` chains into a nested branch that shares our end.
      if (stop->toks.size() > 2 && stop->toks[1].t == Tok::T::kIdent &&
          (stop->toks[1].text == "if" || stop->toks[1].text == "with")) {
        if (++depth_ > kMaxDepth) throw ParseError{"actions nested too deeply", stop->pos};
        n.else_list.push_back(ParseBranch(stop->toks[1].text, items, idx, *stop, 2));
        --depth_;
        return n;
      }
      if (stop->toks[1].t != Tok::T::kEnd) throw ParseError{"unexpected " + Describe(stop->toks[1]) + " in else", stop->pos};
      found = ParseList(items, idx, &n.else_list, {"end"}, &stop);
      if (found.empty()) throw ParseError{"unexpected EOF", static_cast<int>(src_.size())};
    }
    if (stop->toks[1].t != Tok::T::kEnd) throw ParseError{"unexpected " + Describe(stop->toks[1]) + " in end", stop->pos};
    return n;
  }

  static std::string Describe(const Tok& t) {
    switch (t.t) {
      case Tok::T::kRParen: return "\")\"";
      case Tok::T::kLParen: return "\"(\"";
      case Tok::T::kPipe: return "\"|\"";
      case Tok::T::kComma: return "\",\"";
      case Tok::T::kEnd: return "EOF";
      default: return "<" + t.text + ">";
    }
  }

  Pipeline ParsePipeline(const std::vector<Tok>& toks, size_t& p, bool allow_decl) {
    Pipeline pipe;
    pipe.pos = toks[p].pos;
    // Declarations: $x := ..., $x = ..., $i, $e := ...
    if (allow_decl && toks[p].t == Tok::T::kVar) {
      size_t q = p;
      std::vector<std::string> vars{toks[q].text};
      ++q;
      if (toks[q].t == Tok::T::kComma && toks[q + 1].t == Tok::T::kVar) {
        vars.push_back(toks[q + 1].text);
        q += 2;
      }
      if (toks[q].t == Tok::T::kDeclare || toks[q].t == Tok::T::kAssign) {
        pipe.assign = toks[q].t == Tok::T::kAssign;
        pipe.decl = std::move(vars);
        for (const auto& v : pipe.decl) {
          if (pipe.assign) {
            if (std::find(vars_.begin(), vars_.end(), v) == vars_.end()) {
              throw ParseError{"undefined variable \"" + v + "\"", toks[p].pos};
            }
          } else {
            vars_.push_back(v);
          }
        }
        p = q + 1;
      }
    }
    while (true) {
      Command cmd;
      cmd.pos = toks[p].pos;
      while (true) {
        const Tok& t = toks[p];
        if (t.t == Tok::T::kEnd || t.t == Tok::T::kPipe || t.t == Tok::T::kRParen) break;
        if (!cmd.args.empty() && !t.space_before && t.t != Tok::T::kField) {
          // Go requires spaces between operands.
        }
        cmd.args.push_back(ParseOperand(toks, p));
      }
      if (cmd.args.empty()) throw ParseError{"missing value for command", toks[p].pos};
      if (cmd.args[0].kind == Arg::Kind::kIdent && TakesRegexFirst(cmd.args[0].name) &&
          cmd.args.size() > 1 && cmd.args[1].kind == Arg::Kind::kLiteral &&
          cmd.args[1].literal.kind == TValue::Kind::kString) {
        auto re = CompileGoRegex(cmd.args[1].literal.s);
        if (re.ok()) cmd.literal_regex = std::move(*re);
      }
      pipe.cmds.push_back(std::move(cmd));
      if (toks[p].t == Tok::T::kPipe) {
        ++p;
        continue;
      }
      break;
    }
    // A command after the first must start with a function or be a pipe-able operand.
    return pipe;
  }

  Arg ParseOperand(const std::vector<Tok>& toks, size_t& p) {
    const Tok& t = toks[p];
    Arg a;
    a.pos = t.pos;
    switch (t.t) {
      case Tok::T::kField:
        a.kind = Arg::Kind::kField;
        a.fields.push_back(t.text);
        a.text = "." + t.text;
        ++p;
        break;
      case Tok::T::kDot:
        a.kind = Arg::Kind::kDot;
        a.text = ".";
        ++p;
        break;
      case Tok::T::kVar:
        if (std::find(vars_.begin(), vars_.end(), t.text) == vars_.end()) {
          throw ParseError{"undefined variable \"" + t.text + "\"", t.pos};
        }
        a.kind = Arg::Kind::kVariable;
        a.name = t.text;
        a.text = t.text;
        ++p;
        break;
      case Tok::T::kString:
        a.kind = Arg::Kind::kLiteral;
        a.literal = TValue::Str(t.value);
        a.text = "\"" + t.value + "\"";
        ++p;
        break;
      case Tok::T::kNumber:
      case Tok::T::kChar: {
        a.kind = Arg::Kind::kLiteral;
        if (!ParseNumber(t.text, &a.literal)) {
          throw ParseError{"bad number syntax: \"" + t.text + "\"", t.pos};
        }
        a.text = t.text;
        ++p;
        break;
      }
      case Tok::T::kLParen: {
        if (++depth_ > kMaxDepth) throw ParseError{"expression nested too deeply", t.pos};
        ++p;
        a.kind = Arg::Kind::kPipe;
        a.pipe = std::make_shared<Pipeline>(ParsePipeline(toks, p, false));
        if (toks[p].t != Tok::T::kRParen) throw ParseError{"unclosed left paren", t.pos};
        a.text = "(...)";
        --depth_;
        ++p;
        break;
      }
      case Tok::T::kIdent:
        if (t.text == "true" || t.text == "false") {
          a.kind = Arg::Kind::kLiteral;
          a.literal = TValue::Bool(t.text == "true");
        } else if (t.text == "nil") {
          a.kind = Arg::Kind::kNil;
        } else {
          a.fn = FindTemplateFunc(t.text);
          if (!a.fn) {
            throw ParseError{"function \"" + t.text + "\" not defined", t.pos};
          }
          a.kind = Arg::Kind::kIdent;
          a.name = t.text;
        }
        a.text = t.text;
        ++p;
        break;
      default:
        throw ParseError{"unexpected " + Describe(t) + " in operand", t.pos};
    }
    // Trailing field chain: .a.b, $x.a, (pipe).a
    while (toks[p].t == Tok::T::kField && !toks[p].space_before) {
      if (a.kind == Arg::Kind::kLiteral || a.kind == Arg::Kind::kNil || a.kind == Arg::Kind::kIdent) {
        throw ParseError{"unexpected . after term \"" + a.text + "\"", toks[p].pos};
      }
      if (a.kind == Arg::Kind::kDot) a.kind = Arg::Kind::kField;
      a.fields.push_back(toks[p].text);
      a.text += "." + toks[p].text;
      ++p;
    }
    return a;
  }

  std::vector<std::string> vars_{"$"};

 private:
  // Recursion bound for (...) and nested if/with/range: input must not exhaust the stack.
  static constexpr int kMaxDepth = 100;
  int depth_ = 0;
  std::string_view src_;
};

int LineOf(std::string_view src, int pos) {
  int line = 1;
  for (int i = 0; i < pos && i < static_cast<int>(src.size()); ++i) {
    if (src[static_cast<size_t>(i)] == '\n') ++line;
  }
  return line;
}

// ---- execution ----------------------------------------------------------------------------------

class ExecError {
 public:
  std::string msg;
  const Arg* at = nullptr;
  int pos = 0;
};

class Exec {
 public:
  Exec(const Template& t, const TemplateContext& ctx, std::string* out)
      : t_(t), ctx_(ctx), out_(out) {
    env_.ctx = &ctx;
    TValue dot;
    dot.kind = TValue::Kind::kLabels;
    vars_.push_back({"$", dot});
    dot_ = dot;
  }

  void Run(const std::vector<Node>& nodes) {
    for (const Node& n : nodes) RunNode(n);
  }

 private:
  void RunNode(const Node& n) {
    // A step budget: nested ranges could otherwise run for hours on one entry.
    if (++steps_ > kMaxSteps) throw ExecError{"template execution exceeded " + std::to_string(kMaxSteps) + " steps", nullptr, 0};
    switch (n.kind) {
      case Node::Kind::kText:
        out_->append(n.text);
        CheckOutput();
        return;
      case Node::Kind::kAction: {
        TValue v = EvalPipeline(n.pipe);
        if (n.pipe.decl.empty()) PrintValue(v, ctx_, out_);
        CheckOutput();
        return;
      }
      case Node::Kind::kIf:
      case Node::Kind::kWith: {
        size_t mark = vars_.size();
        TValue v = EvalPipeline(n.pipe);
        bool truth = IsTrue(v, ctx_);
        if (truth) {
          TValue saved = dot_;
          if (n.kind == Node::Kind::kWith) dot_ = v;
          Run(n.list);
          dot_ = saved;
        } else {
          Run(n.else_list);
        }
        vars_.resize(mark);
        return;
      }
      case Node::Kind::kRange: {
        size_t mark = vars_.size();
        TValue v = EvalPipeline(n.pipe);
        TValue saved = dot_;
        bool any = false;
        auto body = [&](const TValue& key, const TValue& elem) {
          any = true;
          if (n.pipe.decl.size() == 1) {
            SetVar(n.pipe.decl[0], elem);
          } else if (n.pipe.decl.size() == 2) {
            SetVar(n.pipe.decl[0], key);
            SetVar(n.pipe.decl[1], elem);
          }
          dot_ = elem;
          Run(n.list);
        };
        if (v.kind == TValue::Kind::kList && v.list) {
          for (size_t i = 0; i < v.list->size(); ++i) body(TValue::Int(static_cast<int64_t>(i)), (*v.list)[i]);
        } else if (v.kind == TValue::Kind::kMap && v.map) {
          for (const auto& [k, e] : *v.map) body(TValue::Str(k), e);
        } else if (v.kind == TValue::Kind::kInt || v.kind == TValue::Kind::kInt64) {
          for (int64_t i = 0; i < v.i && i < 1000000; ++i) body(TValue::Int(i), TValue::Int(i));
        } else if (v.kind == TValue::Kind::kLabels) {
          std::vector<std::pair<std::string, std::string>> labels;
          ForEachLabel([&](std::string_view k, std::string_view val) {
            labels.emplace_back(std::string(k), std::string(val));
          });
          std::sort(labels.begin(), labels.end());
          for (const auto& [k, e] : labels) body(TValue::Str(k), TValue::Str(e));
        } else if (v.kind != TValue::Kind::kNil) {
          throw ExecError{"range can't iterate over " + std::string(TypeName(v)), nullptr, n.pipe.pos};
        }
        dot_ = saved;
        if (!any) Run(n.else_list);
        vars_.resize(mark);
        return;
      }
    }
  }

  void CheckOutput() const {
    if (out_->size() > kMaxOutputBytes) {
      throw ExecError{"template output exceeds " + std::to_string(kMaxOutputBytes) + " bytes", nullptr, 0};
    }
  }

  template <typename F>
  void ForEachLabel(F&& f) const {
    if (ctx_.snapshot) {
      for (const auto& [k, v] : *ctx_.snapshot) f(k, v);
    } else if (ctx_.lbs) {
      ctx_.lbs->ForEach(f);
    }
  }

  void SetVar(const std::string& name, const TValue& v) {
    for (auto it = vars_.rbegin(); it != vars_.rend(); ++it) {
      if (it->first == name) {
        it->second = v;
        return;
      }
    }
    vars_.push_back({name, v});
  }

  TValue EvalPipeline(const Pipeline& p) {
    TValue final_value;
    bool has_final = false;
    for (const Command& c : p.cmds) {
      final_value = EvalCommand(c, has_final ? &final_value : nullptr);
      has_final = true;
    }
    if (!p.decl.empty() && !p.assign) {
      for (const auto& v : p.decl) vars_.push_back({v, final_value});
    } else if (!p.decl.empty()) {
      for (const auto& v : p.decl) SetVar(v, final_value);
    }
    return final_value;
  }

  TValue LabelField(std::string_view name) const {
    if (ctx_.snapshot) {
      for (const auto& [k, v] : *ctx_.snapshot) {
        if (k == name) return TValue::Str(v);
      }
      return TValue::Str("");
    }
    if (ctx_.lbs) {
      if (name == kErrorLabel) return TValue::Str(std::string(ctx_.lbs->error()));
      if (name == kErrorDetailsLabel) return TValue::Str(std::string(ctx_.lbs->error_details()));
      if (auto v = ctx_.lbs->Get(name)) return TValue::Str(std::string(*v));
    }
    return TValue::Str("");  // missingkey=zero on map[string]string
  }

  TValue Field(const TValue& recv, const std::string& name, const Arg& at) {
    switch (recv.kind) {
      case TValue::Kind::kLabels:
        return LabelField(name);
      case TValue::Kind::kMap:
        if (recv.map) {
          for (const auto& [k, v] : *recv.map) {
            if (k == name) return v;
          }
        }
        return TValue();  // missing key of map[string]interface{}: <no value>
      case TValue::Kind::kNil:
        throw ExecError{"nil pointer evaluating interface {}." + name, &at, at.pos};
      default:
        throw ExecError{"can't evaluate field " + name + " in type " + std::string(TypeName(recv)),
                        &at, at.pos};
    }
  }

  TValue EvalArg(const Arg& a) {
    TValue v;
    size_t first_field = 0;
    switch (a.kind) {
      case Arg::Kind::kField:
        v = dot_;
        break;
      case Arg::Kind::kDot:
        v = dot_;
        break;
      case Arg::Kind::kVariable: {
        bool found = false;
        for (auto it = vars_.rbegin(); it != vars_.rend(); ++it) {
          if (it->first == a.name) {
            v = it->second;
            found = true;
            break;
          }
        }
        if (!found) throw ExecError{"undefined variable: " + a.name, &a, a.pos};
        break;
      }
      case Arg::Kind::kLiteral:
        return a.literal;
      case Arg::Kind::kNil:
        return TValue();
      case Arg::Kind::kPipe:
        v = EvalPipeline(*a.pipe);
        break;
      case Arg::Kind::kIdent: {
        // A function used as an argument: call it with no arguments.
        std::vector<TValue> none;
        v = CallFunc(a, none);
        break;
      }
    }
    for (size_t i = first_field; i < a.fields.size(); ++i) v = Field(v, a.fields[i], a);
    return v;
  }

  TValue EvalCommand(const Command& c, const TValue* final_value) {
    const Arg& head = c.args[0];
    if (head.kind == Arg::Kind::kIdent) {
      std::string_view fn = head.name;
      if (fn == "and" || fn == "or") {
        // Short-circuit evaluation, as Go 1.18+ does.
        size_t n = c.args.size() - 1 + (final_value ? 1 : 0);
        if (n < 1) throw ExecError{"wrong number of args for " + head.name + ": want at least 1 got 0", &head, head.pos};
        TValue v;
        for (size_t i = 1; i <= n; ++i) {
          v = i < c.args.size() ? EvalArg(c.args[i]) : *final_value;
          bool t = IsTrue(v, ctx_);
          if ((fn == "and" && !t) || (fn == "or" && t)) return v;
        }
        return v;
      }
      std::vector<TValue> args;
      args.reserve(c.args.size());
      for (size_t i = 1; i < c.args.size(); ++i) args.push_back(EvalArg(c.args[i]));
      if (final_value) args.push_back(*final_value);
      env_.literal_regex = c.literal_regex.get();
      TValue r = CallFunc(head, args);
      env_.literal_regex = nullptr;
      return r;
    }
    if (c.args.size() > 1 || final_value) {
      if (head.kind == Arg::Kind::kField || (!head.fields.empty())) {
        throw ExecError{head.fields.back() + " is not a method but has arguments", &head, head.pos};
      }
      throw ExecError{"can't give argument to non-function " + head.text, &head, head.pos};
    }
    return EvalArg(head);
  }

  TValue CallFunc(const Arg& head, std::vector<TValue>& args) {
    const FuncSpec* f = head.fn;
    if (!f) throw ExecError{"\"" + head.name + "\" is not a defined function", &head, head.pos};
    int n = static_cast<int>(args.size());
    if (n < f->min_args || (f->max_args >= 0 && n > f->max_args)) {
      std::string want = f->max_args < 0 ? "at least " + std::to_string(f->min_args)
                                         : std::to_string(f->min_args);
      throw ExecError{"wrong number of args for " + head.name + ": want " + want + " got " +
                          std::to_string(n),
                      &head, head.pos};
    }
    auto r = f->fn(args, env_);
    if (!r.ok()) throw ExecError{"error calling " + head.name + ": " + std::string(r.status().message()), &head, head.pos};
    return std::move(*r);
  }

  static constexpr int64_t kMaxSteps = 1000000;
  static constexpr size_t kMaxOutputBytes = 16 << 20;
  int64_t steps_ = 0;
  const Template& t_;
  const TemplateContext& ctx_;
  std::string* out_;
  FuncEnv env_;
  TValue dot_;
  std::vector<std::pair<std::string, TValue>> vars_;
};

}  // namespace

absl::StatusOr<std::shared_ptr<const Template>> ParseTemplate(std::string_view name,
                                                             std::string_view text) {
  auto t = std::make_shared<Template>();
  t->name = std::string(name);
  t->source = std::string(text);
  try {
    Parser p(t->source);
    std::vector<Item> items = p.Split();
    size_t idx = 0;
    Item* stop = nullptr;
    std::string found = p.ParseList(items, idx, &t->root, {}, &stop);
    (void)found;
  } catch (const ParseError& e) {
    return absl::InvalidArgumentError("template: " + t->name + ":" +
                                      std::to_string(LineOf(t->source, e.pos)) + ": " + e.msg);
  }
  if (t->root.size() == 1 && t->root[0].kind == Node::Kind::kAction &&
      t->root[0].pipe.decl.empty() && t->root[0].pipe.cmds.size() == 1 &&
      t->root[0].pipe.cmds[0].args.size() == 1) {
    const Arg& a = t->root[0].pipe.cmds[0].args[0];
    if (a.kind == Arg::Kind::kField && a.fields.size() == 1) t->simple_field = a.fields[0];
  }
  return std::shared_ptr<const Template>(std::move(t));
}

bool ExecuteTemplate(const Template& t, const TemplateContext& ctx, std::string* out,
                     std::string* error) {
  out->clear();
  try {
    Exec e(t, ctx, out);
    e.Run(t.root);
  } catch (const ExecError& e) {
    int line = LineOf(t.source, e.pos);
    int col = 0;
    for (int i = e.pos - 1; i >= 0 && t.source[static_cast<size_t>(i)] != '\n'; --i) ++col;
    *error = "template: " + t.name + ":" + std::to_string(line) + ":" + std::to_string(col) +
             ": executing \"" + t.name + "\" at <" + (e.at ? e.at->text : std::string()) +
             ">: " + e.msg;
    return false;
  }
  return true;
}

std::string_view TemplateSimpleField(const Template& t) { return t.simple_field; }

}  // namespace otelbox::query::logql::internal
