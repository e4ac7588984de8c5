#include "web/loki_params.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <set>

#include "absl/status/status.h"
#include "web/params.h"

namespace otelbox::web {
namespace {

constexpr int64_t kNanosPerSecond = 1000000000;
constexpr int64_t kDefaultSinceNs = int64_t{3600} * kNanosPerSecond;

bool ParseInt64(std::string_view text, int64_t* out) {
  if (text.empty()) return false;
  const char* begin = text.data();
  if (*begin == '+') ++begin;  // Go's ParseInt accepts a leading sign
  auto [ptr, ec] = std::from_chars(begin, text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

absl::Status Wrap(std::string_view what, const absl::Status& cause) {
  return absl::InvalidArgumentError(std::string(what) + ": " + std::string(cause.message()));
}

}  // namespace

absl::StatusOr<int64_t> ParseLokiTimeNs(std::string_view text) {
  if (text.find('.') != std::string_view::npos) {
    std::string s(text);
    char* end = nullptr;
    const double secs = std::strtod(s.c_str(), &end);
    if (end == s.c_str() + s.size() && std::isfinite(secs)) {
      double whole;
      const double frac = std::modf(secs, &whole);
      // Loki rounds the fraction to milliseconds.
      return static_cast<int64_t>(whole) * kNanosPerSecond +
             static_cast<int64_t>(std::round(frac * 1000)) * 1000000;
    }
  }
  int64_t n = 0;
  if (ParseInt64(text, &n)) {
    if (text.size() <= 10) return n * kNanosPerSecond;
    return n;
  }
  // RFC3339 (Grafana Logs Drilldown sends 2025-01-01T10:00:00.000Z).
  if (text.size() >= 20 && text[4] == '-' && text[10] == 'T') {
    if (auto ms = ParseTimeMs(text); ms.ok()) return *ms * 1000000;
  }
  return absl::InvalidArgumentError("strconv.ParseInt: parsing \"" + std::string(text) +
                                    "\": invalid syntax");
}

absl::StatusOr<int64_t> ParseLokiDurationNs(std::string_view text) {
  auto ms = ParseDurationMs(text);
  if (!ms.ok()) {
    return absl::InvalidArgumentError("cannot parse \"" + std::string(text) +
                                      "\" to a valid duration");
  }
  return *ms * 1000000;
}

absl::StatusOr<LokiBounds> ParseLokiBounds(const HttpRequest& request, int64_t now_ns) {
  int64_t since_ns = kDefaultSinceNs;
  if (std::string_view since = request.Param("since"); !since.empty()) {
    auto d = ParseDurationMs(since);
    if (!d.ok()) {
      return Wrap("could not parse 'since' parameter",
                  absl::InvalidArgumentError("not a valid duration string: \"" +
                                             std::string(since) + "\""));
    }
    since_ns = *d * 1000000;
  }
  LokiBounds b;
  b.end_ns = now_ns;
  if (std::string_view end = request.Param("end"); !end.empty()) {
    auto t = ParseLokiTimeNs(end);
    if (!t.ok()) return Wrap("could not parse 'end' parameter", t.status());
    b.end_ns = *t;
  }
  b.start_ns = std::min(b.end_ns, now_ns) - since_ns;
  if (std::string_view start = request.Param("start"); !start.empty()) {
    auto t = ParseLokiTimeNs(start);
    if (!t.ok()) return Wrap("could not parse 'start' parameter", t.status());
    b.start_ns = *t;
  }
  return b;
}

absl::StatusOr<int64_t> ParseLokiLimit(const HttpRequest& request, int64_t def) {
  std::string_view text = request.Param("limit");
  if (text.empty()) return def;
  int64_t n = 0;
  if (!ParseInt64(text, &n)) {
    return absl::InvalidArgumentError("strconv.Atoi: parsing \"" + std::string(text) +
                                      "\": invalid syntax");
  }
  if (n <= 0) return absl::InvalidArgumentError("limit must be a positive value");
  if (n > 4294967295LL) {
    return absl::InvalidArgumentError("limit value " + std::string(text) +
                                      " is out of range [0, 4294967295]");
  }
  return n;
}

absl::StatusOr<bool> ParseLokiDirectionForward(const HttpRequest& request) {
  std::string v(request.Param("direction"));
  if (v.empty()) return false;
  std::string upper = v;
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (upper == "FORWARD") return true;
  if (upper == "BACKWARD") return false;
  return absl::InvalidArgumentError("invalid direction '" + v + "'");
}

std::vector<std::string> LokiSeriesMatchers(const HttpRequest& request) {
  std::set<std::string> unique;
  for (auto& m : request.Params("match[]")) unique.insert(m);
  for (auto& m : request.Params("match")) unique.insert(m);
  std::vector<std::string> out(unique.begin(), unique.end());
  if (out.size() == 1) {
    std::string compact;
    for (char c : out[0]) {
      if (c != ' ') compact.push_back(c);
    }
    if (compact == "{}") out.clear();
  }
  return out;
}

}  // namespace otelbox::web
