// Value conversions LogQL borrows from Go: strconv.ParseFloat, time.ParseDuration and
// go-humanize's ParseBytes (v1.0.1, the version Loki vendors), with their error texts, since
// those texts end up in __error_details__. Also Loki's label-name sanitising.

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>

#include "absl/status/status.h"
#include "common/go_quote.h"
#include "query/logql/log_pipeline.h"

namespace otelbox::query::logql {

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHex(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualFold(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

absl::Status FloatSyntaxError(std::string_view s) {
  return absl::InvalidArgumentError("strconv.ParseFloat: parsing " + GoQuote(s) +
                                    ": invalid syntax");
}

// Validates Go's float grammar (underscores only with a base prefix, and only between digits)
// and returns the text with underscores removed, ready for from_chars.
bool ScanGoFloat(std::string_view s, std::string* clean, bool* hex, bool* negative) {
  size_t i = 0;
  *negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    *negative = s[i] == '-';
    ++i;
  }
  *hex = false;
  if (i + 1 < s.size() && s[i] == '0' && Lower(s[i + 1]) == 'x') {
    *hex = true;
    i += 2;
  }
  bool base_prefix = *hex;
  bool saw_digits = false, saw_dot = false, saw_exp = false;
  // underscore rule: '_' must sit between digits (or after the base prefix) — Go's
  // underscoreOK: we approximate with "prev is digit or prefix, next is digit".
  char prev = base_prefix ? '0' : ' ';
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c == '_') {
      if (!base_prefix) return false;
      bool prev_ok = IsHex(prev) || prev == 'x' || prev == 'X';
      bool next_ok = i + 1 < s.size() && (*hex ? IsHex(s[i + 1]) : IsDigit(s[i + 1]));
      if (!prev_ok || !next_ok) return false;
      prev = c;
      continue;
    }
    if (c == '.') {
      if (saw_dot || saw_exp) return false;
      saw_dot = true;
    } else if ((*hex && IsHex(c)) || (!*hex && IsDigit(c))) {
      saw_digits = true;
    } else if ((!*hex && Lower(c) == 'e') || (*hex && Lower(c) == 'p')) {
      if (!saw_digits || saw_exp) return false;
      saw_exp = true;
      clean->push_back(c);
      prev = c;
      if (i + 1 < s.size() && (s[i + 1] == '+' || s[i + 1] == '-')) {
        clean->push_back(s[++i]);
      }
      if (i + 1 >= s.size() || !IsDigit(s[i + 1])) return false;
      continue;
    } else {
      return false;
    }
    clean->push_back(c);
    prev = c;
  }
  if (!saw_digits) return false;
  if (*hex && !saw_exp) return false;  // "hexadecimal mantissa requires a 'p' exponent"
  return true;
}

}  // namespace

absl::StatusOr<double> ParseGoFloat(std::string_view s) {
  // Special values: [+-]inf, [+-]infinity, nan (case-insensitive, no sign for nan).
  {
    std::string_view t = s;
    bool neg = false;
    if (!t.empty() && (t[0] == '+' || t[0] == '-')) {
      neg = t[0] == '-';
      t.remove_prefix(1);
    }
    if (EqualFold(t, "inf") || EqualFold(t, "infinity")) {
      return neg ? -std::numeric_limits<double>::infinity()
                 : std::numeric_limits<double>::infinity();
    }
    if (EqualFold(t, "nan") && t.size() == s.size()) return std::nan("");
  }
  std::string clean;
  bool hex = false, negative = false;
  if (!ScanGoFloat(s, &clean, &hex, &negative)) return FloatSyntaxError(s);
  double v = 0;
  const char* begin = clean.data();
  const char* end = clean.data() + clean.size();
  auto res = std::from_chars(begin, end, v, hex ? std::chars_format::hex
                                                : std::chars_format::general);
  if (res.ec == std::errc::result_out_of_range) {
    // from_chars reports both overflow and underflow; Go errors only on overflow.
    std::string with_prefix = hex ? "0x" + clean : clean;
    errno = 0;
    v = std::strtod(with_prefix.c_str(), nullptr);
    if (std::isinf(v)) {
      return absl::OutOfRangeError("strconv.ParseFloat: parsing " + GoQuote(s) +
                                   ": value out of range");
    }
  } else if (res.ec != std::errc() || res.ptr != end) {
    return FloatSyntaxError(s);
  }
  return negative ? -v : v;
}

absl::StatusOr<int64_t> ParseGoDuration(std::string_view orig) {
  auto invalid = [&] {
    return absl::InvalidArgumentError("time: invalid duration " + GoQuote(orig));
  };
  std::string_view s = orig;
  uint64_t d = 0;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return 0;
  if (s.empty()) return invalid();
  constexpr uint64_t kMax = uint64_t{1} << 63;
  while (!s.empty()) {
    uint64_t v = 0, f = 0;
    double scale = 1;
    if (!(s[0] == '.' || IsDigit(s[0]))) return invalid();
    // leadingInt
    size_t i = 0;
    for (; i < s.size() && IsDigit(s[i]); ++i) {
      if (v > kMax / 10) return invalid();
      v = v * 10 + static_cast<uint64_t>(s[i] - '0');
      if (v > kMax) return invalid();
    }
    bool pre = i != 0;
    s.remove_prefix(i);
    bool post = false;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      size_t j = 0;
      bool overflow = false;
      for (; j < s.size() && IsDigit(s[j]); ++j) {
        if (overflow) continue;
        if (f > (std::numeric_limits<int64_t>::max() - 9) / 10) {
          overflow = true;
          continue;
        }
        f = f * 10 + static_cast<uint64_t>(s[j] - '0');
        scale *= 10;
      }
      post = j != 0;
      s.remove_prefix(j);
    }
    if (!pre && !post) return invalid();
    size_t u = 0;
    while (u < s.size() && s[u] != '.' && !IsDigit(s[u])) ++u;
    if (u == 0) {
      return absl::InvalidArgumentError("time: missing unit in duration " + GoQuote(orig));
    }
    std::string_view unit_name = s.substr(0, u);
    s.remove_prefix(u);
    uint64_t unit = 0;
    if (unit_name == "ns") unit = 1;
    else if (unit_name == "us" || unit_name == "\xC2\xB5s" || unit_name == "\xCE\xBCs") unit = 1000;
    else if (unit_name == "ms") unit = 1000000;
    else if (unit_name == "s") unit = 1000000000;
    else if (unit_name == "m") unit = 60ull * 1000000000;
    else if (unit_name == "h") unit = 3600ull * 1000000000;
    else {
      return absl::InvalidArgumentError("time: unknown unit " + GoQuote(unit_name) +
                                        " in duration " + GoQuote(orig));
    }
    if (v > kMax / unit) return invalid();
    v *= unit;
    if (f > 0) {
      v += static_cast<uint64_t>(static_cast<double>(f) * (static_cast<double>(unit) / scale));
      if (v > kMax) return invalid();
    }
    d += v;
    if (d > kMax) return invalid();
  }
  if (neg) return -static_cast<int64_t>(d - 1) - 1;  // d may be exactly 1<<63
  if (d > kMax - 1) return invalid();
  return static_cast<int64_t>(d);
}

absl::StatusOr<uint64_t> ParseHumanBytes(std::string_view s) {
  size_t last_digit = 0;
  bool has_comma = false;
  for (char c : s) {
    if (!(IsDigit(c) || c == '.' || c == ',')) break;
    if (c == ',') has_comma = true;
    ++last_digit;
  }
  std::string num(s.substr(0, last_digit));
  if (has_comma) {
    std::string no_comma;
    for (char c : num) {
      if (c != ',') no_comma.push_back(c);
    }
    num = std::move(no_comma);
  }
  auto f = ParseGoFloat(num);
  if (!f.ok()) return f.status();
  std::string_view rest = s.substr(last_digit);
  while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t' || rest.front() == '\n' ||
                           rest.front() == '\r' || rest.front() == '\v' || rest.front() == '\f')) {
    rest.remove_prefix(1);
  }
  while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\t' || rest.back() == '\n' ||
                           rest.back() == '\r' || rest.back() == '\v' || rest.back() == '\f')) {
    rest.remove_suffix(1);
  }
  std::string extra;
  for (char c : rest) extra.push_back(Lower(c));
  static constexpr struct {
    std::string_view name;
    uint64_t mult;
  } kTable[] = {
      {"b", 1},
      {"kib", 1ull << 10}, {"kb", 1000ull},
      {"mib", 1ull << 20}, {"mb", 1000000ull},
      {"gib", 1ull << 30}, {"gb", 1000000000ull},
      {"tib", 1ull << 40}, {"tb", 1000000000000ull},
      {"pib", 1ull << 50}, {"pb", 1000000000000000ull},
      {"eib", 1ull << 60}, {"eb", 1000000000000000000ull},
      {"", 1},
      {"ki", 1ull << 10}, {"k", 1000ull},
      {"mi", 1ull << 20}, {"m", 1000000ull},
      {"gi", 1ull << 30}, {"g", 1000000000ull},
      {"ti", 1ull << 40}, {"t", 1000000000000ull},
      {"pi", 1ull << 50}, {"p", 1000000000000000ull},
      {"ei", 1ull << 60}, {"e", 1000000000000000000ull},
  };
  for (const auto& e : kTable) {
    if (e.name == extra) {
      double v = *f * static_cast<double>(e.mult);
      if (v >= 18446744073709551615.0) {
        return absl::InvalidArgumentError("too large: " + std::string(s));
      }
      if (!(v >= 0)) return uint64_t{0};  // negative is impossible (no sign accepted); NaN guard
      return static_cast<uint64_t>(v);
    }
  }
  return absl::InvalidArgumentError("unhandled size name: " + extra);
}

std::string SanitizeLabelKey(std::string_view key) {
  // strings.TrimSpace (ASCII whitespace is what shows up in practice).
  auto space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
  };
  while (!key.empty() && space(key.front())) key.remove_prefix(1);
  while (!key.empty() && space(key.back())) key.remove_suffix(1);
  std::string out;
  if (key.empty()) return out;
  out.reserve(key.size() + 1);
  if (IsDigit(key[0])) out.push_back('_');
  // Go maps per rune: a multi-byte UTF-8 character becomes a single '_'.
  for (size_t i = 0; i < key.size();) {
    unsigned char c = static_cast<unsigned char>(key[i]);
    if (c < 0x80) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || IsDigit(c);
      out.push_back(ok ? static_cast<char>(c) : '_');
      ++i;
      continue;
    }
    size_t len = (c >= 0xF0) ? 4 : (c >= 0xE0) ? 3 : (c >= 0xC0) ? 2 : 1;
    bool valid = i + len <= key.size();
    for (size_t k = 1; valid && k < len; ++k) {
      valid = (static_cast<unsigned char>(key[i + k]) & 0xC0) == 0x80;
    }
    out.push_back('_');
    i += valid ? len : 1;
  }
  return out;
}

}  // namespace otelbox::query::logql
