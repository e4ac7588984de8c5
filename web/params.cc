#include "web/params.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "absl/status/status.h"
#include "query/common/duration.h"
#include "query/promql/parser.h"

namespace otelbox::web {
namespace {

// Go's strconv.ParseFloat accepts what strtod does, minus leading spaces and hex without
// exponent subtleties we don't care about; require the whole text to be consumed.
bool ParseGoFloat(std::string_view text, double* out) {
  if (text.empty() || text.size() > 512) return false;
  char c0 = text[0];
  if (c0 == ' ' || c0 == '\t' || c0 == '\n' || c0 == '\r' || c0 == '\v' || c0 == '\f') return false;
  std::string s(text);
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) return false;
  if (errno == ERANGE && std::isinf(v)) return false;  // Go: "value out of range"
  *out = v;
  return true;
}

bool Digits(std::string_view s, size_t pos, size_t n, int64_t* out) {
  if (pos + n > s.size()) return false;
  int64_t v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// RFC3339 / RFC3339Nano as Go's time.Parse accepts them: 2006-01-02T15:04:05.999999999Z07:00.
bool ParseRfc3339Ms(std::string_view s, int64_t* out_ms) {
  int64_t year, month, day, hour, minute, second;
  if (!Digits(s, 0, 4, &year) || s.size() < 20 || s[4] != '-' || !Digits(s, 5, 2, &month) ||
      s[7] != '-' || !Digits(s, 8, 2, &day) || s[10] != 'T' || !Digits(s, 11, 2, &hour) ||
      s[13] != ':' || !Digits(s, 14, 2, &minute) || s[16] != ':' || !Digits(s, 17, 2, &second)) {
    return false;
  }
  static constexpr int kDaysIn[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || day > kDaysIn[month - 1] || hour > 23 ||
      minute > 59 || second > 59) {
    return false;
  }
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month == 2 && day == 29 && !leap) return false;
  size_t i = 19;
  int64_t frac_ms = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t start = i;
    int64_t scale = 100;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      frac_ms += (s[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
    if (i == start || i - start > 9) return false;
  }
  int64_t offset_s = 0;
  if (i < s.size() && s[i] == 'Z') {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int64_t oh, om;
    if (!Digits(s, i + 1, 2, &oh) || i + 3 >= s.size() || s[i + 3] != ':' ||
        !Digits(s, i + 4, 2, &om) || oh > 23 || om > 59) {
      return false;
    }
    offset_s = (oh * 3600 + om * 60) * (s[i] == '-' ? -1 : 1);
    i += 6;
  } else {
    return false;
  }
  if (i != s.size()) return false;
  int64_t secs = DaysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second -
                 offset_s;
  *out_ms = secs * 1000 + frac_ms;
  return true;
}

absl::Status InvalidParam(std::string_view name, const absl::Status& cause) {
  return absl::InvalidArgumentError("invalid parameter \"" + std::string(name) + "\": " +
                                    std::string(cause.message()));
}

}  // namespace

absl::StatusOr<int64_t> ParseTimeMs(std::string_view text) {
  double secs;
  if (ParseGoFloat(text, &secs) && !std::isnan(secs)) {
    // Huge values (a millisecond timestamp sent as seconds) are accepted, and clamped.
    if (secs >= static_cast<double>(storage::kMaxTimeMs) / 1000) return storage::kMaxTimeMs;
    if (secs <= static_cast<double>(storage::kMinTimeMs) / 1000) return storage::kMinTimeMs;
    double whole;
    double frac = std::modf(secs, &whole);
    return static_cast<int64_t>(whole) * 1000 + static_cast<int64_t>(std::llround(frac * 1000));
  }
  int64_t ms;
  if (ParseRfc3339Ms(text, &ms)) return ms;
  // Prometheus' minTime/maxTime formatted (what its own clients send for "all time").
  if (text == "-292273086-05-16T16:47:06Z") return storage::kMinTimeMs;
  if (text == "292277025-08-18T07:12:54.999999999Z") return storage::kMaxTimeMs;
  return absl::InvalidArgumentError("cannot parse \"" + std::string(text) +
                                    "\" to a valid timestamp");
}

absl::StatusOr<int64_t> ParseDurationMs(std::string_view text) {
  double secs;
  if (ParseGoFloat(text, &secs)) {
    double ms = secs * 1000;
    // Go compares nanoseconds against int64; we hold milliseconds.
    if (!(ms < 9.2e15 && ms > -9.2e15)) {
      return absl::InvalidArgumentError("cannot parse \"" + std::string(text) +
                                        "\" to a valid duration. It overflows int64");
    }
    return static_cast<int64_t>(std::llround(ms));
  }
  auto d = query::ParseDuration(text);
  if (d.ok()) return *d;
  return absl::InvalidArgumentError("cannot parse \"" + std::string(text) +
                                    "\" to a valid duration");
}

absl::StatusOr<int64_t> TimeParam(const HttpRequest& request, std::string_view name,
                                  int64_t default_ms) {
  std::string_view v = request.Param(name);
  if (v.empty()) return default_ms;
  auto t = ParseTimeMs(v);
  if (!t.ok()) return InvalidParam(name, t.status());
  return *t;
}

absl::StatusOr<int64_t> RequiredTimeParam(const HttpRequest& request, std::string_view name) {
  auto t = ParseTimeMs(request.Param(name));
  if (!t.ok()) return InvalidParam(name, t.status());
  return *t;
}

absl::StatusOr<int64_t> DurationParam(const HttpRequest& request, std::string_view name) {
  auto d = ParseDurationMs(request.Param(name));
  if (!d.ok()) return InvalidParam(name, d.status());
  return *d;
}

absl::StatusOr<size_t> LimitParam(const HttpRequest& request) {
  std::string_view v = request.Param("limit");
  if (v.empty()) return 0;
  bool neg = v[0] == '-';
  std::string_view digits = neg || v[0] == '+' ? v.substr(1) : v;
  // Prometheus' parseLimitParam: strconv.Atoi, then the sign; both errors name "limit".
  uint64_t n = 0;
  bool syntax_ok = !digits.empty();
  for (char c : digits) {
    if (c < '0' || c > '9') syntax_ok = false;
  }
  if (!syntax_ok) {
    return absl::InvalidArgumentError("invalid parameter \"limit\": strconv.Atoi: parsing \"" +
                                      std::string(v) + "\": invalid syntax");
  }
  bool in_range = true;
  for (char c : digits) {
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (n > (uint64_t{1} << 63) / 10 || n * 10 + d > (uint64_t{1} << 63) - (neg ? 0 : 1)) {
      in_range = false;
      break;
    }
    n = n * 10 + d;
  }
  if (!in_range) {
    return absl::InvalidArgumentError("invalid parameter \"limit\": strconv.Atoi: parsing \"" +
                                      std::string(v) + "\": value out of range");
  }
  if (neg && n != 0) {
    return absl::InvalidArgumentError("invalid parameter \"limit\": limit must be non-negative");
  }
  return static_cast<size_t>(n);
}

absl::StatusOr<std::vector<storage::MatcherSet>> MatchParams(const HttpRequest& request) {
  std::vector<storage::MatcherSet> sets;
  for (const auto& m : request.Params("match[]")) {
    auto matchers = query::promql::ParseMetricSelector(m);
    if (!matchers.ok()) return matchers.status();
    sets.push_back(std::move(*matchers));
  }
  return sets;
}

std::string UnescapeLabelName(std::string_view name) {
  constexpr std::string_view kPrefix = "U__";
  if (name.substr(0, kPrefix.size()) != kPrefix) return std::string(name);
  std::string_view escaped = name.substr(kPrefix.size());
  std::string out;
  for (size_t i = 0; i < escaped.size(); ++i) {
    if (escaped[i] != '_') {
      out.push_back(escaped[i]);
      continue;
    }
    ++i;
    if (i >= escaped.size()) return std::string(name);
    if (escaped[i] == '_') {
      out.push_back('_');
      continue;
    }
    // _<hex>_ : a code point.
    uint32_t value = 0;
    bool closed = false;
    for (int j = 0; i < escaped.size(); ++j) {
      if (j >= 6) return std::string(name);
      char c = escaped[i];
      if (c == '_') {
        closed = true;
        break;
      }
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      value *= 16;
      if (c >= '0' && c <= '9') {
        value += static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        value += static_cast<uint32_t>(c - 'a' + 10);
      } else {
        return std::string(name);
      }
      ++i;
    }
    if (!closed) return std::string(name);
    if (value > 0x10FFFF || (value >= 0xD800 && value < 0xE000)) return std::string(name);
    // UTF-8 encode.
    if (value < 0x80) {
      out.push_back(static_cast<char>(value));
    } else if (value < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (value >> 6)));
      out.push_back(static_cast<char>(0x80 | (value & 0x3F)));
    } else if (value < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (value >> 12)));
      out.push_back(static_cast<char>(0x80 | ((value >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (value & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (value >> 18)));
      out.push_back(static_cast<char>(0x80 | ((value >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((value >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (value & 0x3F)));
    }
  }
  return out;
}


}  // namespace otelbox::web
