// The functions of line_format / label_format templates: Loki's own map (fmt.go), the Sprig
// functions Loki enables, and text/template's builtins — with Go's conversion rules
// (spf13/cast for Sprig's numeric functions) and printing (fmt.Sprint / Sprintf).

#include <re2/re2.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <clocale>
#include <cstring>
#include <cwctype>
#include <locale.h>
#include <wctype.h>

#include "absl/status/status.h"
#include "common/go_quote.h"
#include "query/logql/json_scan.h"
#include "query/logql/template_value.h"

namespace otelbox::query::logql::internal {

namespace {

using Kind = TValue::Kind;
using Result = absl::StatusOr<TValue>;

absl::Status Err(std::string msg) { return absl::InvalidArgumentError(std::move(msg)); }

// ---- civil time (UTC) ---------------------------------------------------------------------------

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

struct Civil {
  int64_t year;
  int month, day, hour, min, sec, yday, wday;
};

Civil CivilFromUnix(int64_t sec) {
  int64_t days = sec >= 0 ? sec / 86400 : -((-sec + 86399) / 86400);
  int64_t rem = sec - days * 86400;
  Civil c{};
  c.hour = static_cast<int>(rem / 3600);
  c.min = static_cast<int>((rem % 3600) / 60);
  c.sec = static_cast<int>(rem % 60);
  int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  c.year = y + (m <= 2);
  c.month = static_cast<int>(m);
  c.day = static_cast<int>(d);
  c.yday = static_cast<int>(days - DaysFromCivil(c.year, 1, 1)) + 1;
  int64_t w = (days + 4) % 7;  // 1970-01-01 was a Thursday
  if (w < 0) w += 7;
  c.wday = static_cast<int>(w);
  return c;
}

constexpr const char* kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                                   "July",    "August",   "September", "October", "November", "December"};
constexpr const char* kDays[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                 "Thursday", "Friday", "Saturday"};

void AppendInt(std::string* out, int64_t v, int width, char pad = '0') {
  std::string s = std::to_string(v < 0 ? -v : v);
  if (v < 0) out->push_back('-');
  for (int i = static_cast<int>(s.size()); i < width; ++i) out->push_back(pad);
  out->append(s);
}

std::string FormatTime(int64_t sec, int32_t nsec, std::string_view layout) {
  Civil c = CivilFromUnix(sec);
  std::string out;
  size_t i = 0;
  auto starts = [&](std::string_view p) { return layout.substr(i, p.size()) == p; };
  while (i < layout.size()) {
    if (starts("January")) { out += kMonths[c.month - 1]; i += 7; continue; }
    if (starts("Jan")) { out.append(kMonths[c.month - 1], 3); i += 3; continue; }
    if (starts("Monday")) { out += kDays[c.wday]; i += 6; continue; }
    if (starts("Mon")) { out.append(kDays[c.wday], 3); i += 3; continue; }
    if (starts("MST")) { out += "UTC"; i += 3; continue; }
    if (starts("2006")) { AppendInt(&out, c.year, 4); i += 4; continue; }
    if (starts("002")) { AppendInt(&out, c.yday, 3); i += 3; continue; }
    if (starts("__2")) { AppendInt(&out, c.yday, 3, ' '); i += 3; continue; }
    if (starts("01")) { AppendInt(&out, c.month, 2); i += 2; continue; }
    if (starts("02")) { AppendInt(&out, c.day, 2); i += 2; continue; }
    if (starts("03")) { AppendInt(&out, c.hour % 12 == 0 ? 12 : c.hour % 12, 2); i += 2; continue; }
    if (starts("04")) { AppendInt(&out, c.min, 2); i += 2; continue; }
    if (starts("05")) { AppendInt(&out, c.sec, 2); i += 2; continue; }
    if (starts("06")) { AppendInt(&out, c.year % 100, 2); i += 2; continue; }
    if (starts("_2")) { AppendInt(&out, c.day, 2, ' '); i += 2; continue; }
    if (starts("15")) { AppendInt(&out, c.hour, 2); i += 2; continue; }
    if (starts("1")) { AppendInt(&out, c.month, 1); i += 1; continue; }
    if (starts("2")) { AppendInt(&out, c.day, 1); i += 1; continue; }
    if (starts("3")) { AppendInt(&out, c.hour % 12 == 0 ? 12 : c.hour % 12, 1); i += 1; continue; }
    if (starts("4")) { AppendInt(&out, c.min, 1); i += 1; continue; }
    if (starts("5")) { AppendInt(&out, c.sec, 1); i += 1; continue; }
    if (starts("PM")) { out += c.hour >= 12 ? "PM" : "AM"; i += 2; continue; }
    if (starts("pm")) { out += c.hour >= 12 ? "pm" : "am"; i += 2; continue; }
    if (starts("-07:00:00")) { out += "+00:00:00"; i += 9; continue; }
    if (starts("-070000")) { out += "+000000"; i += 7; continue; }
    if (starts("-07:00")) { out += "+00:00"; i += 6; continue; }
    if (starts("-0700")) { out += "+0000"; i += 5; continue; }
    if (starts("-07")) { out += "+00"; i += 3; continue; }
    if (starts("Z07:00:00") || starts("Z070000") || starts("Z07:00") || starts("Z0700") ||
        starts("Z07")) {
      out += "Z";
      i += starts("Z07:00:00") ? 9 : starts("Z070000") ? 7 : starts("Z07:00") ? 6 : starts("Z0700") ? 5 : 3;
      continue;
    }
    if ((layout[i] == '.' || layout[i] == ',') && i + 1 < layout.size() &&
        (layout[i + 1] == '0' || layout[i + 1] == '9')) {
      char d = layout[i + 1];
      size_t j = i + 1;
      while (j < layout.size() && layout[j] == d) ++j;
      if (j >= layout.size() || !(layout[j] >= '0' && layout[j] <= '9')) {
        int n = static_cast<int>(j - i - 1);
        std::string frac = std::to_string(nsec);
        frac.insert(0, 9 - frac.size(), '0');
        frac.resize(static_cast<size_t>(std::min(n, 9)));
        if (d == '9') {
          while (!frac.empty() && frac.back() == '0') frac.pop_back();
          if (!frac.empty()) {
            out.push_back(layout[i]);
            out += frac;
          }
        } else {
          out.push_back(layout[i]);
          out += frac;
        }
        i = j;
        continue;
      }
    }
    out.push_back(layout[i]);
    ++i;
  }
  return out;
}

// time.Parse for the common layout elements, in UTC. False on mismatch.
bool ParseTime(std::string_view layout, std::string_view value, int64_t* sec_out, int32_t* nsec_out) {
  int64_t year = 1;
  int month = 1, day = 1, hour = 0, min = 0, sec = 0;
  int32_t nsec = 0;
  int64_t offset = 0;
  int pm = -1;
  size_t i = 0, v = 0;
  auto starts = [&](std::string_view p) { return layout.substr(i, p.size()) == p; };
  auto num = [&](int min_digits, int max_digits, int* out) {
    size_t s = v;
    while (v < value.size() && v - s < static_cast<size_t>(max_digits) && value[v] >= '0' && value[v] <= '9') ++v;
    if (v - s < static_cast<size_t>(min_digits)) return false;
    int r = 0;
    for (size_t k = s; k < v; ++k) r = r * 10 + (value[k] - '0');
    *out = r;
    return true;
  };
  auto name = [&](const char* const* names, int n, bool abbrev, int* out) {
    for (int k = 0; k < n; ++k) {
      std::string_view nm = names[k];
      if (abbrev) nm = nm.substr(0, 3);
      if (value.size() - v >= nm.size()) {
        bool eq = true;
        for (size_t q = 0; q < nm.size(); ++q) {
          if (std::tolower(static_cast<unsigned char>(value[v + q])) != std::tolower(static_cast<unsigned char>(nm[q]))) {
            eq = false;
            break;
          }
        }
        if (eq) {
          v += nm.size();
          *out = k;
          return true;
        }
      }
    }
    return false;
  };
  auto tz = [&](bool colon, bool allow_z) {
    if (allow_z && v < value.size() && value[v] == 'Z') {
      ++v;
      offset = 0;
      return true;
    }
    if (v >= value.size() || (value[v] != '+' && value[v] != '-')) return false;
    int sign = value[v] == '-' ? -1 : 1;
    ++v;
    int hh = 0, mm = 0;
    if (!num(2, 2, &hh)) return false;
    if (colon) {
      if (v >= value.size() || value[v] != ':') return false;
      ++v;
    }
    if (!num(2, 2, &mm)) return false;
    offset = sign * (hh * 3600 + mm * 60);
    return true;
  };
  while (i < layout.size()) {
    int tmp = 0;
    if (starts("January")) { if (!name(kMonths, 12, false, &tmp)) return false; month = tmp + 1; i += 7; continue; }
    if (starts("Jan")) { if (!name(kMonths, 12, true, &tmp)) return false; month = tmp + 1; i += 3; continue; }
    if (starts("Monday")) { if (!name(kDays, 7, false, &tmp)) return false; i += 6; continue; }
    if (starts("Mon")) { if (!name(kDays, 7, true, &tmp)) return false; i += 3; continue; }
    if (starts("MST")) {
      size_t s = v;
      while (v < value.size() && std::isupper(static_cast<unsigned char>(value[v]))) ++v;
      if (v - s < 3) return false;
      i += 3;
      continue;
    }
    if (starts("2006")) {
      int y = 0;
      if (!num(4, 4, &y)) return false;
      year = y;
      i += 4;
      continue;
    }
    if (starts("01")) { if (!num(2, 2, &month)) return false; i += 2; continue; }
    if (starts("02")) { if (!num(2, 2, &day)) return false; i += 2; continue; }
    if (starts("03")) { if (!num(2, 2, &hour)) return false; i += 2; continue; }
    if (starts("04")) { if (!num(2, 2, &min)) return false; i += 2; continue; }
    if (starts("05")) {
      if (!num(2, 2, &sec)) return false;
      i += 2;
      // Go accepts a fractional second after seconds even when the layout has none.
      if (v + 1 < value.size() && value[v] == '.' && value[v + 1] >= '0' && value[v + 1] <= '9' &&
          !(i < layout.size() && layout[i] == '.')) {
        ++v;
        int digits = 0;
        int64_t frac = 0;
        while (v < value.size() && value[v] >= '0' && value[v] <= '9') {
          if (digits < 9) {
            frac = frac * 10 + (value[v] - '0');
            ++digits;
          }
          ++v;
        }
        while (digits++ < 9) frac *= 10;
        nsec = static_cast<int32_t>(frac);
      }
      continue;
    }
    if (starts("06")) {
      int y = 0;
      if (!num(2, 2, &y)) return false;
      year = y >= 69 ? 1900 + y : 2000 + y;
      i += 2;
      continue;
    }
    if (starts("_2")) {
      if (v < value.size() && value[v] == ' ') ++v;
      if (!num(1, 2, &day)) return false;
      i += 2;
      continue;
    }
    if (starts("15")) { if (!num(1, 2, &hour)) return false; i += 2; continue; }
    if (starts("1")) { if (!num(1, 2, &month)) return false; i += 1; continue; }
    if (starts("2")) { if (!num(1, 2, &day)) return false; i += 1; continue; }
    if (starts("3")) { if (!num(1, 2, &hour)) return false; i += 1; continue; }
    if (starts("4")) { if (!num(1, 2, &min)) return false; i += 1; continue; }
    if (starts("5")) { if (!num(1, 2, &sec)) return false; i += 1; continue; }
    if (starts("PM") || starts("pm")) {
      if (value.size() - v < 2) return false;
      std::string ap(value.substr(v, 2));
      for (char& ch : ap) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      if (ap == "PM") pm = 1;
      else if (ap == "AM") pm = 0;
      else return false;
      v += 2;
      i += 2;
      continue;
    }
    if (starts("Z07:00")) { if (!tz(true, true)) return false; i += 6; continue; }
    if (starts("Z0700")) { if (!tz(false, true)) return false; i += 5; continue; }
    if (starts("-07:00")) { if (!tz(true, false)) return false; i += 6; continue; }
    if (starts("-0700")) { if (!tz(false, false)) return false; i += 5; continue; }
    if ((layout[i] == '.' || layout[i] == ',') && i + 1 < layout.size() &&
        (layout[i + 1] == '0' || layout[i + 1] == '9')) {
      char d = layout[i + 1];
      size_t j = i + 1;
      while (j < layout.size() && layout[j] == d) ++j;
      size_t n = j - i - 1;
      if (v < value.size() && (value[v] == '.' || value[v] == ',')) {
        ++v;
        int digits = 0;
        int64_t frac = 0;
        size_t s = v;
        while (v < value.size() && value[v] >= '0' && value[v] <= '9') {
          if (digits < 9) {
            frac = frac * 10 + (value[v] - '0');
            ++digits;
          }
          ++v;
        }
        if (d == '0' && v - s != n) return false;
        while (digits++ < 9) frac *= 10;
        nsec = static_cast<int32_t>(frac);
      } else if (d == '0') {
        return false;
      }
      i = j;
      continue;
    }
    if (v >= value.size() || value[v] != layout[i]) return false;
    ++i;
    ++v;
  }
  if (v != value.size()) return false;
  if (pm == 1 && hour < 12) hour += 12;
  if (pm == 0 && hour == 12) hour = 0;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 59) return false;
  *sec_out = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
             hour * 3600 + min * 60 + sec - offset;
  *nsec_out = nsec;
  return true;
}

TValue ZeroTime() { return TValue::Time(DaysFromCivil(1, 1, 1) * 86400, 0); }

TValue Now() {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  return TValue::Time(ns / 1000000000, static_cast<int32_t>(ns % 1000000000));
}

TValue TimeFromNs(int64_t ns) {
  int64_t sec = ns / 1000000000;
  int64_t n = ns % 1000000000;
  if (n < 0) {
    n += 1000000000;
    --sec;
  }
  return TValue::Time(sec, static_cast<int32_t>(n));
}

// ---- argument conversion ------------------------------------------------------------------------

absl::Status WrongType(std::string_view want, const TValue& got) {
  return Err("wrong type for value; expected " + std::string(want) + "; got " +
             std::string(TypeName(got)));
}

absl::StatusOr<std::string_view> Str(const TValue& v) {
  if (v.kind != Kind::kString) return WrongType("string", v);
  return std::string_view(v.s);
}

absl::StatusOr<int64_t> Int(const TValue& v) {
  if (!v.IsInteger()) return WrongType("int", v);
  return v.i;
}

absl::StatusOr<const TValue*> Time(const TValue& v) {
  if (v.kind != Kind::kTime) return WrongType("time.Time", v);
  return &v;
}

std::string TrimZeroDecimal(std::string_view s) {
  // cast's trimZeroDecimal: "10.000" -> "10".
  size_t dot = s.find('.');
  if (dot == std::string_view::npos || dot == 0) return std::string(s);
  for (size_t i = dot + 1; i < s.size(); ++i) {
    if (s[i] != '0') return std::string(s);
  }
  return std::string(s.substr(0, dot));
}

// spf13/cast ToInt64 (errors become 0, as Sprig ignores them).
int64_t ToInt64(const TValue& v) {
  switch (v.kind) {
    case Kind::kInt:
    case Kind::kInt64: return v.i;
    case Kind::kFloat: return std::isfinite(v.f) ? static_cast<int64_t>(v.f) : INT64_MIN;
    case Kind::kBool: return v.b ? 1 : 0;
    case Kind::kString: {
      std::string t = TrimZeroDecimal(v.s);
      std::string_view s = t;
      bool neg = false;
      if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        s.remove_prefix(1);
      }
      int base = 10;
      if (s.size() > 1 && s[0] == '0') {
        if (s[1] == 'x' || s[1] == 'X') { base = 16; s.remove_prefix(2); }
        else if (s[1] == 'b' || s[1] == 'B') { base = 2; s.remove_prefix(2); }
        else if (s[1] == 'o' || s[1] == 'O') { base = 8; s.remove_prefix(2); }
        else { base = 8; s.remove_prefix(1); }
      }
      if (s.empty()) return 0;
      uint64_t acc = 0;
      auto r = std::from_chars(s.data(), s.data() + s.size(), acc, base);
      if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return 0;
      if (acc > static_cast<uint64_t>(INT64_MAX)) return 0;
      return neg ? -static_cast<int64_t>(acc) : static_cast<int64_t>(acc);
    }
    default: return 0;
  }
}

double ToFloat64(const TValue& v) {
  switch (v.kind) {
    case Kind::kInt:
    case Kind::kInt64: return static_cast<double>(v.i);
    case Kind::kFloat: return v.f;
    case Kind::kBool: return v.b ? 1 : 0;
    case Kind::kString: {
      auto f = ParseGoFloat(v.s);
      return f.ok() ? *f : 0;
    }
    default: return 0;
  }
}

// Sprig's empty(): nil, zero numbers, false, "" and empty collections.
bool Empty(const TValue& v) {
  switch (v.kind) {
    case Kind::kNil: return true;
    case Kind::kString: return v.s.empty();
    case Kind::kInt:
    case Kind::kInt64: return v.i == 0;
    case Kind::kFloat: return v.f == 0;
    case Kind::kBool: return !v.b;
    case Kind::kMap: return !v.map || v.map->empty();
    case Kind::kList: return !v.list || v.list->empty();
    default: return false;
  }
}

// ---- exact decimal arithmetic for addf/subf/mulf/divf (Sprig uses shopspring/decimal) -------

struct Dec {
  __int128 mant = 0;
  int exp = 0;  // value = mant * 10^exp
  bool ok = true;
};

Dec DecFromDouble(double f) {
  Dec d;
  if (!std::isfinite(f)) {
    d.ok = false;
    return d;
  }
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), f, std::chars_format::scientific);
  std::string_view s(buf, static_cast<size_t>(r.ptr - buf));
  bool neg = false;
  if (s[0] == '-') {
    neg = true;
    s.remove_prefix(1);
  }
  size_t e = s.find('e');
  int exp10 = std::atoi(std::string(s.substr(e + 1)).c_str());
  std::string digits;
  for (char c : s.substr(0, e)) {
    if (c != '.') digits.push_back(c);
  }
  __int128 m = 0;
  for (char c : digits) m = m * 10 + (c - '0');
  d.mant = neg ? -m : m;
  d.exp = exp10 - static_cast<int>(digits.size()) + 1;
  return d;
}

double DecToDouble(const Dec& d) {
  // Print exactly and let strtod round once.
  __int128 m = d.mant;
  bool neg = m < 0;
  if (neg) m = -m;
  std::string digits;
  if (m == 0) digits = "0";
  while (m > 0) {
    digits.push_back(static_cast<char>('0' + static_cast<int>(m % 10)));
    m /= 10;
  }
  std::reverse(digits.begin(), digits.end());
  std::string s = (neg ? "-" : "") + digits + "e" + std::to_string(d.exp);
  return std::strtod(s.c_str(), nullptr);
}

bool Align(Dec* a, Dec* b) {
  constexpr __int128 kLimit = static_cast<__int128>(1) << 120;
  while (a->exp > b->exp) {
    if (a->mant > kLimit / 10 || a->mant < -kLimit / 10) return false;
    a->mant *= 10;
    --a->exp;
  }
  while (b->exp > a->exp) {
    if (b->mant > kLimit / 10 || b->mant < -kLimit / 10) return false;
    b->mant *= 10;
    --b->exp;
  }
  return true;
}

enum class DecOp { kAdd, kSub, kMul, kDiv };

double DecimalOp(DecOp op, double a, double b) {
  Dec x = DecFromDouble(a), y = DecFromDouble(b);
  if (x.ok && y.ok) {
    switch (op) {
      case DecOp::kAdd:
      case DecOp::kSub:
        if (Align(&x, &y)) {
          x.mant = op == DecOp::kAdd ? x.mant + y.mant : x.mant - y.mant;
          return DecToDouble(x);
        }
        break;
      case DecOp::kMul: {
        // Both mantissas are at most 17 digits, so the product fits in 128 bits.
        Dec r;
        r.mant = x.mant * y.mant;
        r.exp = x.exp + y.exp;
        return DecToDouble(r);
      }
      case DecOp::kDiv: {
        if (b == 0) return a / b;  // callers reject division by zero first
        // shopspring/decimal Div: the exact quotient rounded (half away from zero) to 16
        // digits after the point. q = xm * 10^(xe - ye + 16) / ym, then scaled by 10^-16.
        int shift = x.exp - y.exp + 16;
        __int128 num = x.mant < 0 ? -x.mant : x.mant;
        __int128 den = y.mant < 0 ? -y.mant : y.mant;
        bool neg = (x.mant < 0) != (y.mant < 0);
        constexpr __int128 kLimit = static_cast<__int128>(1) << 122;
        bool ok = true;
        for (; shift > 0 && ok; --shift) {
          if (num > kLimit / 10) ok = false;
          else num *= 10;
        }
        for (; shift < 0 && ok; ++shift) {
          if (den > kLimit / 10) ok = false;
          else den *= 10;
        }
        if (ok) {
          __int128 q = num / den;
          __int128 r = num % den;
          if (r * 2 >= den) ++q;
          Dec out;
          out.mant = neg ? -q : q;
          out.exp = -16;
          return DecToDouble(out);
        }
        break;
      }
    }
  }
  switch (op) {
    case DecOp::kAdd: return a + b;
    case DecOp::kSub: return a - b;
    case DecOp::kMul: return a * b;
    case DecOp::kDiv: return a / b;
  }
  return 0;
}

// ---- regex helpers with Go's replacement semantics -----------------------------------------------

// Go's Regexp.Expand for `$1`, `${1}`, `$name`, `${name}`, `$$`.
void ExpandGo(std::string_view tmpl, const re2::RE2& re, const std::vector<re2::StringPiece>& groups,
              std::string* out) {
  const auto& names = re.NamedCapturingGroups();
  for (size_t i = 0; i < tmpl.size(); ++i) {
    char c = tmpl[i];
    if (c != '$' || i + 1 >= tmpl.size()) {
      out->push_back(c);
      continue;
    }
    if (tmpl[i + 1] == '$') {
      out->push_back('$');
      ++i;
      continue;
    }
    std::string name;
    size_t j = i + 1;
    if (tmpl[j] == '{') {
      size_t close = tmpl.find('}', j);
      if (close == std::string_view::npos) {
        out->push_back(c);
        continue;
      }
      name = std::string(tmpl.substr(j + 1, close - j - 1));
      j = close + 1;
    } else {
      while (j < tmpl.size() && (std::isalnum(static_cast<unsigned char>(tmpl[j])) || tmpl[j] == '_')) ++j;
      name = std::string(tmpl.substr(i + 1, j - i - 1));
    }
    if (name.empty()) {
      out->push_back(c);
      continue;
    }
    int idx = -1;
    bool numeric = std::all_of(name.begin(), name.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
    if (numeric) {
      idx = std::atoi(name.c_str());
    } else if (auto it = names.find(name); it != names.end()) {
      idx = it->second;
    }
    if (idx >= 0 && static_cast<size_t>(idx) < groups.size() && groups[static_cast<size_t>(idx)].data()) {
      out->append(groups[static_cast<size_t>(idx)].data(), groups[static_cast<size_t>(idx)].size());
    }
    i = j - 1;
  }
}

// Calls on_match(groups) for each leftmost-first match with Go's rule of not accepting an
// empty match right after the previous match; on_text for the text in between.
template <typename M, typename T>
void ForEachMatch(const re2::RE2& re, std::string_view s, M&& on_match, T&& on_text) {
  std::vector<re2::StringPiece> groups(static_cast<size_t>(re.NumberOfCapturingGroups()) + 1);
  size_t pos = 0, last_copied = 0;
  int64_t prev_end = -1;
  while (pos <= s.size()) {
    if (!re.Match(s, pos, s.size(), re2::RE2::UNANCHORED, groups.data(), static_cast<int>(groups.size()))) break;
    size_t start = static_cast<size_t>(groups[0].data() - s.data());
    size_t end = start + groups[0].size();
    if (groups[0].empty() && static_cast<int64_t>(start) == prev_end) {
      // Skip an empty match adjacent to the previous one: advance one UTF-8 character.
      if (start >= s.size()) break;
      size_t step = 1;
      unsigned char b = static_cast<unsigned char>(s[start]);
      if (b >= 0xF0) step = 4; else if (b >= 0xE0) step = 3; else if (b >= 0xC0) step = 2;
      pos = std::min(s.size(), start + step);
      continue;
    }
    on_text(s.substr(last_copied, start - last_copied));
    on_match(groups);
    last_copied = end;
    prev_end = static_cast<int64_t>(end);
    if (end > start) {
      pos = end;
    } else {
      if (end >= s.size()) break;
      size_t step = 1;
      unsigned char b = static_cast<unsigned char>(s[end]);
      if (b >= 0xF0) step = 4; else if (b >= 0xE0) step = 3; else if (b >= 0xC0) step = 2;
      pos = std::min(s.size(), end + step);
    }
  }
  on_text(s.substr(last_copied));
}

// The call's regex: precompiled when the template spelled it as a literal, else compiled now.
absl::StatusOr<std::shared_ptr<const re2::RE2>> Regex(std::string_view expr, const FuncEnv& env) {
  if (env.literal_regex && env.literal_regex->pattern() == expr) {
    return std::shared_ptr<const re2::RE2>(std::shared_ptr<const re2::RE2>(), env.literal_regex);
  }
  return CompileGoRegex(expr);
}

// ---- printing -----------------------------------------------------------------------------------

std::string Sprint(const TValue& v, const TemplateContext* ctx);

std::string FormatTimeDefault(const TValue& t) {
  return FormatTime(t.i, t.nsec, "2006-01-02 15:04:05.999999999 -0700 MST");
}

std::string Sprint(const TValue& v, const TemplateContext* ctx) {
  switch (v.kind) {
    case Kind::kNil: return "<nil>";
    case Kind::kString: return v.s;
    case Kind::kInt:
    case Kind::kInt64: return std::to_string(v.i);
    case Kind::kFloat: return FormatGoFloat(v.f);
    case Kind::kBool: return v.b ? "true" : "false";
    case Kind::kTime: return FormatTimeDefault(v);
    case Kind::kMap: {
      std::string out = "map[";
      bool first = true;
      if (v.map) {
        for (const auto& [k, e] : *v.map) {
          if (!first) out.push_back(' ');
          first = false;
          out += k + ":" + Sprint(e, ctx);
        }
      }
      return out + "]";
    }
    case Kind::kList: {
      std::string out = "[";
      bool first = true;
      if (v.list) {
        for (const auto& e : *v.list) {
          if (!first) out.push_back(' ');
          first = false;
          out += Sprint(e, ctx);
        }
      }
      return out + "]";
    }
    case Kind::kLabels: {
      std::vector<std::pair<std::string, std::string>> labels;
      if (ctx && ctx->snapshot) {
        labels = *ctx->snapshot;
      } else if (ctx && ctx->lbs) {
        ctx->lbs->ForEach([&](std::string_view k, std::string_view val) {
          labels.emplace_back(std::string(k), std::string(val));
        });
      }
      std::sort(labels.begin(), labels.end());
      std::string out = "map[";
      for (size_t i = 0; i < labels.size(); ++i) {
        if (i) out.push_back(' ');
        out += labels[i].first + ":" + labels[i].second;
      }
      return out + "]";
    }
  }
  return "";
}

void Pad(std::string* out, std::string_view s, int width, bool minus, bool zero) {
  int n = static_cast<int>(s.size());
  if (width <= n) {
    out->append(s);
    return;
  }
  if (minus) {
    out->append(s);
    out->append(static_cast<size_t>(width - n), ' ');
  } else if (zero) {
    size_t sign = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
    out->append(s.substr(0, sign));
    out->append(static_cast<size_t>(width - n), '0');
    out->append(s.substr(sign));
  } else {
    out->append(static_cast<size_t>(width - n), ' ');
    out->append(s);
  }
}

std::string FormatFixed(double f, int prec, char verb) {
  if (std::isnan(f)) return "NaN";
  if (std::isinf(f)) return f > 0 ? "+Inf" : "-Inf";
  char buf[512];
  std::to_chars_result r;
  if (verb == 'f' || verb == 'F') {
    r = std::to_chars(buf, buf + sizeof(buf), f, std::chars_format::fixed, prec);
  } else if (verb == 'e' || verb == 'E') {
    r = std::to_chars(buf, buf + sizeof(buf), f, std::chars_format::scientific, prec);
  } else {
    r = std::to_chars(buf, buf + sizeof(buf), f, std::chars_format::general, prec == 0 ? 1 : prec);
  }
  std::string s(buf, r.ptr);
  // Go prints exponents with at least two digits: 1e+06 (C++ prints 1e+06 as well).
  if (verb == 'E' || verb == 'G') {
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return s;
}

std::string Sprintf(std::string_view format, const std::vector<TValue>& args, size_t first,
                    const TemplateContext* ctx) {
  std::string out;
  size_t argi = first;
  for (size_t i = 0; i < format.size(); ++i) {
    char c = format[i];
    if (c != '%') {
      out.push_back(c);
      continue;
    }
    if (++i >= format.size()) {
      out += "%!(NOVERB)";
      break;
    }
    bool minus = false, plus = false, zero = false, space = false, sharp = false;
    for (; i < format.size(); ++i) {
      char f = format[i];
      if (f == '-') minus = true;
      else if (f == '+') plus = true;
      else if (f == '0') zero = true;
      else if (f == ' ') space = true;
      else if (f == '#') sharp = true;
      else break;
    }
    int width = -1, prec = -1;
    while (i < format.size() && std::isdigit(static_cast<unsigned char>(format[i]))) {
      width = std::min((width < 0 ? 0 : width) * 10 + (format[i] - '0'), 1 << 20);
      ++i;
    }
    if (i < format.size() && format[i] == '.') {
      ++i;
      prec = 0;
      while (i < format.size() && std::isdigit(static_cast<unsigned char>(format[i]))) {
        prec = std::min(prec * 10 + (format[i] - '0'), 400);
        ++i;
      }
    }
    if (i >= format.size()) {
      out += "%!(NOVERB)";
      break;
    }
    char verb = format[i];
    if (verb == '%') {
      out.push_back('%');
      continue;
    }
    if (argi >= args.size()) {
      out += std::string("%!") + verb + "(MISSING)";
      continue;
    }
    const TValue& a = args[argi++];
    std::string s;
    bool bad = false;
    switch (verb) {
      case 'v':
        s = Sprint(a, ctx);
        if (a.kind == Kind::kString && sharp) s = GoQuote(a.s);
        break;
      case 's':
        if (a.kind == Kind::kString) {
          s = a.s;
          if (prec >= 0 && static_cast<int>(s.size()) > prec) s.resize(static_cast<size_t>(prec));
        } else if (a.kind == Kind::kTime || a.kind == Kind::kMap || a.kind == Kind::kList || a.kind == Kind::kLabels) {
          s = Sprint(a, ctx);
        } else {
          bad = true;
        }
        break;
      case 'q':
        if (a.kind == Kind::kString) s = GoQuote(a.s);
        else if (a.IsInteger()) s = "'" + std::string(1, static_cast<char>(a.i)) + "'";
        else bad = true;
        break;
      case 'd':
        if (a.IsInteger()) {
          s = std::to_string(a.i);
          if (plus && a.i >= 0) s = "+" + s;
          else if (space && a.i >= 0) s = " " + s;
        } else {
          bad = true;
        }
        break;
      case 'x':
      case 'X': {
        static const char* kLo = "0123456789abcdef";
        static const char* kUp = "0123456789ABCDEF";
        const char* digits = verb == 'x' ? kLo : kUp;
        if (a.kind == Kind::kString) {
          for (unsigned char ch : a.s) {
            s.push_back(digits[ch >> 4]);
            s.push_back(digits[ch & 15]);
          }
        } else if (a.IsInteger()) {
          uint64_t u = a.i < 0 ? static_cast<uint64_t>(-a.i) : static_cast<uint64_t>(a.i);
          std::string h;
          do {
            h.push_back(digits[u & 15]);
            u >>= 4;
          } while (u);
          std::reverse(h.begin(), h.end());
          if (sharp) h = (verb == 'x' ? "0x" : "0X") + h;
          s = (a.i < 0 ? "-" : "") + h;
        } else {
          bad = true;
        }
        break;
      }
      case 'o':
      case 'b': {
        if (!a.IsInteger()) {
          bad = true;
          break;
        }
        int base = verb == 'o' ? 8 : 2;
        uint64_t u = a.i < 0 ? static_cast<uint64_t>(-a.i) : static_cast<uint64_t>(a.i);
        std::string h;
        do {
          h.push_back(static_cast<char>('0' + u % static_cast<uint64_t>(base)));
          u /= static_cast<uint64_t>(base);
        } while (u);
        std::reverse(h.begin(), h.end());
        s = (a.i < 0 ? "-" : "") + h;
        break;
      }
      case 'c':
        if (a.IsInteger()) {
          std::string tmp;
          uint32_t cp = static_cast<uint32_t>(a.i);
          if (cp < 0x80) tmp.push_back(static_cast<char>(cp));
          else if (cp < 0x800) { tmp.push_back(static_cast<char>(0xC0 | (cp >> 6))); tmp.push_back(static_cast<char>(0x80 | (cp & 0x3F))); }
          else if (cp < 0x10000) { tmp.push_back(static_cast<char>(0xE0 | (cp >> 12))); tmp.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F))); tmp.push_back(static_cast<char>(0x80 | (cp & 0x3F))); }
          else { tmp.push_back(static_cast<char>(0xF0 | (cp >> 18))); tmp.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F))); tmp.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F))); tmp.push_back(static_cast<char>(0x80 | (cp & 0x3F))); }
          s = tmp;
        } else {
          bad = true;
        }
        break;
      case 't':
        if (a.kind == Kind::kBool) s = a.b ? "true" : "false";
        else bad = true;
        break;
      case 'f':
      case 'F':
      case 'e':
      case 'E':
      case 'g':
      case 'G':
        if (a.kind == Kind::kFloat || a.IsInteger()) {
          if (a.IsInteger()) {
            bad = true;  // Go: %!f(int=5)
            break;
          }
          if ((verb == 'g' || verb == 'G') && prec < 0) {
            s = FormatGoFloat(a.f);
          } else {
            s = FormatFixed(a.f, prec < 0 ? 6 : prec, verb);
          }
          if (plus && a.f >= 0) s = "+" + s;
          else if (space && a.f >= 0) s = " " + s;
        } else {
          bad = true;
        }
        break;
      default:
        bad = true;
    }
    if (bad) {
      out += std::string("%!") + verb + "(" + std::string(TypeName(a)) + "=" + Sprint(a, ctx) + ")";
      continue;
    }
    if (width >= 0) {
      Pad(&out, s, width, minus, zero && !minus && verb != 's' && verb != 'q' && verb != 'v');
    } else {
      out += s;
    }
  }
  if (argi < args.size()) {
    out += "%!(EXTRA ";
    for (size_t k = argi; k < args.size(); ++k) {
      if (k > argi) out += ", ";
      out += std::string(TypeName(args[k])) + "=" + Sprint(args[k], ctx);
    }
    out += ")";
  }
  return out;
}

// fmt.Sprint: spaces between operands when neither side is a string.
std::string SprintArgs(const std::vector<TValue>& args, const TemplateContext* ctx) {
  std::string out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0 && args[i].kind != Kind::kString && args[i - 1].kind != Kind::kString) out.push_back(' ');
    out += Sprint(args[i], ctx);
  }
  return out;
}

// ---- base64 / URL ---------------------------------------------------------------------------------

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string B64Encode(std::string_view in) {
  std::string out;
  size_t i = 0;
  while (i + 3 <= in.size()) {
    uint32_t v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    out.push_back(kB64[v >> 18]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.push_back(kB64[(v >> 6) & 63]);
    out.push_back(kB64[v & 63]);
    i += 3;
  }
  size_t rest = in.size() - i;
  if (rest == 1) {
    uint32_t v = static_cast<unsigned char>(in[i]) << 16;
    out.push_back(kB64[v >> 18]);
    out.push_back(kB64[(v >> 12) & 63]);
    out += "==";
  } else if (rest == 2) {
    uint32_t v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out.push_back(kB64[v >> 18]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.push_back(kB64[(v >> 6) & 63]);
    out.push_back('=');
  }
  return out;
}

// Go's base64.StdEncoding.DecodeString; error text "illegal base64 data at input byte N".
bool B64Decode(std::string_view in, std::string* out, std::string* err) {
  out->clear();
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  // Go skips \r and \n.
  std::string clean;
  std::vector<size_t> orig;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '\r' || in[i] == '\n') continue;
    clean.push_back(in[i]);
    orig.push_back(i);
  }
  size_t i = 0;
  while (i < clean.size()) {
    int q[4] = {0, 0, 0, 0};
    size_t n = 0;
    for (; n < 4 && i < clean.size(); ++n, ++i) {
      if (clean[i] == '=') break;
      q[n] = val(clean[i]);
      if (q[n] < 0) {
        *err = "illegal base64 data at input byte " + std::to_string(orig[i]);
        return false;
      }
    }
    if (n == 4) {
      uint32_t v = (q[0] << 18) | (q[1] << 12) | (q[2] << 6) | q[3];
      out->push_back(static_cast<char>(v >> 16));
      out->push_back(static_cast<char>((v >> 8) & 0xFF));
      out->push_back(static_cast<char>(v & 0xFF));
      continue;
    }
    // Padding or truncated quantum.
    size_t pad_start = i;
    size_t pads = 0;
    while (i < clean.size() && clean[i] == '=') {
      ++pads;
      ++i;
    }
    if (n < 2 || n + pads != 4 || i != clean.size()) {
      size_t at = pad_start < clean.size() ? orig[pad_start] : in.size();
      if (n + pads != 4 && i == clean.size() && pads == 0) at = in.size() - (n > 0 ? 0 : 0);
      *err = "illegal base64 data at input byte " + std::to_string(std::min(at, in.size()));
      return false;
    }
    uint32_t v = (q[0] << 18) | (q[1] << 12) | (n > 2 ? q[2] << 6 : 0);
    out->push_back(static_cast<char>(v >> 16));
    if (n > 2) out->push_back(static_cast<char>((v >> 8) & 0xFF));
  }
  return true;
}

std::string QueryEscape(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

absl::StatusOr<std::string> QueryUnescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      auto hex = [](char h) {
        return (h >= '0' && h <= '9') ? h - '0' : (h >= 'a' && h <= 'f') ? h - 'a' + 10
               : (h >= 'A' && h <= 'F') ? h - 'A' + 10 : -1;
      };
      if (i + 2 >= s.size() || hex(s[i + 1]) < 0 || hex(s[i + 2]) < 0) {
        std::string bad(s.substr(i, std::min<size_t>(3, s.size() - i)));
        return Err("invalid URL escape " + GoQuote(bad));
      }
      out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// ---- the functions ---------------------------------------------------------------------------------

#define STR_ARG(var, idx)                \
  auto var##_or = Str(args[idx]);        \
  if (!var##_or.ok()) return var##_or.status(); \
  std::string_view var = *var##_or;
#define INT_ARG(var, idx)                \
  auto var##_or = Int(args[idx]);        \
  if (!var##_or.ok()) return var##_or.status(); \
  int64_t var = *var##_or;

std::string TrimCutset(std::string_view s, std::string_view cutset, bool left, bool right) {
  auto in = [&](char c) { return cutset.find(c) != std::string_view::npos; };
  if (left) {
    while (!s.empty() && in(s.front())) s.remove_prefix(1);
  }
  if (right) {
    while (!s.empty() && in(s.back())) s.remove_suffix(1);
  }
  return std::string(s);
}

std::string TrimSpaceStr(std::string_view s) {
  auto sp = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; };
  while (!s.empty() && sp(s.front())) s.remove_prefix(1);
  while (!s.empty() && sp(s.back())) s.remove_suffix(1);
  return std::string(s);
}

std::string ReplaceN(std::string_view s, std::string_view old, std::string_view neu, int64_t n) {
  std::string out;
  if (old.empty()) {
    // Go inserts `neu` before each rune and at the end (up to n times).
    int64_t count = 0;
    size_t i = 0;
    while (i <= s.size()) {
      if (n >= 0 && count >= n) {
        out.append(s.substr(i));
        break;
      }
      out.append(neu);
      ++count;
      if (i == s.size()) break;
      size_t step = 1;
      unsigned char b = static_cast<unsigned char>(s[i]);
      if (b >= 0xF0) step = 4; else if (b >= 0xE0) step = 3; else if (b >= 0xC0) step = 2;
      out.append(s.substr(i, step));
      i += step;
    }
    return out;
  }
  size_t pos = 0;
  int64_t count = 0;
  while (true) {
    if (n >= 0 && count >= n) break;
    size_t f = s.find(old, pos);
    if (f == std::string_view::npos) break;
    out.append(s.substr(pos, f - pos));
    out.append(neu);
    pos = f + old.size();
    ++count;
  }
  out.append(s.substr(pos));
  return out;
}

// strings.ToUpper / ToLower: Unicode simple case mapping. Non-ASCII runes go through glibc's
// C.UTF-8 tables (the same simple mappings Go uses); invalid UTF-8 bytes are kept as they are.
std::string UnicodeMap(std::string_view s, bool upper) {
  static const locale_t kUtf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out.push_back(static_cast<char>(upper ? std::toupper(c) : std::tolower(c)));
      ++i;
      continue;
    }
    size_t len = (c >= 0xF0) ? 4 : (c >= 0xE0) ? 3 : (c >= 0xC0) ? 2 : 1;
    uint32_t cp = c & (0x7F >> len);
    bool ok = len > 1 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) ok = false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (!ok || kUtf8 == static_cast<locale_t>(nullptr)) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    uint32_t mapped = static_cast<uint32_t>(upper ? towupper_l(static_cast<wint_t>(cp), kUtf8)
                                                  : towlower_l(static_cast<wint_t>(cp), kUtf8));
    std::string enc;
    if (mapped < 0x80) enc.push_back(static_cast<char>(mapped));
    else if (mapped < 0x800) { enc.push_back(static_cast<char>(0xC0 | (mapped >> 6))); enc.push_back(static_cast<char>(0x80 | (mapped & 0x3F))); }
    else if (mapped < 0x10000) { enc.push_back(static_cast<char>(0xE0 | (mapped >> 12))); enc.push_back(static_cast<char>(0x80 | ((mapped >> 6) & 0x3F))); enc.push_back(static_cast<char>(0x80 | (mapped & 0x3F))); }
    else { enc.push_back(static_cast<char>(0xF0 | (mapped >> 18))); enc.push_back(static_cast<char>(0x80 | ((mapped >> 12) & 0x3F))); enc.push_back(static_cast<char>(0x80 | ((mapped >> 6) & 0x3F))); enc.push_back(static_cast<char>(0x80 | (mapped & 0x3F))); }
    out += enc;
    i += len;
  }
  return out;
}

Result FToLower(std::vector<TValue>& args, const FuncEnv&) { STR_ARG(s, 0); return TValue::Str(UnicodeMap(s, false)); }
Result FToUpper(std::vector<TValue>& args, const FuncEnv&) { STR_ARG(s, 0); return TValue::Str(UnicodeMap(s, true)); }
Result FReplace(std::vector<TValue>& args, const FuncEnv&) {
  STR_ARG(s, 0); STR_ARG(old, 1); STR_ARG(neu, 2); INT_ARG(n, 3);
  return TValue::Str(ReplaceN(s, old, neu, n));
}
Result FTrim(std::vector<TValue>& args, const FuncEnv&) { STR_ARG(s, 0); STR_ARG(c, 1); return TValue::Str(TrimCutset(s, c, true, true)); }
Result FTrimLeft(std::vector<TValue>& args, const FuncEnv&) { STR_ARG(s, 0); STR_ARG(c, 1); return TValue::Str(TrimCutset(s, c, true, false)); }
Result FTrimRight(std::vector<TValue>& args, const FuncEnv&) { STR_ARG(s, 0); STR_ARG(c, 1); return TValue::Str(TrimCutset(s, c, false, true)); }
Result FTrimPrefix(std::vector<TValue>& args, const FuncEnv&) {
  STR_ARG(s, 0); STR_ARG(p, 1);
  return TValue::Str(std::string(s.substr(0, p.size()) == p ? s.substr(p.size()) : s));
}
Result FTrimSuffix(std::vector<TValue>& args, const FuncEnv&) {
  STR_ARG(s, 0); STR_ARG(p, 1);
  bool has = s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
  return TValue::Str(std::string(has ? s.substr(0, s.size() - p.size()) : s));
}
Result FTrimSpace(std::vector<TValue>& args, const FuncEnv&) { STR_ARG(s, 0); return TValue::Str(TrimSpaceStr(s)); }

Result FRegexReplaceAll(std::vector<TValue>& args, const FuncEnv& env) {
  STR_ARG(expr, 0); STR_ARG(s, 1); STR_ARG(repl, 2);
  auto re = Regex(expr, env);
  if (!re.ok()) return re.status();
  std::string out;
  ForEachMatch(**re, s, [&](const std::vector<re2::StringPiece>& g) { ExpandGo(repl, **re, g, &out); },
               [&](std::string_view text) { out.append(text); });
  return TValue::Str(std::move(out));
}
Result FRegexReplaceAllLiteral(std::vector<TValue>& args, const FuncEnv& env) {
  STR_ARG(expr, 0); STR_ARG(s, 1); STR_ARG(repl, 2);
  auto re = Regex(expr, env);
  if (!re.ok()) return re.status();
  std::string out;
  ForEachMatch(**re, s, [&](const std::vector<re2::StringPiece>&) { out.append(repl); },
               [&](std::string_view text) { out.append(text); });
  return TValue::Str(std::move(out));
}
Result FCount(std::vector<TValue>& args, const FuncEnv& env) {
  STR_ARG(expr, 0); STR_ARG(s, 1);
  auto re = Regex(expr, env);
  if (!re.ok()) return re.status();
  int64_t n = 0;
  ForEachMatch(**re, s, [&](const std::vector<re2::StringPiece>&) { ++n; }, [](std::string_view) {});
  return TValue::Int(n);
}
Result FUrlDecode(std::vector<TValue>& args, const FuncEnv&) {
  STR_ARG(s, 0);
  auto r = QueryUnescape(s);
  if (!r.ok()) return r.status();
  return TValue::Str(std::move(*r));
}
Result FUrlEncode(std::vector<TValue>& args, const FuncEnv&) { STR_ARG(s, 0); return TValue::Str(QueryEscape(s)); }
Result FBytes(std::vector<TValue>& args, const FuncEnv&) {
  STR_ARG(s, 0);
  auto b = ParseHumanBytes(s);
  if (!b.ok()) return b.status();
  return TValue::Float(static_cast<double>(*b));
}
Result FDuration(std::vector<TValue>& args, const FuncEnv&) {
  STR_ARG(s, 0);
  auto d = ParseGoDuration(s);
  if (!d.ok()) return d.status();
  int64_t sec = *d / 1000000000, nsec = *d % 1000000000;
  return TValue::Float(static_cast<double>(sec) + static_cast<double>(nsec) / 1e9);
}
Result FUnixEpochMillis(std::vector<TValue>& args, const FuncEnv&) {
  auto t = Time(args[0]);
  if (!t.ok()) return t.status();
  return TValue::Str(std::to_string((*t)->i * 1000 + (*t)->nsec / 1000000));
}
Result FUnixEpochNanos(std::vector<TValue>& args, const FuncEnv&) {
  auto t = Time(args[0]);
  if (!t.ok()) return t.status();
  return TValue::Str(std::to_string((*t)->i * 1000000000 + (*t)->nsec));
}
Result FUnixEpoch(std::vector<TValue>& args, const FuncEnv&) {
  auto t = Time(args[0]);
  if (!t.ok()) return t.status();
  return TValue::Str(std::to_string((*t)->i));
}
Result FToDateInZone(std::vector<TValue>& args, const FuncEnv&) {
  STR_ARG(layout, 0); STR_ARG(zone, 1); STR_ARG(s, 2);
  (void)zone;  // only UTC is known here; Loki also falls back to UTC for an unknown zone
  int64_t sec = 0;
  int32_t nsec = 0;
  if (!ParseTime(layout, s, &sec, &nsec)) return ZeroTime();
  return TValue::Time(sec, nsec);
}
Result FToDate(std::vector<TValue>& args, const FuncEnv&) {
  STR_ARG(layout, 0); STR_ARG(s, 1);
  int64_t sec = 0;
  int32_t nsec = 0;
  if (!ParseTime(layout, s, &sec, &nsec)) return ZeroTime();
  return TValue::Time(sec, nsec);
}
Result FUnixToTime(std::vector<TValue>& args, const FuncEnv&) {
  STR_ARG(s, 0);
  int64_t v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  bool ok = r.ec == std::errc() && r.ptr == s.data() + s.size() && !s.empty();
  if (!ok) {
    return Err("unable to parse time '" + std::string(s) + "': strconv.ParseInt: parsing " +
               GoQuote(s) + ": invalid syntax");
  }
  switch (s.size()) {
    case 5: return TValue::Time(v * 86400, 0);
    case 10: return TValue::Time(v, 0);
    case 13: return TimeFromNs(v * 1000000);
    case 16: return TimeFromNs(v * 1000);
    case 19: return TimeFromNs(v);
    default: return Err("unable to parse time '" + std::string(s) + "': %!w(<nil>)");
  }
}
Result FDate(std::vector<TValue>& args, const FuncEnv&) {
  STR_ARG(layout, 0);
  const TValue& d = args[1];
  TValue t;
  if (d.kind == Kind::kTime) t = d;
  else if (d.IsInteger()) t = TValue::Time(d.i, 0);
  else t = Now();
  return TValue::Str(FormatTime(t.i, t.nsec, layout));
}
Result FNow(std::vector<TValue>&, const FuncEnv&) { return Now(); }

// Counts UTF-8 characters and returns byte offsets, for alignLeft/alignRight.
std::vector<size_t> RuneStarts(std::string_view s) {
  std::vector<size_t> starts;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) starts.push_back(i);
  }
  return starts;
}
constexpr int64_t kMaxPad = 1 << 20;  // bounds the memory one call may take

Result FAlignLeft(std::vector<TValue>& args, const FuncEnv&) {
  INT_ARG(count, 0); STR_ARG(src, 1);
  if (count > kMaxPad) return Err("alignLeft: count too large");
  auto runes = RuneStarts(src);
  int64_t l = static_cast<int64_t>(runes.size());
  if (count < 0 || count == l) return TValue::Str(std::string(src));
  if (count > l) return TValue::Str(std::string(src) + std::string(static_cast<size_t>(count - l), ' '));
  return TValue::Str(std::string(src.substr(0, runes[static_cast<size_t>(count)])));
}
Result FAlignRight(std::vector<TValue>& args, const FuncEnv&) {
  INT_ARG(count, 0); STR_ARG(src, 1);
  if (count > kMaxPad) return Err("alignRight: count too large");
  auto runes = RuneStarts(src);
  int64_t l = static_cast<int64_t>(runes.size());
  if (count < 0 || count == l) return TValue::Str(std::string(src));
  if (count > l) return TValue::Str(std::string(static_cast<size_t>(count - l), ' ') + std::string(src));
  return TValue::Str(std::string(src.substr(runes[static_cast<size_t>(l - count)])));
}
Result FB64Dec(std::vector<TValue>& args, const FuncEnv&) {
  STR_ARG(s, 0);
  std::string v(s);
  size_t rem = v.size() % 4;
  if (rem != 0 && rem != 1) v.append(4 - rem, '=');
  std::string out, err;
  if (!B64Decode(v, &out, &err)) return TValue::Str(err);
  return TValue::Str(std::move(out));
}
Result FB64Enc(std::vector<TValue>& args, const FuncEnv&) { STR_ARG(s, 0); return TValue::Str(B64Encode(s)); }
Result FTitle(std::vector<TValue>& args, const FuncEnv&) {
  STR_ARG(s, 0);
  std::string out(s);
  char prev = ' ';
  for (char& c : out) {
    unsigned char u = static_cast<unsigned char>(c);
    bool sep = u < 0x80 && !std::isalnum(u) && u != '_';
    unsigned char p = static_cast<unsigned char>(prev);
    bool prev_sep = p < 0x80 && !std::isalnum(p) && p != '_';
    if (prev_sep && u < 0x80 && std::islower(u)) c = static_cast<char>(std::toupper(u));
    prev = static_cast<char>(u);
    (void)sep;
  }
  return TValue::Str(std::move(out));
}
Result FTrunc(std::vector<TValue>& args, const FuncEnv&) {
  INT_ARG(c, 0); STR_ARG(s, 1);
  int64_t l = static_cast<int64_t>(s.size());
  if (c < 0 && l + c > 0) return TValue::Str(std::string(s.substr(static_cast<size_t>(l + c))));
  if (c >= 0 && l > c) return TValue::Str(std::string(s.substr(0, static_cast<size_t>(c))));
  return TValue::Str(std::string(s));
}
Result FSubstr(std::vector<TValue>& args, const FuncEnv&) {
  INT_ARG(start, 0); INT_ARG(end, 1); STR_ARG(s, 2);
  int64_t l = static_cast<int64_t>(s.size());
  auto oob = [] { return Err("runtime error: slice bounds out of range"); };
  if (start < 0) {
    if (end < 0 || end > l) return oob();
    return TValue::Str(std::string(s.substr(0, static_cast<size_t>(end))));
  }
  if (end < 0 || end > l) {
    if (start > l) return oob();
    return TValue::Str(std::string(s.substr(static_cast<size_t>(start))));
  }
  if (start > end) return oob();
  return TValue::Str(std::string(s.substr(static_cast<size_t>(start), static_cast<size_t>(end - start))));
}
Result FContains(std::vector<TValue>& args, const FuncEnv&) {
  STR_ARG(sub, 0); STR_ARG(s, 1);
  return TValue::Bool(s.find(sub) != std::string_view::npos);
}
Result FHasPrefix(std::vector<TValue>& args, const FuncEnv&) {
  STR_ARG(p, 0); STR_ARG(s, 1);
  return TValue::Bool(s.substr(0, p.size()) == p);
}
Result FHasSuffix(std::vector<TValue>& args, const FuncEnv&) {
  STR_ARG(p, 0); STR_ARG(s, 1);
  return TValue::Bool(s.size() >= p.size() && s.substr(s.size() - p.size()) == p);
}
Result FIndent(std::vector<TValue>& args, const FuncEnv&) {
  INT_ARG(n, 0); STR_ARG(s, 1);
  std::string pad(static_cast<size_t>(std::max<int64_t>(0, std::min<int64_t>(n, 1 << 20))), ' ');
  return TValue::Str(pad + ReplaceN(s, "\n", "\n" + pad, -1));
}
Result FNindent(std::vector<TValue>& args, const FuncEnv& env) {
  auto r = FIndent(args, env);
  if (!r.ok()) return r;
  r->s.insert(0, "\n");
  return r;
}
Result FReplaceSprig(std::vector<TValue>& args, const FuncEnv&) {
  STR_ARG(old, 0); STR_ARG(neu, 1); STR_ARG(src, 2);
  return TValue::Str(ReplaceN(src, old, neu, -1));
}
Result FRepeat(std::vector<TValue>& args, const FuncEnv&) {
  INT_ARG(n, 0); STR_ARG(s, 1);
  if (n < 0) return Err("strings: negative Repeat count");
  if (static_cast<double>(n) * static_cast<double>(s.size()) > (1 << 24)) {
    return Err("strings: Repeat output length overflow");
  }
  std::string out;
  for (int64_t i = 0; i < n; ++i) out.append(s);
  return TValue::Str(std::move(out));
}
Result FTrimSprig(std::vector<TValue>& args, const FuncEnv&) { STR_ARG(s, 0); return TValue::Str(TrimSpaceStr(s)); }
Result FTrimAll(std::vector<TValue>& args, const FuncEnv&) { STR_ARG(c, 0); STR_ARG(s, 1); return TValue::Str(TrimCutset(s, c, true, true)); }
Result FTrimSuffixSprig(std::vector<TValue>& args, const FuncEnv& env) {
  std::swap(args[0], args[1]);
  return FTrimSuffix(args, env);
}
Result FTrimPrefixSprig(std::vector<TValue>& args, const FuncEnv& env) {
  std::swap(args[0], args[1]);
  return FTrimPrefix(args, env);
}
Result FInt(std::vector<TValue>& args, const FuncEnv&) { return TValue::Int(ToInt64(args[0])); }
Result FFloat64(std::vector<TValue>& args, const FuncEnv&) { return TValue::Float(ToFloat64(args[0])); }
Result FAdd(std::vector<TValue>& args, const FuncEnv&) {
  int64_t sum = 0;
  for (const auto& a : args) sum += ToInt64(a);
  return TValue::Int64(sum);
}
Result FSub(std::vector<TValue>& args, const FuncEnv&) { return TValue::Int64(ToInt64(args[0]) - ToInt64(args[1])); }
Result FMul(std::vector<TValue>& args, const FuncEnv&) {
  int64_t p = ToInt64(args[0]);
  for (size_t i = 1; i < args.size(); ++i) p *= ToInt64(args[i]);
  return TValue::Int64(p);
}
Result FDiv(std::vector<TValue>& args, const FuncEnv&) {
  int64_t b = ToInt64(args[1]);
  if (b == 0) return Err("runtime error: integer divide by zero");
  return TValue::Int64(ToInt64(args[0]) / b);
}
Result FMod(std::vector<TValue>& args, const FuncEnv&) {
  int64_t b = ToInt64(args[1]);
  if (b == 0) return Err("runtime error: integer divide by zero");
  return TValue::Int64(ToInt64(args[0]) % b);
}
Result FAddf(std::vector<TValue>& args, const FuncEnv&) {
  double acc = 0;
  for (const auto& a : args) acc = DecimalOp(DecOp::kAdd, acc, ToFloat64(a));
  return TValue::Float(acc);
}
Result FSubf(std::vector<TValue>& args, const FuncEnv&) {
  double acc = ToFloat64(args[0]);
  for (size_t i = 1; i < args.size(); ++i) acc = DecimalOp(DecOp::kSub, acc, ToFloat64(args[i]));
  return TValue::Float(acc);
}
Result FMulf(std::vector<TValue>& args, const FuncEnv&) {
  double acc = ToFloat64(args[0]);
  for (size_t i = 1; i < args.size(); ++i) acc = DecimalOp(DecOp::kMul, acc, ToFloat64(args[i]));
  return TValue::Float(acc);
}
Result FDivf(std::vector<TValue>& args, const FuncEnv&) {
  double acc = ToFloat64(args[0]);
  for (size_t i = 1; i < args.size(); ++i) {
    double d = ToFloat64(args[i]);
    if (d == 0) return Err("decimal division by 0");
    acc = DecimalOp(DecOp::kDiv, acc, d);
  }
  return TValue::Float(acc);
}
Result FMax(std::vector<TValue>& args, const FuncEnv&) {
  int64_t m = ToInt64(args[0]);
  for (size_t i = 1; i < args.size(); ++i) m = std::max(m, ToInt64(args[i]));
  return TValue::Int64(m);
}
Result FMin(std::vector<TValue>& args, const FuncEnv&) {
  int64_t m = ToInt64(args[0]);
  for (size_t i = 1; i < args.size(); ++i) m = std::min(m, ToInt64(args[i]));
  return TValue::Int64(m);
}
Result FMaxf(std::vector<TValue>& args, const FuncEnv&) {
  double m = ToFloat64(args[0]);
  for (size_t i = 1; i < args.size(); ++i) m = std::fmax(m, ToFloat64(args[i]));
  return TValue::Float(m);
}
Result FMinf(std::vector<TValue>& args, const FuncEnv&) {
  double m = ToFloat64(args[0]);
  for (size_t i = 1; i < args.size(); ++i) m = std::fmin(m, ToFloat64(args[i]));
  return TValue::Float(m);
}
Result FCeil(std::vector<TValue>& args, const FuncEnv&) { return TValue::Float(std::ceil(ToFloat64(args[0]))); }
Result FFloor(std::vector<TValue>& args, const FuncEnv&) { return TValue::Float(std::floor(ToFloat64(args[0]))); }
Result FRound(std::vector<TValue>& args, const FuncEnv&) {
  INT_ARG(p, 1);
  double round_on = 0.5;
  if (args.size() > 2) {
    if (args[2].kind != Kind::kFloat) return WrongType("float64", args[2]);
    round_on = args[2].f;
  }
  double val = ToFloat64(args[0]);
  double pow = std::pow(10.0, static_cast<double>(p));
  double digit = pow * val;
  double ip;
  double frac = std::modf(digit, &ip);
  double r = frac >= round_on ? std::ceil(digit) : std::floor(digit);
  return TValue::Float(r / pow);
}

// encoding/json into interface{}: objects, arrays, strings, float64 numbers, bools, nil.
TValue JsonToValue(std::string_view raw, JsonType type, bool* ok, int depth = 0) {
  if (depth > 200) {  // bounded recursion; deeper documents are refused
    *ok = false;
    return TValue();
  }
  switch (type) {
    case JsonType::kString: {
      std::string s;
      if (!JsonUnescape(raw, &s)) *ok = false;
      return TValue::Str(std::move(s));
    }
    case JsonType::kNumber: {
      auto f = ParseGoFloat(raw);
      if (!f.ok()) *ok = false;
      return TValue::Float(f.ok() ? *f : 0);
    }
    case JsonType::kBool: return TValue::Bool(raw == "true");
    case JsonType::kNull: return TValue();
    case JsonType::kObject: {
      auto m = std::make_shared<std::vector<std::pair<std::string, TValue>>>();
      std::string_view err = JsonObjectEach(raw, [&](std::string_view k, bool esc, JsonType t, std::string_view v) {
        std::string key;
        if (esc) {
          if (!JsonUnescape(k, &key)) *ok = false;
        } else {
          key = std::string(k);
        }
        TValue val = JsonToValue(v, t, ok, depth + 1);
        // Later duplicates win, as encoding/json does.
        for (auto& [mk, mv] : *m) {
          if (mk == key) {
            mv = std::move(val);
            return true;
          }
        }
        m->emplace_back(std::move(key), std::move(val));
        return true;
      });
      if (!err.empty()) *ok = false;
      std::sort(m->begin(), m->end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      TValue v;
      v.kind = Kind::kMap;
      v.map = std::move(m);
      return v;
    }
    case JsonType::kArray: {
      auto l = std::make_shared<std::vector<TValue>>();
      size_t i = JsonSkipSpace(raw, 1);
      if (i < raw.size() && raw[i] != ']') {
        while (i < raw.size()) {
          JsonType t;
          std::string_view v;
          if (!JsonParseValue(raw, &i, &t, &v).empty()) {
            *ok = false;
            break;
          }
          l->push_back(JsonToValue(v, t, ok, depth + 1));
          i = JsonSkipSpace(raw, i);
          if (i < raw.size() && raw[i] == ',') {
            ++i;
            continue;
          }
          break;
        }
      }
      TValue v;
      v.kind = Kind::kList;
      v.list = std::move(l);
      return v;
    }
  }
  return TValue();
}

Result FFromJson(std::vector<TValue>& args, const FuncEnv&) {
  STR_ARG(s, 0);
  size_t pos = 0;
  JsonType t;
  std::string_view raw;
  if (!JsonParseValue(s, &pos, &t, &raw).empty()) return TValue();
  if (JsonSkipSpace(s, pos) != s.size()) return TValue();
  bool ok = true;
  TValue v = JsonToValue(raw, t, &ok);
  if (!ok) return TValue();
  return v;
}
Result FDefault(std::vector<TValue>& args, const FuncEnv&) {
  if (args.size() < 2 || Empty(args[1])) return args[0];
  return args[1];
}
Result FLine(std::vector<TValue>&, const FuncEnv& env) { return TValue::Str(std::string(env.ctx->line)); }
Result FTimestamp(std::vector<TValue>&, const FuncEnv& env) { return TimeFromNs(env.ctx->ts_ns); }

// ---- builtins ---------------------------------------------------------------------------------------

enum class BasicKind { kBool, kInt, kFloat, kString, kOther };
BasicKind Basic(const TValue& v) {
  switch (v.kind) {
    case Kind::kBool: return BasicKind::kBool;
    case Kind::kInt:
    case Kind::kInt64: return BasicKind::kInt;
    case Kind::kFloat: return BasicKind::kFloat;
    case Kind::kString: return BasicKind::kString;
    default: return BasicKind::kOther;
  }
}

absl::StatusOr<bool> Equal(const TValue& a, const TValue& b) {
  BasicKind ka = Basic(a), kb = Basic(b);
  if (ka == BasicKind::kOther || kb == BasicKind::kOther) {
    if (a.kind == Kind::kNil || b.kind == Kind::kNil) return a.kind == b.kind;
    if (a.kind == Kind::kTime && b.kind == Kind::kTime) return a.i == b.i && a.nsec == b.nsec;
    return Err("invalid type for comparison");
  }
  if (ka != kb) return Err("incompatible types for comparison");
  switch (ka) {
    case BasicKind::kBool: return a.b == b.b;
    case BasicKind::kInt: return a.i == b.i;
    case BasicKind::kFloat: return a.f == b.f;
    case BasicKind::kString: return a.s == b.s;
    default: return false;
  }
}

absl::StatusOr<bool> Less(const TValue& a, const TValue& b) {
  BasicKind ka = Basic(a), kb = Basic(b);
  if (ka == BasicKind::kOther || kb == BasicKind::kOther || ka == BasicKind::kBool || kb == BasicKind::kBool) {
    return Err("invalid type for comparison");
  }
  if (ka != kb) return Err("incompatible types for comparison");
  switch (ka) {
    case BasicKind::kInt: return a.i < b.i;
    case BasicKind::kFloat: return a.f < b.f;
    case BasicKind::kString: return a.s < b.s;
    default: return false;
  }
}

Result FEq(std::vector<TValue>& args, const FuncEnv&) {
  for (size_t i = 1; i < args.size(); ++i) {
    auto e = Equal(args[0], args[i]);
    if (!e.ok()) return e.status();
    if (*e) return TValue::Bool(true);
  }
  return TValue::Bool(false);
}
Result FNe(std::vector<TValue>& args, const FuncEnv&) {
  auto e = Equal(args[0], args[1]);
  if (!e.ok()) return e.status();
  return TValue::Bool(!*e);
}
Result FLt(std::vector<TValue>& args, const FuncEnv&) {
  auto l = Less(args[0], args[1]);
  if (!l.ok()) return l.status();
  return TValue::Bool(*l);
}
Result FLe(std::vector<TValue>& args, const FuncEnv&) {
  auto l = Less(args[0], args[1]);
  if (!l.ok()) return l.status();
  if (*l) return TValue::Bool(true);
  auto e = Equal(args[0], args[1]);
  if (!e.ok()) return e.status();
  return TValue::Bool(*e);
}
Result FGt(std::vector<TValue>& args, const FuncEnv& env) {
  auto r = FLe(args, env);
  if (!r.ok()) return r;
  return TValue::Bool(!r->b);
}
Result FGe(std::vector<TValue>& args, const FuncEnv& env) {
  auto r = FLt(args, env);
  if (!r.ok()) return r;
  return TValue::Bool(!r->b);
}
Result FNot(std::vector<TValue>& args, const FuncEnv& env) { return TValue::Bool(!IsTrue(args[0], *env.ctx)); }
Result FLen(std::vector<TValue>& args, const FuncEnv&) {
  const TValue& v = args[0];
  switch (v.kind) {
    case Kind::kString: return TValue::Int(static_cast<int64_t>(v.s.size()));
    case Kind::kMap: return TValue::Int(v.map ? static_cast<int64_t>(v.map->size()) : 0);
    case Kind::kList: return TValue::Int(v.list ? static_cast<int64_t>(v.list->size()) : 0);
    default: return Err("len of type " + std::string(TypeName(v)));
  }
}
Result FIndex(std::vector<TValue>& args, const FuncEnv& env) {
  TValue cur = args[0];
  for (size_t i = 1; i < args.size(); ++i) {
    const TValue& k = args[i];
    if (cur.kind == Kind::kMap) {
      if (k.kind != Kind::kString) return Err("value has type " + std::string(TypeName(k)) + "; should be string");
      TValue next;
      if (cur.map) {
        for (const auto& [mk, mv] : *cur.map) {
          if (mk == k.s) next = mv;
        }
      }
      cur = next;
    } else if (cur.kind == Kind::kLabels) {
      if (k.kind != Kind::kString) return Err("value has type " + std::string(TypeName(k)) + "; should be string");
      std::string v;
      if (env.ctx->snapshot) {
        for (const auto& [lk, lv] : *env.ctx->snapshot) {
          if (lk == k.s) v = lv;
        }
      } else if (env.ctx->lbs) {
        if (auto got = env.ctx->lbs->Get(k.s)) v = std::string(*got);
      }
      cur = TValue::Str(std::move(v));
    } else if (cur.kind == Kind::kList || cur.kind == Kind::kString) {
      if (!k.IsInteger()) return Err("cannot index slice/array with type " + std::string(TypeName(k)));
      int64_t n = cur.kind == Kind::kList ? (cur.list ? static_cast<int64_t>(cur.list->size()) : 0)
                                          : static_cast<int64_t>(cur.s.size());
      if (k.i < 0 || k.i >= n) return Err("index out of range: " + std::to_string(k.i));
      if (cur.kind == Kind::kList) cur = (*cur.list)[static_cast<size_t>(k.i)];
      else cur = TValue::Int(static_cast<unsigned char>(cur.s[static_cast<size_t>(k.i)]));
    } else {
      return Err("can't index item of type " + std::string(TypeName(cur)));
    }
  }
  return cur;
}
Result FPrint(std::vector<TValue>& args, const FuncEnv& env) { return TValue::Str(SprintArgs(args, env.ctx)); }
Result FPrintln(std::vector<TValue>& args, const FuncEnv& env) {
  std::string out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (i) out.push_back(' ');
    out += Sprint(args[i], env.ctx);
  }
  out.push_back('\n');
  return TValue::Str(std::move(out));
}
Result FPrintf(std::vector<TValue>& args, const FuncEnv& env) {
  STR_ARG(format, 0);
  return TValue::Str(Sprintf(format, args, 1, env.ctx));
}
Result FUrlQuery(std::vector<TValue>& args, const FuncEnv& env) { return TValue::Str(QueryEscape(SprintArgs(args, env.ctx))); }
Result FHtml(std::vector<TValue>& args, const FuncEnv& env) {
  std::string s = SprintArgs(args, env.ctx), out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '\'': out += "&#39;"; break;
      case '"': out += "&#34;"; break;
      case '\0': out += "\xEF\xBF\xBD"; break;
      default: out.push_back(c);
    }
  }
  return TValue::Str(std::move(out));
}
Result FJs(std::vector<TValue>& args, const FuncEnv& env) {
  std::string s = SprintArgs(args, env.ctx), out;
  for (unsigned char c : s) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\'': out += "\\'"; break;
      case '"': out += "\\\""; break;
      case '<': out += "\\u003C"; break;
      case '>': out += "\\u003E"; break;
      case '&': out += "\\u0026"; break;
      case '=': out += "\\u003D"; break;
      case '\n': out += "\\u000A"; break;
      case '\r': out += "\\u000D"; break;
      case '\t': out += "\\u0009"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04X", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return TValue::Str(std::move(out));
}
Result FAndOrPlaceholder(std::vector<TValue>& args, const FuncEnv&) { return args.empty() ? TValue() : args.back(); }

constexpr FuncSpec kFuncs[] = {
    // Loki's own (pkg/logql/log/fmt.go).
    {"ToLower", FToLower, 1, 1},
    {"ToUpper", FToUpper, 1, 1},
    {"Replace", FReplace, 4, 4},
    {"Trim", FTrim, 2, 2},
    {"TrimLeft", FTrimLeft, 2, 2},
    {"TrimRight", FTrimRight, 2, 2},
    {"TrimPrefix", FTrimPrefix, 2, 2},
    {"TrimSuffix", FTrimSuffix, 2, 2},
    {"TrimSpace", FTrimSpace, 1, 1},
    {"regexReplaceAll", FRegexReplaceAll, 3, 3},
    {"regexReplaceAllLiteral", FRegexReplaceAllLiteral, 3, 3},
    {"count", FCount, 2, 2},
    {"urldecode", FUrlDecode, 1, 1},
    {"urlencode", FUrlEncode, 1, 1},
    {"bytes", FBytes, 1, 1},
    {"duration", FDuration, 1, 1},
    {"duration_seconds", FDuration, 1, 1},
    {"unixEpochMillis", FUnixEpochMillis, 1, 1},
    {"unixEpochNanos", FUnixEpochNanos, 1, 1},
    {"toDateInZone", FToDateInZone, 3, 3},
    {"unixToTime", FUnixToTime, 1, 1},
    {"alignLeft", FAlignLeft, 2, 2},
    {"alignRight", FAlignRight, 2, 2},
    {"b64dec", FB64Dec, 1, 1},
    {"__line__", FLine, 0, 0},
    {"__timestamp__", FTimestamp, 0, 0},
    // Sprig functions Loki enables.
    {"b64enc", FB64Enc, 1, 1},
    {"lower", FToLower, 1, 1},
    {"upper", FToUpper, 1, 1},
    {"title", FTitle, 1, 1},
    {"trunc", FTrunc, 2, 2},
    {"substr", FSubstr, 3, 3},
    {"contains", FContains, 2, 2},
    {"hasPrefix", FHasPrefix, 2, 2},
    {"hasSuffix", FHasSuffix, 2, 2},
    {"indent", FIndent, 2, 2},
    {"nindent", FNindent, 2, 2},
    {"replace", FReplaceSprig, 3, 3},
    {"repeat", FRepeat, 2, 2},
    {"trim", FTrimSprig, 1, 1},
    {"trimAll", FTrimAll, 2, 2},
    {"trimSuffix", FTrimSuffixSprig, 2, 2},
    {"trimPrefix", FTrimPrefixSprig, 2, 2},
    {"int", FInt, 1, 1},
    {"float64", FFloat64, 1, 1},
    {"add", FAdd, 0, -1},
    {"sub", FSub, 2, 2},
    {"mul", FMul, 1, -1},
    {"div", FDiv, 2, 2},
    {"mod", FMod, 2, 2},
    {"addf", FAddf, 0, -1},
    {"subf", FSubf, 1, -1},
    {"mulf", FMulf, 1, -1},
    {"divf", FDivf, 1, -1},
    {"max", FMax, 1, -1},
    {"min", FMin, 1, -1},
    {"maxf", FMaxf, 1, -1},
    {"minf", FMinf, 1, -1},
    {"ceil", FCeil, 1, 1},
    {"floor", FFloor, 1, 1},
    {"round", FRound, 2, 3},
    {"fromJson", FFromJson, 1, 1},
    {"date", FDate, 2, 2},
    {"toDate", FToDate, 2, 2},
    {"now", FNow, 0, 0},
    {"unixEpoch", FUnixEpoch, 1, 1},
    {"default", FDefault, 1, -1},
    // text/template builtins.
    {"and", FAndOrPlaceholder, 1, -1},
    {"or", FAndOrPlaceholder, 1, -1},
    {"not", FNot, 1, 1},
    {"eq", FEq, 2, -1},
    {"ne", FNe, 2, 2},
    {"lt", FLt, 2, 2},
    {"le", FLe, 2, 2},
    {"gt", FGt, 2, 2},
    {"ge", FGe, 2, 2},
    {"len", FLen, 1, 1},
    {"index", FIndex, 1, -1},
    {"print", FPrint, 0, -1},
    {"printf", FPrintf, 1, -1},
    {"println", FPrintln, 0, -1},
    {"urlquery", FUrlQuery, 0, -1},
    {"html", FHtml, 0, -1},
    {"js", FJs, 0, -1},
};

}  // namespace

bool TakesRegexFirst(std::string_view name) {
  return name == "regexReplaceAll" || name == "regexReplaceAllLiteral" || name == "count";
}

const FuncSpec* FindTemplateFunc(std::string_view name) {
  for (const auto& f : kFuncs) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::string_view TypeName(const TValue& v) {
  switch (v.kind) {
    case Kind::kNil: return "<nil>";
    case Kind::kString: return "string";
    case Kind::kInt: return "int";
    case Kind::kInt64: return "int64";
    case Kind::kFloat: return "float64";
    case Kind::kBool: return "bool";
    case Kind::kTime: return "time.Time";
    case Kind::kMap: return "map[string]interface {}";
    case Kind::kList: return "[]interface {}";
    case Kind::kLabels: return "map[string]string";
  }
  return "?";
}

void PrintValue(const TValue& v, const TemplateContext& ctx, std::string* out) {
  if (v.kind == Kind::kNil) {
    out->append("<no value>");
    return;
  }
  if (v.kind == Kind::kString) {
    out->append(v.s);
    return;
  }
  out->append(Sprint(v, &ctx));
}

bool IsTrue(const TValue& v, const TemplateContext& ctx) {
  switch (v.kind) {
    case Kind::kNil: return false;
    case Kind::kString: return !v.s.empty();
    case Kind::kInt:
    case Kind::kInt64: return v.i != 0;
    case Kind::kFloat: return v.f != 0;
    case Kind::kBool: return v.b;
    case Kind::kMap: return v.map && !v.map->empty();
    case Kind::kList: return v.list && !v.list->empty();
    case Kind::kLabels: {
      bool any = false;
      if (ctx.snapshot) any = !ctx.snapshot->empty();
      else if (ctx.lbs) ctx.lbs->ForEach([&](std::string_view, std::string_view) { any = true; });
      return any;
    }
    case Kind::kTime: return true;
  }
  return false;
}

std::string FormatGoFloat(double f) {
  if (std::isnan(f)) return "NaN";
  if (std::isinf(f)) return f > 0 ? "+Inf" : "-Inf";
  if (f == 0) return std::signbit(f) ? "-0" : "0";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), f, std::chars_format::scientific);
  std::string_view s(buf, static_cast<size_t>(r.ptr - buf));
  bool neg = s[0] == '-';
  if (neg) s.remove_prefix(1);
  size_t e = s.find('e');
  int exp = std::atoi(std::string(s.substr(e + 1)).c_str());
  std::string digits;
  for (char c : s.substr(0, e)) {
    if (c != '.') digits.push_back(c);
  }
  std::string out = neg ? "-" : "";
  if (exp < -4 || exp >= 6) {  // strconv shortest %g: exponent form outside [-4, 6)
    out.push_back(digits[0]);
    if (digits.size() > 1) {
      out.push_back('.');
      out.append(digits.substr(1));
    }
    out.push_back('e');
    out.push_back(exp < 0 ? '-' : '+');
    int a = exp < 0 ? -exp : exp;
    if (a < 10) out.push_back('0');
    out += std::to_string(a);
    return out;
  }
  int dp = exp + 1;  // digits before the point
  if (dp <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-dp), '0');
    out += digits;
  } else if (static_cast<size_t>(dp) >= digits.size()) {
    out += digits;
    out.append(static_cast<size_t>(dp) - digits.size(), '0');
  } else {
    out += digits.substr(0, static_cast<size_t>(dp));
    out.push_back('.');
    out += digits.substr(static_cast<size_t>(dp));
  }
  return out;
}

std::string FormatGoTime(int64_t ts_ns, std::string_view layout) {
  TValue t = TimeFromNs(ts_ns);
  return FormatTime(t.i, t.nsec, layout);
}

}  // namespace otelbox::query::logql::internal
