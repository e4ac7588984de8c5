#include "tests/conformance/promql_script.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "absl/status/status.h"
#include "common/utf8.h"
#include "tests/conformance/promql_text.h"
#include "query/common/duration.h"
#include "query/promql/histogram_math.h"
#include "re2/re2.h"
#include "storage/model/sample.h"

namespace otelbox::conformance {
namespace {

// The header patterns of upstream's promqltest (Go regexp is RE2, so they mean the same).
const RE2& LoadRe() {
  static const RE2 re(R"(^load(?:_(with_nhcb))?\s+(.+?)$)");
  return re;
}
const RE2& EvalInstantRe() {
  static const RE2 re(R"(^eval(?:_(fail|warn|ordered|info))?\s+instant\s+(?:at\s+(.+?))?\s+(.+)$)");
  return re;
}
const RE2& EvalRangeRe() {
  static const RE2 re(
      R"(^eval(?:_(fail|warn|info))?\s+range\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+?)\s+(.+)$)");
  return re;
}
const RE2& ExpectRe() {
  static const RE2 re(R"(^expect\s+(ordered|fail|warn|no_warn|info|no_info)(?:\s+(regex|msg):(.+))?$)");
  return re;
}
const RE2& ExpectRangeRe() {
  static const RE2 re(R"(^expect range vector\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+)$)");
  return re;
}

bool IsSpace(char c) { return c == ' ' || c == '\t'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsNameStart(char c) { return IsAlpha(c) || c == '_' || c == ':'; }
bool IsNameChar(char c) { return IsNameStart(c) || IsDigit(c); }

absl::Status Invalid(std::string_view what, std::string_view text) {
  return absl::InvalidArgumentError(Cat(what, ": \"", text, "\""));
}

std::optional<uint64_t> ParseCount(std::string_view text) {
  if (text.empty()) return std::nullopt;
  for (char c : text) {
    if (!IsDigit(c)) return std::nullopt;
  }
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return n;
}

// Finds the "}}" closing a histogram literal that opens at text[open].
size_t FindHistogramEnd(std::string_view text, size_t open) {
  return text.find("}}", open + 2);
}

// `{{H}}`, `{{H}}xN`, `{{H}}+{{D}}xN`, `{{H}}-{{D}}xN` starting at text[*pos].
absl::Status ParseHistogramItem(std::string_view text, size_t* pos,
                                std::vector<SequenceValue>* out) {
  size_t close = FindHistogramEnd(text, *pos);
  if (close == std::string_view::npos) return Invalid("unterminated histogram", text.substr(*pos));
  std::string base(Trim(text.substr(*pos + 2, close - *pos - 2)));
  size_t p = close + 2;
  SequenceValue first;
  first.kind = SequenceValue::Kind::kHistogram;
  first.histogram = base;
  absl::StatusOr<storage::FloatHistogram> h = ParseHistogramLiteral(base, &first.hint_set);
  if (!h.ok()) return h.status();
  first.h = std::move(*h);
  std::string delta;
  char sign = 0;
  SequenceValue inc;
  if (p < text.size() && (text[p] == '+' || text[p] == '-') && text.substr(p + 1, 2) == "{{") {
    sign = text[p];
    size_t dclose = FindHistogramEnd(text, p + 1);
    if (dclose == std::string_view::npos) return Invalid("unterminated histogram", text.substr(p));
    delta = std::string(Trim(text.substr(p + 3, dclose - p - 3)));
    absl::StatusOr<storage::FloatHistogram> d = ParseHistogramLiteral(delta, &inc.hint_set);
    if (!d.ok()) return d.status();
    inc.h = std::move(*d);
    p = dclose + 2;
  }
  size_t end = p;
  while (end < text.size() && !IsSpace(text[end])) ++end;
  std::string_view suffix = text.substr(p, end - p);
  *pos = end;
  if (suffix.empty()) {
    if (sign != 0) return Invalid("histogram increment without count", text.substr(0, end));
    out->push_back(first);
    return absl::OkStatus();
  }
  if (suffix[0] != 'x') return Invalid("bad histogram item", text.substr(0, end));
  std::optional<uint64_t> n = ParseCount(suffix.substr(1));
  if (!n) return Invalid("bad repeat count", suffix);
  if (sign != 0) first.hint_set = inc.hint_set;  // upstream takes the increment's flag
  SequenceValue cur = first;
  for (uint64_t i = 0; i <= *n; ++i) {
    if (i > 0 && sign != 0) {
      if (cur.h.schema > inc.h.schema) {
        return Invalid("error combining histograms: cannot merge from schema", text.substr(0, end));
      }
      query::promql::HistogramOpNotes notes;
      if (!query::promql::HistogramAdd(&cur.h, inc.h, sign == '-', &notes)) {
        return Invalid("error combining histograms", text.substr(0, end));
      }
      cur.histogram = Cat(base, " ", std::string(1, sign), i, "*{{", delta, "}}");
    }
    out->push_back(cur);
  }
  return absl::OkStatus();
}

// `[1 2 3]` at text[*pos].
absl::StatusOr<std::vector<double>> ParseFloatList(std::string_view text, size_t* pos) {
  if (*pos >= text.size() || text[*pos] != '[') return Invalid("expected '['", text);
  size_t close = text.find(']', *pos);
  if (close == std::string_view::npos) return Invalid("unterminated list", text);
  std::vector<double> out;
  for (std::string_view item : Split(text.substr(*pos + 1, close - *pos - 1), " ", true)) {
    std::optional<double> v = ParseScalarNumber(Trim(item));
    if (!v) return Invalid("bad number in list", item);
    out.push_back(*v);
  }
  *pos = close + 1;
  return out;
}

// One whitespace-free item of a float sequence.
absl::Status ParseFloatItem(std::string_view item, std::vector<SequenceValue>* out) {
  SequenceValue omitted;
  omitted.kind = SequenceValue::Kind::kOmitted;
  if (item == "_") {
    out->push_back(omitted);
    return absl::OkStatus();
  }
  if (std::string_view(item).starts_with("_x")) {
    std::optional<uint64_t> n = ParseCount(item.substr(2));
    if (!n) return Invalid("bad repeat count", item);
    out->insert(out->end(), *n, omitted);  // `_xN` is N gaps, not N+1
    return absl::OkStatus();
  }
  if (item == "stale") {
    SequenceValue v;
    v.kind = SequenceValue::Kind::kStale;
    v.value = storage::StaleNaN();
    out->push_back(v);
    return absl::OkStatus();
  }
  if (std::optional<double> v = ParseSequenceNumber(item)) {
    out->push_back(SequenceValue{.kind = SequenceValue::Kind::kFloat, .value = *v});
    return absl::OkStatus();
  }
  size_t x = item.rfind('x');
  if (x == std::string_view::npos || x == 0) return Invalid("bad sequence item", item);
  std::optional<uint64_t> n = ParseCount(item.substr(x + 1));
  if (!n) return Invalid("bad repeat count", item);
  std::string_view head = item.substr(0, x);
  double value = 0;
  double delta = 0;
  if (std::optional<double> v = ParseSequenceNumber(head)) {
    value = *v;
  } else {
    // v+d or v-d: the sign that starts the increment is not the leading one and not an
    // exponent's.
    size_t split = std::string_view::npos;
    for (size_t i = 1; i < head.size(); ++i) {
      if ((head[i] == '+' || head[i] == '-') && head[i - 1] != 'e' && head[i - 1] != 'E') {
        split = i;
        break;
      }
    }
    if (split == std::string_view::npos) return Invalid("bad sequence item", item);
    std::optional<double> base = ParseSequenceNumber(head.substr(0, split));
    std::optional<double> d = ParseSequenceNumber(head.substr(split));
    if (!base || !d) return Invalid("bad sequence item", item);
    value = *base;
    delta = *d;
  }
  for (uint64_t i = 0; i <= *n; ++i) {
    out->push_back(SequenceValue{.kind = SequenceValue::Kind::kFloat, .value = value});
    value += delta;  // repeated addition, as upstream does
  }
  return absl::OkStatus();
}

int HexValue(char c) {
  if (IsDigit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::vector<std::string> SplitLines(std::string_view text) {
  std::vector<std::string> lines;
  for (std::string_view l : Split(text, "\n", false)) {
    std::string_view t = Trim(l);
    lines.emplace_back(std::string_view(t).starts_with("#") ? std::string_view() : t);
  }
  return lines;
}

std::string FirstWordLower(std::string_view line) {
  size_t end = 0;
  while (end < line.size() && !IsSpace(line[end])) ++end;
  return Lower(line.substr(0, end));
}

bool IsStartTimestampLine(std::string_view line) {
  size_t end = 0;
  while (end < line.size() && !IsSpace(line[end])) ++end;
  return end < line.size() && line.substr(0, end).ends_with("@st");
}

class ScriptParser {
 public:
  ScriptParser(std::string_view name, std::string_view text)
      : lines_(SplitLines(text)) {
    script_.name = std::string(name);
  }

  Script Parse() {
    for (size_t i = 0; i < lines_.size(); ++i) {
      const std::string& l = lines_[i];
      if (l.empty()) continue;
      std::string word = FirstWordLower(l);
      if (word == "clear") {
        script_.commands.push_back(ClearCmd{.line = static_cast<int>(i + 1)});
      } else if (std::string_view(word).starts_with("load")) {
        i = ParseLoad(i);
      } else if (std::string_view(word).starts_with("eval")) {
        i = ParseEval(i);
      } else {
        Error(i, Cat("invalid command \"", l, "\""));
      }
    }
    return std::move(script_);
  }

 private:
  void Error(size_t i, std::string_view message) {
    script_.errors.push_back(Cat(script_.name, ":", i + 1, ": ", message));
  }

  // Index of the last line of the block that starts at `i` (the header).
  size_t BlockEnd(size_t i) const {
    while (i + 1 < lines_.size() && !lines_[i + 1].empty()) ++i;
    return i;
  }

  size_t ParseLoad(size_t i) {
    const std::string& header = lines_[i];
    std::string nhcb, interval;
    LoadCmd cmd;
    cmd.line = static_cast<int>(i + 1);
    if (!RE2::FullMatch(header, LoadRe(), &nhcb, &interval)) {
      Error(i, "invalid load command (load[_with_nhcb] <interval>)");
      return BlockEnd(i);
    }
    cmd.with_nhcb = nhcb == "with_nhcb";
    absl::StatusOr<int64_t> gap = ParseScriptDuration(interval);
    if (!gap.ok()) {
      Error(i, std::string(gap.status().message()));
      return BlockEnd(i);
    }
    cmd.interval_ms = *gap;
    size_t end = BlockEnd(i);
    std::optional<std::pair<storage::Labels, size_t>> pending_st;  // labels, position count
    for (size_t j = i + 1; j <= end; ++j) {
      const std::string& l = lines_[j];
      if (IsStartTimestampLine(l)) {
        cmd.has_start_timestamps = true;
        size_t space = l.find_first_of(" \t");
        std::string_view metric = std::string_view(l).substr(0, space - 3);
        auto st = ParseStartTimestampSequence(std::string_view(l).substr(space));
        if (!st.ok()) {
          Error(j, std::string(st.status().message()));
          continue;
        }
        if (metric.empty()) continue;  // standalone `@st`: default for the lines that follow
        std::string_view rest;
        auto labels = ParseSeriesDescription(metric, &rest);
        if (!labels.ok() || !Trim(rest).empty()) {
          Error(j, Cat("invalid @st line metric \"", metric, "\""));
          continue;
        }
        if (pending_st) Error(j, "@st line has no following sample line");
        pending_st.emplace(*labels, st->size());
        continue;
      }
      absl::StatusOr<SeriesLine> s = ParseSeriesLine(l);
      if (!s.ok()) {
        Error(j, std::string(s.status().message()));
        continue;
      }
      s->line = static_cast<int>(j + 1);
      if (pending_st) {
        if (pending_st->first != s->labels) {
          Error(j, "@st metric does not match the following sample line metric");
        } else if (pending_st->second != s->values.size()) {
          Error(j, "@st line and sample line have different lengths");
        }
        pending_st.reset();
      }
      cmd.series.push_back(std::move(*s));
    }
    if (pending_st) Error(end, "@st line has no following sample line");
    script_.commands.push_back(std::move(cmd));
    return end;
  }

  size_t ParseEval(size_t i) {
    const std::string& header = lines_[i];
    EvalCmd cmd;
    cmd.line = static_cast<int>(i + 1);
    std::string mod, at, from, to, step;
    size_t end = BlockEnd(i);
    auto fail = [&](std::string_view message) {
      if (cmd.script_error.empty()) cmd.script_error = std::string(message);
    };
    if (RE2::FullMatch(header, EvalInstantRe(), &mod, &at, &cmd.expr)) {
      absl::StatusOr<int64_t> t = ParseScriptDuration(at);
      if (t.ok()) {
        cmd.start_ms = *t;
      } else {
        fail(Cat("invalid timestamp definition \"", at, "\""));
      }
    } else if (RE2::FullMatch(header, EvalRangeRe(), &mod, &from, &to, &step, &cmd.expr)) {
      cmd.is_range = true;
      auto s = ParseScriptDuration(from);
      auto e = ParseScriptDuration(to);
      auto st = ParseScriptDuration(step);
      if (!s.ok() || !e.ok() || !st.ok()) {
        fail("invalid range definition");
      } else if (*e < *s) {
        fail("end timestamp is before start timestamp");
      } else {
        cmd.start_ms = *s;
        cmd.end_ms = *e;
        cmd.step_ms = *st;
      }
    } else {
      cmd.expr = header;
      fail("invalid evaluation command");
      script_.commands.push_back(std::move(cmd));
      return end;
    }
    if (mod == "fail") cmd.expect_fail = true;
    if (mod == "warn") cmd.require_warn = true;
    if (mod == "info") cmd.require_info = true;
    if (mod == "ordered") cmd.ordered = true;

    int position = 0;
    size_t j = i + 1;
    for (; j <= end; ++j) {
      const std::string& l = lines_[j];
      if (cmd.expect_fail && std::string_view(l).starts_with("expected_fail_message")) {
        cmd.fail_message = std::string(Trim(
            std::string_view(l).substr(std::string_view("expected_fail_message").size())));
        continue;
      }
      if (cmd.expect_fail && std::string_view(l).starts_with("expected_fail_regexp")) {
        cmd.fail_regex = std::string(Trim(
            std::string_view(l).substr(std::string_view("expected_fail_regexp").size())));
        continue;
      }
      if (std::string_view(l).starts_with("expect range vector")) {
        std::string a, b, s;
        if (!RE2::FullMatch(l, ExpectRangeRe(), &a, &b, &s)) {
          fail(Cat("invalid range vector definition \"", l, "\""));
          continue;
        }
        auto pa = ParseScriptDuration(a), pb = ParseScriptDuration(b), ps = ParseScriptDuration(s);
        if (!pa.ok() || !pb.ok() || !ps.ok() || *pb < *pa) {
          fail(Cat("invalid range vector definition \"", l, "\""));
          continue;
        }
        cmd.expect_range_vector = true;
        cmd.range_start_ms = *pa;
        cmd.range_end_ms = *pb;
        cmd.range_step_ms = *ps;
        cmd.start_ms = *pb;  // upstream evaluates at the end of the range
        continue;
      }
      if (std::string_view(l).starts_with("expect string")) {
        std::string_view lit = std::string_view(l).substr(std::min(l.size(), std::string_view("expect string ").size()));
        size_t pos = 0;
        absl::StatusOr<std::string> s =
            lit.empty() || l == "expect string" ? absl::InvalidArgumentError("empty")
                                                : ParseQuoted(lit, &pos);
        if (!s.ok() || pos != lit.size()) {
          fail("expected string literal not valid");
          continue;
        }
        cmd.expected_string = *s;
        continue;
      }
      if (l.substr(0, l.find(' ')) == "expect") {
        std::string type, kind, text;
        if (!RE2::FullMatch(l, ExpectRe(), &type, &kind, &text)) {
          fail(Cat("invalid expect statement \"", l, "\""));
          continue;
        }
        text = std::string(Trim(text));
        AnnotationExpectation a;
        if (kind == "msg") {
          a.match = AnnotationExpectation::Match::kMessage;
          a.text = text;
        } else if (kind == "regex") {
          a.match = AnnotationExpectation::Match::kRegex;
          a.text = text;
          if (!RE2(text, RE2::Quiet).ok()) fail(Cat("invalid regex ", text));
        }
        if (type == "ordered") {
          cmd.ordered = true;
        } else if (type == "fail") {
          if (cmd.expect_fail && !std::string_view(mod).starts_with("fail")) {
            fail("multiple expect fail lines are not allowed");
          }
          cmd.expect_fail = true;
          if (a.match == AnnotationExpectation::Match::kMessage) cmd.fail_message = a.text;
          if (a.match == AnnotationExpectation::Match::kRegex) cmd.fail_regex = a.text;
        } else if (type == "warn") {
          cmd.warn.push_back(a);
        } else if (type == "info") {
          cmd.info.push_back(a);
        } else if (type == "no_warn") {
          cmd.no_warn = true;
        } else if (type == "no_info") {
          cmd.no_info = true;
        }
        if (!cmd.warn.empty() && cmd.no_warn) fail("warn and no_warn cannot be used together");
        if (!cmd.info.empty() && cmd.no_info) fail("info and no_info cannot be used together");
        continue;
      }
      if (std::optional<double> v = ParseScalarNumber(l)) {
        cmd.expected_scalar = *v;
        break;  // upstream ends the block after a scalar
      }
      absl::StatusOr<SeriesLine> s = ParseSeriesLine(l);
      if (!s.ok()) {
        fail(std::string(s.status().message()));
        continue;
      }
      s->line = static_cast<int>(j + 1);
      if (s->values.size() > 1 && !cmd.is_range && !cmd.expect_range_vector) {
        fail("expecting multiple values in instant evaluation not allowed");
        continue;
      }
      cmd.expected.push_back(ExpectedSeries{.position = ++position, .series = std::move(*s)});
    }
    script_.commands.push_back(std::move(cmd));
    // After a scalar line upstream reads the rest of the block as commands again.
    return j <= end ? j : end;
  }

  std::vector<std::string> lines_;
  Script script_;
};

}  // namespace

absl::StatusOr<int64_t> ParseScriptDuration(std::string_view text) {
  return query::ParseDuration(text);
}

std::optional<double> ParseSequenceNumber(std::string_view text) {
  std::string_view t = text;
  if (!t.empty() && (t[0] == '+' || t[0] == '-')) t.remove_prefix(1);
  std::string lower = Lower(t);
  bool negative = !text.empty() && text[0] == '-';
  if (lower == "inf" || lower == "infinity") {
    return negative ? -std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::infinity();
  }
  if (lower == "nan") return std::numeric_limits<double>::quiet_NaN();
  size_t i = 0;
  size_t digits = 0;
  while (i < t.size() && IsDigit(t[i])) ++i, ++digits;
  if (i < t.size() && t[i] == '.') {
    ++i;
    while (i < t.size() && IsDigit(t[i])) ++i, ++digits;
  }
  if (digits == 0) return std::nullopt;
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
    size_t exp_digits = 0;
    while (i < t.size() && IsDigit(t[i])) ++i, ++exp_digits;
    if (exp_digits == 0) return std::nullopt;
  }
  if (i != t.size()) return std::nullopt;
  std::string copy(text);
  return std::strtod(copy.c_str(), nullptr);
}

std::optional<double> ParseScalarNumber(std::string_view text) {
  if (text.empty()) return std::nullopt;
  // strconv.ParseInt(s, 0, 64).
  std::string_view t = text;
  bool negative = false;
  if (t[0] == '+' || t[0] == '-') {
    negative = t[0] == '-';
    t.remove_prefix(1);
  }
  int base = 10;
  std::string_view digits = t;
  bool prefixed = false;
  if (t.size() >= 2 && t[0] == '0') {
    char p = static_cast<char>(std::tolower(static_cast<unsigned char>(t[1])));
    if (p == 'x') base = 16, prefixed = true;
    if (p == 'o') base = 8, prefixed = true;
    if (p == 'b') base = 2, prefixed = true;
    if (prefixed) {
      digits = t.substr(2);
    } else {
      base = 8;  // leading 0: octal
      digits = t.substr(1);
    }
  }
  if (!digits.empty()) {
    bool ok = true;
    uint64_t value = 0;
    bool any = false;
    for (char c : digits) {
      if (c == '_' && prefixed) continue;
      int d = HexValue(c);
      if (d < 0 || d >= base) {
        ok = false;
        break;
      }
      any = true;
      if (value > (std::numeric_limits<uint64_t>::max() - d) / base) {
        ok = false;
        break;
      }
      value = value * base + d;
    }
    if (ok && any && value <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      double v = static_cast<double>(value);
      return negative ? -v : v;
    }
  } else if (t == "0") {
    return 0.0;
  }
  // strconv.ParseFloat: decimal forms, Inf/Infinity/NaN, hexadecimal floats.
  if (std::optional<double> v = ParseSequenceNumber(text)) return v;
  if (StartsWithIgnoreCase(t, "0x") && t.find_first_of("pP") != std::string_view::npos &&
      text.find_first_of(" \t()") == std::string_view::npos) {
    std::string copy(text);
    char* end = nullptr;
    double v = std::strtod(copy.c_str(), &end);
    if (end == copy.c_str() + copy.size()) return v;
  }
  return std::nullopt;
}

absl::StatusOr<std::string> ParseQuoted(std::string_view text, size_t* pos) {
  size_t i = *pos;
  if (i >= text.size()) return absl::InvalidArgumentError("expected a quoted string");
  char q = text[i];
  if (q != '"' && q != '\'' && q != '`') return Invalid("expected a quoted string", text.substr(i));
  ++i;
  std::string out;
  if (q == '`') {
    size_t close = text.find('`', i);
    if (close == std::string_view::npos) return Invalid("unterminated raw string", text);
    *pos = close + 1;
    return std::string(text.substr(i, close - i));
  }
  while (i < text.size()) {
    char c = text[i++];
    if (c == q) {
      *pos = i;
      return out;
    }
    if (c == '\n') break;
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (i >= text.size()) break;
    char e = text[i++];
    switch (e) {
      case 'a': out.push_back('\a'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'v': out.push_back('\v'); break;
      case '\\': out.push_back('\\'); break;
      case '\'': out.push_back('\''); break;
      case '"': out.push_back('"'); break;
      case 'x':
      case 'u':
      case 'U': {
        int n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        if (i + n > text.size()) return Invalid("bad escape", text);
        uint32_t v = 0;
        for (int k = 0; k < n; ++k) {
          int d = HexValue(text[i + k]);
          if (d < 0) return Invalid("bad escape", text);
          v = v * 16 + d;
        }
        i += n;
        if (e == 'x') {
          out.push_back(static_cast<char>(v));  // a raw byte, as Go's \x does
        } else {
          if (v > 0x10FFFF || (v >= 0xD800 && v < 0xE000)) return Invalid("bad escape", text);
          AppendUtf8(&out, v);
        }
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          if (i + 2 > text.size()) return Invalid("bad escape", text);
          uint32_t v = e - '0';
          for (int k = 0; k < 2; ++k) {
            char o = text[i + k];
            if (o < '0' || o > '7') return Invalid("bad escape", text);
            v = v * 8 + (o - '0');
          }
          if (v > 255) return Invalid("bad escape", text);
          i += 2;
          out.push_back(static_cast<char>(v));
          break;
        }
        return Invalid("unknown escape sequence", text);
    }
  }
  return Invalid("unterminated quoted string", text);
}

absl::StatusOr<storage::Labels> ParseSeriesDescription(std::string_view text,
                                                       std::string_view* rest) {
  std::vector<storage::Label> labels;
  size_t i = 0;
  if (i < text.size() && IsNameStart(text[i])) {
    size_t start = i;
    while (i < text.size() && IsNameChar(text[i])) ++i;
    labels.push_back({std::string(storage::kMetricNameLabel), std::string(text.substr(start, i - start))});
  }
  if (i < text.size() && text[i] == '{') {
    ++i;
    auto skip_space = [&] {
      while (i < text.size() && IsSpace(text[i])) ++i;
    };
    while (true) {
      skip_space();
      if (i >= text.size()) return Invalid("unterminated label set", text);
      if (text[i] == '}') {
        ++i;
        break;
      }
      std::string name;
      bool quoted = false;
      if (text[i] == '"' || text[i] == '\'' || text[i] == '`') {
        auto q = ParseQuoted(text, &i);
        if (!q.ok()) return q.status();
        name = *q;
        quoted = true;
      } else if (IsNameStart(text[i])) {
        size_t start = i;
        while (i < text.size() && IsNameChar(text[i])) ++i;
        name = std::string(text.substr(start, i - start));
      } else {
        return Invalid("bad label name", text.substr(i));
      }
      skip_space();
      if (i < text.size() && text[i] == '=') {
        ++i;
        skip_space();
        auto value = ParseQuoted(text, &i);
        if (!value.ok()) return value.status();
        labels.push_back({std::move(name), std::move(*value)});
      } else if (quoted) {
        // {"metric.name", ...}: a quoted metric name inside the braces.
        labels.push_back({std::string(storage::kMetricNameLabel), std::move(name)});
      } else {
        return Invalid("expected '=' after label name", text);
      }
      skip_space();
      if (i < text.size() && text[i] == ',') {
        ++i;
        continue;
      }
      if (i < text.size() && text[i] == '}') {
        ++i;
        break;
      }
      return Invalid("expected ',' or '}' in label set", text);
    }
  } else if (labels.empty()) {
    return Invalid("expected a series description", text);
  }
  *rest = text.substr(i);
  return storage::Labels(std::move(labels));
}

absl::StatusOr<storage::FloatHistogram> ParseHistogramLiteral(std::string_view text,
                                                              bool* hint_set) {
  storage::FloatHistogram h;
  *hint_set = false;
  std::vector<double> buckets, n_buckets;
  int64_t offset = 0, n_offset = 0;
  size_t i = 0;
  while (true) {
    while (i < text.size() && IsSpace(text[i])) ++i;
    if (i >= text.size()) break;
    size_t colon = text.find(':', i);
    if (colon == std::string_view::npos) return Invalid("expected key:value in histogram", text);
    std::string key(text.substr(i, colon - i));
    i = colon + 1;
    while (i < text.size() && IsSpace(text[i])) ++i;
    if (key == "buckets" || key == "n_buckets" || key == "custom_values") {
      absl::StatusOr<std::vector<double>> list = ParseFloatList(text, &i);
      if (!list.ok()) return list.status();
      (key == "buckets" ? buckets : key == "n_buckets" ? n_buckets : h.custom_values) = *list;
      continue;
    }
    size_t end = i;
    while (end < text.size() && !IsSpace(text[end])) ++end;
    std::string_view value = text.substr(i, end - i);
    i = end;
    if (key == "counter_reset_hint") {
      *hint_set = true;
      using H = storage::CounterResetHint;
      if (value == "unknown") {
        h.counter_reset_hint = H::kUnknown;
      } else if (value == "reset") {
        h.counter_reset_hint = H::kCounterReset;
      } else if (value == "not_reset") {
        h.counter_reset_hint = H::kNotCounterReset;
      } else if (value == "gauge") {
        h.counter_reset_hint = H::kGaugeType;
      } else {
        return Invalid("bad counter_reset_hint", value);
      }
      continue;
    }
    std::optional<double> v = ParseScalarNumber(value);
    if (!v) return Invalid("bad histogram value", value);
    if (key == "schema") {
      h.schema = static_cast<int32_t>(*v);
    } else if (key == "sum") {
      h.sum = *v;
    } else if (key == "count") {
      h.count = *v;
    } else if (key == "z_bucket") {
      h.zero_count = *v;
    } else if (key == "z_bucket_w") {
      h.zero_threshold = *v;
    } else if (key == "offset") {
      offset = static_cast<int64_t>(*v);
    } else if (key == "n_offset") {
      n_offset = static_cast<int64_t>(*v);
    } else {
      return Invalid("unknown histogram key", key);
    }
  }
  if (!buckets.empty()) {
    h.positive_spans.push_back({static_cast<int32_t>(offset), static_cast<uint32_t>(buckets.size())});
    h.positive_buckets = std::move(buckets);
  }
  if (!n_buckets.empty()) {
    h.negative_spans.push_back(
        {static_cast<int32_t>(n_offset), static_cast<uint32_t>(n_buckets.size())});
    h.negative_buckets = std::move(n_buckets);
  }
  return h;
}

absl::StatusOr<std::vector<SequenceValue>> ParseSequence(std::string_view text) {
  std::vector<SequenceValue> out;
  size_t i = 0;
  while (true) {
    while (i < text.size() && IsSpace(text[i])) ++i;
    if (i >= text.size()) break;
    if (text.substr(i, 2) == "{{") {
      if (absl::Status s = ParseHistogramItem(text, &i, &out); !s.ok()) return s;
      continue;
    }
    size_t end = i;
    while (end < text.size() && !IsSpace(text[end])) ++end;
    if (absl::Status s = ParseFloatItem(text.substr(i, end - i), &out); !s.ok()) return s;
    i = end;
  }
  return out;
}

absl::StatusOr<SeriesLine> ParseSeriesLine(std::string_view text) {
  std::string_view rest;
  absl::StatusOr<storage::Labels> labels = ParseSeriesDescription(text, &rest);
  if (!labels.ok()) return labels.status();
  if (!rest.empty() && !IsSpace(rest[0])) return Invalid("expected whitespace after series", text);
  absl::StatusOr<std::vector<SequenceValue>> values = ParseSequence(rest);
  if (!values.ok()) return values.status();
  SeriesLine s;
  s.labels = std::move(*labels);
  s.values = std::move(*values);
  return s;
}

namespace {

// A signed Prometheus duration of one unit group at the start of `s` (upstream's
// parseDurationPrefix: digits, then letters other than 'x').
absl::StatusOr<int64_t> DurationPrefix(std::string_view s, std::string_view* rest) {
  size_t i = 0;
  bool negative = false;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) negative = s[i++] == '-';
  size_t start = i;
  while (i < s.size() && IsDigit(s[i])) ++i;
  if (i == start) return Invalid("expected digits in duration", s);
  while (i < s.size() && IsAlpha(s[i]) && s[i] != 'x') ++i;
  absl::StatusOr<int64_t> d = query::ParseDuration(s.substr(start, i - start));
  if (!d.ok()) return d.status();
  *rest = s.substr(i);
  return negative ? -*d : *d;
}

}  // namespace

absl::StatusOr<std::vector<std::optional<int64_t>>> ParseStartTimestampSequence(
    std::string_view text) {
  std::vector<std::optional<int64_t>> out;
  int64_t previous = 0;
  for (std::string_view item : Split(text, " \t", true)) {
    if (item == "_") {
      out.push_back(std::nullopt);
      continue;
    }
    if (std::string_view(item).starts_with("_x")) {
      std::optional<uint64_t> n = ParseCount(item.substr(2));
      if (!n || *n == 0) return Invalid("invalid repeat count", item);
      out.insert(out.end(), *n, std::nullopt);
      continue;
    }
    if (item == "*" || std::string_view(item).starts_with("*x")) {
      std::optional<uint64_t> n = item == "*" ? 0 : ParseCount(item.substr(2));
      if (!n) return Invalid("invalid repeat count", item);
      out.insert(out.end(), *n + 1, previous);
      continue;
    }
    std::string_view rest;
    absl::StatusOr<int64_t> base = DurationPrefix(item, &rest);
    if (!base.ok()) return base.status();
    int64_t delta = 0;
    uint64_t n = 0;
    if (!rest.empty() && (rest[0] == '+' || rest[0] == '-')) {
      bool minus = rest[0] == '-';
      std::string_view rest2;
      absl::StatusOr<int64_t> d = DurationPrefix(rest.substr(1), &rest2);
      if (!d.ok()) return d.status();
      delta = minus ? -*d : *d;
      if (rest2.empty() || rest2[0] != 'x') return Invalid("expected 'x<count>' after step", item);
      rest = rest2;
    }
    if (!rest.empty()) {
      if (rest[0] != 'x') return Invalid("unexpected character after duration", item);
      std::optional<uint64_t> c = ParseCount(rest.substr(1));
      if (!c) return Invalid("invalid repeat count", item);
      n = *c;
    }
    int64_t offset = *base;
    for (uint64_t k = 0; k <= n; ++k) {
      out.push_back(offset);
      previous = offset;
      offset += delta;
    }
  }
  return out;
}

Script ParseScript(std::string_view name, std::string_view text) {
  return ScriptParser(name, text).Parse();
}

}  // namespace otelbox::conformance
