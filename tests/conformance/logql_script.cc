#include "tests/conformance/logql_script.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "query/logql/log_pipeline.h"
#include "query/promql/lexer.h"
#include "tests/conformance/promql_text.h"

namespace otelbox::conformance::logqltest {
namespace {

struct LineError {
  std::string message;
};
[[noreturn]] void Fail(std::string msg) { throw LineError{std::move(msg)}; }

// Drops a trailing `# ...` outside "..." and `...` quotes.
std::string StripComment(std::string_view line) {
  char quote = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quote) {
      if (quote == '"' && c == '\\') {
        ++i;
      } else if (c == quote) {
        quote = 0;
      }
      continue;
    }
    if (c == '"' || c == '`') {
      quote = c;
    } else if (c == '#') {
      return std::string(Trim(line.substr(0, i)));
    }
  }
  return std::string(Trim(line));
}

class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}
  void SkipSpace() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  bool AtEnd() {
    SkipSpace();
    return i_ >= s_.size();
  }
  char Peek() {
    SkipSpace();
    return i_ < s_.size() ? s_[i_] : '\0';
  }
  bool Consume(std::string_view word) {
    SkipSpace();
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }
  void Expect(std::string_view word) {
    if (!Consume(word)) Fail(Cat("expected '", word, "' at: ", s_.substr(i_)));
  }
  std::string_view Word() {
    SkipSpace();
    size_t b = i_;
    while (i_ < s_.size() && !std::isspace(static_cast<unsigned char>(s_[i_])) && s_[i_] != ']') ++i_;
    return s_.substr(b, i_ - b);
  }
  std::string_view Ident() {
    SkipSpace();
    size_t b = i_;
    while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '_')) ++i_;
    if (b == i_) Fail(Cat("expected a name at: ", s_.substr(b)));
    return s_.substr(b, i_ - b);
  }
  // A PromQL-quoted ("..." with escapes) string.
  std::string Quoted() {
    SkipSpace();
    if (i_ >= s_.size() || (s_[i_] != '"' && s_[i_] != '\'')) Fail(Cat("expected a string at: ", s_.substr(i_)));
    char q = s_[i_];
    size_t b = ++i_;
    while (i_ < s_.size() && s_[i_] != q) {
      if (s_[i_] == '\\') ++i_;
      ++i_;
    }
    if (i_ >= s_.size()) Fail("unterminated string");
    std::string out, err;
    size_t off = 0;
    if (!query::promql::UnquoteString(s_.substr(b, i_ - b), q, &out, &err, &off)) Fail(err);
    ++i_;
    return out;
  }
  // A raw "..." or `...` log line: everything up to the next identical quote.
  std::string RawQuoted() {
    SkipSpace();
    if (i_ >= s_.size() || (s_[i_] != '"' && s_[i_] != '`')) Fail(Cat("expected a quoted line at: ", s_.substr(i_)));
    char q = s_[i_];
    size_t b = ++i_;
    size_t e = s_.find(q, b);
    if (e == std::string_view::npos) Fail("unterminated line");
    i_ = e + 1;
    return std::string(s_.substr(b, e - b));
  }
  std::string_view Rest() {
    SkipSpace();
    return s_.substr(i_);
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

// `{a="1", b=""}`: keeps empty values, sorted.
LabelList ParseLabelSet(Cursor& c) {
  c.Expect("{");
  LabelList out;
  if (c.Consume("}")) return out;
  for (;;) {
    storage::Label l;
    l.name = std::string(c.Ident());
    c.Expect("=");
    l.value = c.Quoted();
    out.push_back(std::move(l));
    if (c.Consume(",")) {
      if (c.Consume("}")) break;
      continue;
    }
    c.Expect("}");
    break;
  }
  std::sort(out.begin(), out.end());
  return out;
}

int64_t Duration(std::string_view s) {
  auto d = ParseScriptDuration(s);
  if (!d.ok()) Fail(Cat("bad duration '", s, "'"));
  return *d;
}

double Number(std::string_view s) {
  std::string str(s);
  if (str == "Inf" || str == "+Inf" || str == "inf" || str == "+inf") return INFINITY;
  if (str == "-Inf" || str == "-inf") return -INFINITY;
  if (str == "NaN" || str == "nan") return NAN;
  char* end = nullptr;
  double v = std::strtod(str.c_str(), &end);
  if (str.empty() || *end != '\0') Fail(Cat("bad number '", s, "'"));
  return v;
}

// `2`, `_`, `NaN`, `b+sxN`, `b-sxN`, `bxN` (N+1 values).
void ParseValues(std::string_view rest, std::vector<std::optional<double>>* out) {
  for (std::string_view tok : Split(rest, " \t", true)) {
    if (tok == "_") {
      out->push_back(std::nullopt);
      continue;
    }
    size_t x = tok.rfind('x');
    bool is_rep = x != std::string_view::npos && x > 0 && x + 1 < tok.size() &&
                  std::all_of(tok.begin() + static_cast<std::ptrdiff_t>(x) + 1, tok.end(),
                              [](char ch) { return ch >= '0' && ch <= '9'; }) &&
                  !(tok.size() > 1 && tok[0] == '0' && (tok[1] == 'x' || tok[1] == 'X'));
    if (!is_rep) {
      out->push_back(Number(tok));
      continue;
    }
    int n = std::atoi(std::string(tok.substr(x + 1)).c_str());
    std::string_view head = tok.substr(0, x);
    double base, step = 0;
    size_t sign = std::string_view::npos;
    for (size_t i = 1; i < head.size(); ++i) {
      if ((head[i] == '+' || head[i] == '-') && head[i - 1] != 'e' && head[i - 1] != 'E') sign = i;
    }
    if (sign == std::string_view::npos) {
      base = Number(head);
    } else {
      base = Number(head.substr(0, sign));
      step = Number(head.substr(sign + 1));
      if (head[sign] == '-') step = -step;
    }
    for (int i = 0; i <= n; ++i) out->push_back(base + step * i);
  }
}

std::vector<LoadEntry> ParseLoadLine(std::string_view text) {
  Cursor c(text);
  LabelList labels = ParseLabelSet(c);
  std::string line = c.RawQuoted();
  c.Expect("@");
  int64_t start = Duration(c.Word());
  int64_t every = 0;
  int count = 1;
  std::vector<storage::Label> metadata;
  while (c.Consume("[")) {
    if (c.Consume("repeat")) {
      c.Expect("every");
      every = Duration(c.Word());
      c.Expect("for");
      count = std::atoi(std::string(c.Word()).c_str());
      if (count < 1) Fail("repeat count must be >= 1");
      c.Expect("]");
    } else if (c.Consume("metadata")) {
      while (c.Peek() != ']') {
        if (c.AtEnd()) Fail("unterminated metadata block");
        storage::Label l;
        l.name = c.Peek() == '"' ? c.RawQuoted() : std::string(c.Ident());
        c.Expect("=");
        l.value = c.RawQuoted();
        metadata.push_back(std::move(l));
      }
      c.Expect("]");
      if (metadata.empty()) Fail("empty metadata block");
    } else {
      Fail(Cat("unknown [...] block at: ", c.Rest()));
    }
  }
  if (!c.AtEnd()) Fail(Cat("unexpected text: ", c.Rest()));
  storage::Labels stream(std::vector<storage::Label>(labels.begin(), labels.end()));
  std::vector<LoadEntry> out;
  for (int i = 0; i < count; ++i) {
    LoadEntry e;
    e.stream = stream;
    e.entry.t_ns = kEpochNs + start + every * i;
    e.entry.line = line;
    for (size_t p; (p = e.entry.line.find("{{.i}}")) != std::string::npos;) {
      e.entry.line.replace(p, 6, std::to_string(i));
    }
    e.entry.metadata = metadata;
    out.push_back(std::move(e));
  }
  return out;
}

Eval ParseEvalHeader(std::string_view text, int line) {
  Eval ev;
  ev.line = line;
  Cursor c(text);
  c.Expect("eval");
  if (c.Consume("instant")) {
    ev.kind = Eval::Kind::kInstant;
    c.Expect("at");
    ev.start_ns = ev.end_ns = kEpochNs + Duration(c.Word());
  } else if (c.Consume("range")) {
    ev.kind = Eval::Kind::kRange;
    c.Expect("from");
    ev.start_ns = kEpochNs + Duration(c.Word());
    c.Expect("to");
    ev.end_ns = kEpochNs + Duration(c.Word());
    c.Expect("step");
    ev.step_ns = Duration(c.Word());
    if (ev.step_ns <= 0) Fail("step must be > 0");
    if (ev.end_ns < ev.start_ns) Fail("end before start");
  } else if (c.Consume("logs")) {
    ev.kind = Eval::Kind::kLogs;
    ev.expect = Eval::Expect::kEntries;
    c.Expect("from");
    ev.start_ns = kEpochNs + Duration(c.Word());
    c.Expect("to");
    ev.end_ns = kEpochNs + Duration(c.Word());
    for (;;) {
      if (c.Consume("limit ")) {
        ev.limit = std::atoll(std::string(c.Word()).c_str());
      } else if (c.Consume("direction ")) {
        std::string_view d = c.Word();
        if (d != "forward" && d != "backward") Fail("direction must be forward or backward");
        ev.backward = d == "backward";
      } else {
        break;
      }
    }
  } else {
    Fail("eval must be followed by instant, range or logs");
  }
  ev.query = std::string(c.Rest());
  if (ev.query.empty()) Fail("eval without a query");
  return ev;
}

void ParseExpectation(std::string_view text, Eval* ev, int* kinds) {
  if (text == "expect ordered") {
    ev->ordered = true;
    return;
  }
  if (text.starts_with("skip values-comparison")) return;
  if (text == "expect empty") {
    ev->expect = Eval::Expect::kEmpty;
    ++*kinds;
    return;
  }
  if (text.starts_with("expect fail")) {
    ev->expect = Eval::Expect::kFail;
    ++*kinds;
    std::string_view rest = Trim(text.substr(11));
    if (rest.starts_with("msg:")) ev->fail_msg = std::string(Trim(rest.substr(4)));
    if (rest.starts_with("regex:")) ev->fail_regex = std::string(Trim(rest.substr(6)));
    return;
  }
  if (text.starts_with("{")) {
    Cursor c(text);
    LabelList labels = ParseLabelSet(c);
    if (ev->kind == Eval::Kind::kLogs) {
      ExpectedEntry e;
      e.labels = std::move(labels);
      e.t_ns = kEpochNs + Duration(c.Word());
      e.line = c.RawQuoted();
      while (!c.AtEnd()) {
        if (c.Consume("metadata")) {
          e.metadata = ParseLabelSet(c);
        } else if (c.Consume("parsed")) {
          e.parsed = ParseLabelSet(c);
        } else {
          Fail(Cat("unexpected text: ", c.Rest()));
        }
      }
      ev->entries.push_back(std::move(e));
      return;
    }
    ExpectedSeries s;
    s.labels = std::move(labels);
    ParseValues(c.Rest(), &s.values);
    if (ev->series.empty()) ++*kinds;
    ev->expect = Eval::Expect::kSeries;
    ev->series.push_back(std::move(s));
    return;
  }
  std::vector<std::optional<double>> v;
  ParseValues(text, &v);
  if (v.size() != 1 || !v[0]) Fail(Cat("bad expectation: ", text));
  ev->expect = Eval::Expect::kScalar;
  ev->scalar = *v[0];
  ++*kinds;
}

}  // namespace

absl::StatusOr<int64_t> ParseScriptDuration(std::string_view s) {
  // Go's time.ParseDuration subset the scripts use: [-]N[.F]unit..., units ns us µs ms s m h.
  auto bad = [&] { return absl::InvalidArgumentError(Cat("bad duration ", s)); };
  if (s == "0") return 0;
  bool neg = !s.empty() && s[0] == '-';
  if (neg) s.remove_prefix(1);
  if (s.empty()) return bad();
  double total = 0;
  while (!s.empty()) {
    size_t i = 0;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
    if (i == 0) return bad();
    double n = std::strtod(std::string(s.substr(0, i)).c_str(), nullptr);
    s.remove_prefix(i);
    static constexpr std::pair<std::string_view, double> kUnits[] = {
        {"ns", 1}, {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
    bool found = false;
    for (const auto& [u, mult] : kUnits) {
      if (s.starts_with(u) && !(u == "m" && s.starts_with("ms"))) {
        total += n * mult;
        s.remove_prefix(u.size());
        found = true;
        break;
      }
    }
    if (!found) return bad();
  }
  return static_cast<int64_t>(std::llround(neg ? -total : total));
}

Script ParseScript(const std::string& text) {
  Script script;
  std::vector<std::string> lines;
  {
    std::istringstream in(text);
    std::string l;
    while (std::getline(in, l)) {
      if (!l.empty() && l.back() == '\r') l.pop_back();
      lines.push_back(std::move(l));
    }
  }
  auto is_indented = [](const std::string& l) { return !l.empty() && (l[0] == ' ' || l[0] == '\t'); };
  size_t i = 0;
  while (i < lines.size()) {
    const std::string& raw = lines[i];
    int line_no = static_cast<int>(i) + 1;
    std::string cmd = StripComment(raw);
    ++i;
    if (cmd.empty()) continue;
    if (is_indented(raw)) {
      script.errors.push_back(Cat("line ", line_no, ": indented line outside a block"));
      continue;
    }
    // The block of a command: indented lines up to a blank line or a non-indented,
    // non-comment line; comment lines inside are skipped.
    std::vector<std::pair<int, std::string>> block;
    while (i < lines.size()) {
      const std::string& b = lines[i];
      if (Trim(b).empty()) break;
      std::string stripped = StripComment(b);
      if (!is_indented(b) && !stripped.empty()) break;
      if (!stripped.empty()) block.emplace_back(static_cast<int>(i) + 1, stripped);
      ++i;
    }
    try {
      if (cmd == "clear") {
        script.steps.push_back(Step{Step::Kind::kClear, {}, {}});
      } else if (cmd == "load") {
        Step st;
        st.kind = Step::Kind::kLoad;
        for (const auto& [n, l] : block) {
          try {
            auto entries = ParseLoadLine(l);
            st.load.insert(st.load.end(), entries.begin(), entries.end());
          } catch (const LineError& e) {
            script.errors.push_back(Cat("line ", n, ": ", e.message));
          }
        }
        script.steps.push_back(std::move(st));
      } else if (cmd.starts_with("eval ")) {
        Step st;
        st.kind = Step::Kind::kEval;
        st.eval = ParseEvalHeader(cmd, line_no);
        int kinds = 0;
        for (const auto& [n, l] : block) {
          try {
            ParseExpectation(l, &st.eval, &kinds);
          } catch (const LineError& e) {
            script.errors.push_back(Cat("line ", n, ": ", e.message));
          }
        }
        if (kinds > 1) script.errors.push_back(Cat("line ", line_no, ": more than one kind of expectation"));
        if (kinds == 0 && st.eval.kind != Eval::Kind::kLogs) {
          script.errors.push_back(Cat("line ", line_no, ": eval without expectation"));
        }
        if (st.eval.kind == Eval::Kind::kLogs && kinds == 0 && st.eval.entries.empty()) {
          st.eval.expect = Eval::Expect::kEmpty;
        }
        script.steps.push_back(std::move(st));
      } else {
        script.errors.push_back(Cat("line ", line_no, ": unknown command: ", cmd));
      }
    } catch (const LineError& e) {
      script.errors.push_back(Cat("line ", line_no, ": ", e.message));
    }
  }
  return script;
}

}  // namespace otelbox::conformance::logqltest
