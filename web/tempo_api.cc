#include "web/tempo_api.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ctime>
#include <set>

#include "absl/strings/str_cat.h"
#include "web/json_writer.h"
#include "web/tempo_trace_encoding.h"

namespace otelbox::web {
namespace {

namespace traceql = query::traceql;
using storage::Intrinsic;
using storage::TraceScope;

constexpr uint64_t kNsPerSecond = 1'000'000'000;

// Debian's Abseil has its own string_view: spell the conversion for StrCat.
inline absl::string_view AV(std::string_view s) { return {s.data(), s.size()}; }

HttpResponse BadRequest(std::string message) {
  if (message.empty() || message.back() != '\n') message.push_back('\n');
  return HttpResponse::Text(400, std::move(message));
}

// Engine and storage errors → Tempo's status and plain-text body.
HttpResponse ErrorResponse(const absl::Status& s) {
  if (traceql::IsTraceQLQueryError(s)) {
    return BadRequest(absl::StrCat("invalid TraceQL query: ", s.message()));
  }
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kResourceExhausted: return BadRequest(std::string(s.message()));
    case absl::StatusCode::kDeadlineExceeded:
      return HttpResponse::Text(504, absl::StrCat(s.message(), "\n"));
    case absl::StatusCode::kUnavailable:
      return HttpResponse::Text(503, absl::StrCat(s.message(), "\n"));
    default: return HttpResponse::Text(500, absl::StrCat(s.message(), "\n"));
  }
}

std::string Hex(const uint8_t* data, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kHex[data[i] >> 4]);
    out.push_back(kHex[data[i] & 15]);
  }
  return out;
}

// Tempo prints trace ids in search results without leading zeros.
std::string TraceIdHex(const storage::TraceId& id) {
  std::string h = Hex(id.data(), id.size());
  size_t nz = h.find_first_not_of('0');
  return nz == std::string::npos ? "0" : h.substr(nz);
}

void AppendDouble(std::string* out, double d) {
  // proto3 JSON: NaN and infinities are strings.
  if (std::isnan(d)) {
    out->append("\"NaN\"");
  } else if (std::isinf(d)) {
    out->append(d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
  } else {
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof(buf), d);
    out->append(buf, r.ptr);
  }
}

void AppendQuoted(std::string* out, uint64_t v) { absl::StrAppend(out, "\"", v, "\""); }

std::string Base64(std::string_view in) {
  static constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += {kB64[v >> 18], kB64[(v >> 12) & 63], kB64[(v >> 6) & 63], kB64[v & 63]};
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += {kB64[v >> 18], kB64[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += {kB64[v >> 18], kB64[(v >> 12) & 63], kB64[(v >> 6) & 63], '='};
  }
  return out;
}

void AppendAnyValue(std::string* out, const storage::AttributeValue& v);

void AppendKeyValues(std::string* out, const std::vector<storage::KeyValue>& kvs) {
  out->push_back('[');
  for (size_t i = 0; i < kvs.size(); ++i) {
    if (i) out->push_back(',');
    out->append("{\"key\":");
    AppendJsonString(out, kvs[i].key);
    out->append(",\"value\":");
    AppendAnyValue(out, kvs[i].value);
    out->push_back('}');
  }
  out->push_back(']');
}

// OTLP AnyValue in proto3 JSON (intValue as a string).
void AppendAnyValue(std::string* out, const storage::AttributeValue& v) {
  struct Visitor {
    std::string* out;
    void operator()(const std::monostate&) { out->append("{}"); }
    void operator()(const std::string& s) {
      out->append("{\"stringValue\":");
      AppendJsonString(out, s);
      out->push_back('}');
    }
    void operator()(bool b) { out->append(b ? "{\"boolValue\":true}" : "{\"boolValue\":false}"); }
    void operator()(int64_t i) { absl::StrAppend(out, "{\"intValue\":\"", i, "\"}"); }
    void operator()(double d) {
      out->append("{\"doubleValue\":");
      AppendDouble(out, d);
      out->push_back('}');
    }
    void operator()(const storage::AttributeArray& a) {
      out->append("{\"arrayValue\":{\"values\":[");
      for (size_t i = 0; i < a.size(); ++i) {
        if (i) out->push_back(',');
        AppendAnyValue(out, a[i]);
      }
      out->append("]}}");
    }
    void operator()(const storage::AttributeList& l) {
      out->append("{\"kvlistValue\":{\"values\":");
      AppendKeyValues(out, l);
      out->append("}}");
    }
    void operator()(const storage::Bytes& b) {
      out->append("{\"bytesValue\":\"");
      out->append(Base64(b.data));
      out->append("\"}");
    }
  };
  std::visit(Visitor{out}, v.value);
}

// ---- parameters ----

absl::StatusOr<size_t> SizeParam(const HttpRequest& r, std::string_view name, size_t def) {
  std::string_view v = r.Param(name);
  if (v.empty()) return def;
  size_t out = 0;
  auto res = std::from_chars(v.data(), v.data() + v.size(), out);
  if (res.ec != std::errc() || res.ptr != v.data() + v.size()) {
    return absl::InvalidArgumentError(absl::StrCat("invalid ", AV(name), ": ", AV(v)));
  }
  return out;
}

struct Range {
  uint64_t start_ns = storage::kMinSpanTimeNs;
  uint64_t end_ns = storage::kMaxSpanTimeNs;
  bool given = false;
};

absl::StatusOr<Range> RangeParams(const HttpRequest& r) {
  Range range;
  std::string_view s = r.Param("start"), e = r.Param("end");
  if (!s.empty()) {
    auto v = ParseTempoTimeNs(s);
    if (!v.ok()) return absl::InvalidArgumentError(absl::StrCat("invalid start: ", v.status().message()));
    range.start_ns = *v;
    range.given = true;
  }
  if (!e.empty()) {
    auto v = ParseTempoTimeNs(e);
    if (!v.ok()) return absl::InvalidArgumentError(absl::StrCat("invalid end: ", v.status().message()));
    // Tempo's end is a whole second: include every span starting in it.
    range.end_ns = *v;
    if (*v % kNsPerSecond == 0 && *v <= storage::kMaxSpanTimeNs - kNsPerSecond) {
      range.end_ns = *v + kNsPerSecond - 1;
    }
    range.given = true;
  }
  if (range.start_ns > range.end_ns) {
    return absl::InvalidArgumentError("http parameter start must be before end");
  }
  return range;
}

// The `q` of tag endpoints narrows by its prefilter; an unparsable (half-typed) q is
// ignored, as Tempo does.
void ApplyTagFilter(const HttpRequest& r, storage::TagRequest* req) {
  std::string_view q = r.Param("q");
  if (q.empty()) return;
  auto f = traceql::ExtractTagFilter(q);
  if (!f.ok()) return;
  req->filter = std::move(f->conditions);
  req->all_conditions = f->all_conditions;
}

const char* TypeName(storage::TagValueType t) {
  switch (t) {
    case storage::TagValueType::kString: return "string";
    case storage::TagValueType::kInt: return "int";
    case storage::TagValueType::kDouble: return "float";
    case storage::TagValueType::kBool: return "bool";
    case storage::TagValueType::kDuration: return "duration";
    case storage::TagValueType::kStatus:
    case storage::TagValueType::kKind: return "keyword";
  }
  return "string";
}

constexpr const char* kIntrinsicTags[] = {
    "duration", "event:name", "event:timeSinceStart", "instrumentation:name",
    "instrumentation:version", "kind", "name", "rootName", "rootServiceName", "span:duration",
    "span:kind", "span:name", "span:status", "span:statusMessage", "status", "statusMessage",
    "trace:duration", "trace:rootName", "trace:rootService", "traceDuration"};

// A v2 tag name → what to ask storage for. `fixed` receives keyword lists that do not
// depend on data (status, kind); returns false for tags with no values (durations).
struct TagTarget {
  TraceScope scope = TraceScope::kUnscoped;
  Intrinsic intrinsic = Intrinsic::kNone;
  std::string key;
  std::vector<const char*> fixed;
  bool none = false;
};

TagTarget ResolveTag(std::string_view tag) {
  TagTarget t;
  struct Intr {
    const char* name;
    Intrinsic i;
  };
  static constexpr Intr kIntr[] = {
      {"name", Intrinsic::kName},           {"span:name", Intrinsic::kName},
      {"statusMessage", Intrinsic::kStatusMessage}, {"span:statusMessage", Intrinsic::kStatusMessage},
      {"rootName", Intrinsic::kRootName},   {"trace:rootName", Intrinsic::kRootName},
      {"rootServiceName", Intrinsic::kRootServiceName}, {"trace:rootService", Intrinsic::kRootServiceName},
      {"event:name", Intrinsic::kEventName}, {"instrumentation:name", Intrinsic::kScopeName},
      {"instrumentation:version", Intrinsic::kScopeVersion}};
  if (tag == "status" || tag == "span:status") {
    t.fixed = {"error", "ok", "unset"};
    return t;
  }
  if (tag == "kind" || tag == "span:kind") {
    t.fixed = {"client", "consumer", "internal", "producer", "server", "unspecified"};
    return t;
  }
  if (tag == "duration" || tag == "span:duration" || tag == "traceDuration" ||
      tag == "trace:duration" || tag == "event:timeSinceStart") {
    t.none = true;
    return t;
  }
  for (const auto& i : kIntr) {
    if (tag == i.name) {
      t.scope = TraceScope::kIntrinsic;
      t.intrinsic = i.i;
      return t;
    }
  }
  struct Prefix {
    const char* p;
    TraceScope s;
  };
  static constexpr Prefix kPrefixes[] = {{"resource.", TraceScope::kResource},
                                         {"span.", TraceScope::kSpan},
                                         {"event.", TraceScope::kEvent},
                                         {"link.", TraceScope::kLink},
                                         {"instrumentation.", TraceScope::kInstrumentation},
                                         {".", TraceScope::kUnscoped}};
  for (const auto& p : kPrefixes) {
    if (tag.starts_with(p.p) && tag.size() > std::string_view(p.p).size()) {
      t.scope = p.s;
      t.key = std::string(tag.substr(std::string_view(p.p).size()));
      return t;
    }
  }
  t.key = std::string(tag);  // a bare name: span or resource attribute
  return t;
}

int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes once more (Grafana 10.x–11.x double-encoded tag names).
std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexVal(s[i + 1]) >= 0 && HexVal(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexVal(s[i + 1]) * 16 + HexVal(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// TraceQL string literal.
std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

// logfmt pairs of the legacy `tags` parameter ("k=v k2=\"v 2\"").
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseLogfmt(std::string_view s) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t i = 0;
  auto token = [&](std::string* t) -> bool {
    t->clear();
    if (i < s.size() && s[i] == '"') {
      ++i;
      while (i < s.size() && s[i] != '"') {
        if (s[i] == '\\' && i + 1 < s.size()) ++i;
        t->push_back(s[i++]);
      }
      if (i >= s.size()) return false;
      ++i;
      return true;
    }
    while (i < s.size() && s[i] != ' ' && s[i] != '=') t->push_back(s[i++]);
    return true;
  };
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    if (i >= s.size()) break;
    std::string k, v;
    if (!token(&k) || k.empty()) return absl::InvalidArgumentError("invalid tags: " + std::string(s));
    if (i < s.size() && s[i] == '=') {
      ++i;
      if (!token(&v)) return absl::InvalidArgumentError("invalid tags: " + std::string(s));
    }
    out.emplace_back(std::move(k), std::move(v));
  }
  return out;
}

std::string DurationLiteral(int64_t ns) { return absl::StrCat(ns, "ns"); }

// Tempo's tag-based search (tags, minDuration, maxDuration) as the TraceQL it means.
absl::StatusOr<std::string> TagSearchQuery(const HttpRequest& r) {
  std::vector<std::string> conds;
  if (!r.Param("tags").empty()) {
    auto pairs = ParseLogfmt(r.Param("tags"));
    if (!pairs.ok()) return pairs.status();
    for (const auto& [k, v] : *pairs) {
      std::string lhs;
      if (k == "name") lhs = "name";
      else if (k == "root.name") lhs = "rootName";
      else if (k == "root.service.name") lhs = "rootServiceName";
      else if (k == "status.code") lhs = "status";
      else lhs = "." + k;
      if (lhs == "status") {
        conds.push_back("status = " + (v == "error" || v == "2" ? std::string("error")
                                       : v == "ok" || v == "1" ? std::string("ok")
                                                               : std::string("unset")));
        continue;
      }
      int64_t iv;
      auto res = std::from_chars(v.data(), v.data() + v.size(), iv);
      if (!v.empty() && res.ec == std::errc() && res.ptr == v.data() + v.size() && lhs[0] == '.') {
        conds.push_back(absl::StrCat("(", lhs, " = ", iv, " || ", lhs, " = ", Quote(v), ")"));
      } else if ((v == "true" || v == "false") && lhs[0] == '.') {
        conds.push_back(absl::StrCat("(", lhs, " = ", v, " || ", lhs, " = ", Quote(v), ")"));
      } else {
        conds.push_back(lhs + " = " + Quote(v));
      }
    }
  }
  for (auto [param, op] : {std::pair{"minDuration", ">="}, std::pair{"maxDuration", "<="}}) {
    if (r.Param(param).empty()) continue;
    auto d = ParseGoDurationNs(r.Param(param));
    if (!d.ok()) return absl::InvalidArgumentError(absl::StrCat("invalid ", param, ": ", d.status().message()));
    conds.push_back(absl::StrCat("traceDuration ", op, " ", DurationLiteral(*d)));
  }
  if (conds.empty()) return std::string("{}");
  std::string q = "{ ";
  for (size_t i = 0; i < conds.size(); ++i) {
    if (i) q += " && ";
    q += conds[i];
  }
  return q + " }";
}

void AppendSearchResponse(std::string* out, const traceql::SearchResponse& resp) {
  out->append("{\"traces\":[");
  for (size_t t = 0; t < resp.traces.size(); ++t) {
    const auto& tr = resp.traces[t];
    if (t) out->push_back(',');
    out->append("{\"traceID\":\"");
    out->append(TraceIdHex(tr.trace_id));
    out->append("\",\"rootServiceName\":");
    AppendJsonString(out, tr.root_service_name);
    if (!tr.root_trace_name.empty()) {
      out->append(",\"rootTraceName\":");
      AppendJsonString(out, tr.root_trace_name);
    }
    out->append(",\"startTimeUnixNano\":");
    AppendQuoted(out, tr.start_time_unix_nano);
    if (tr.duration_ms > 0) absl::StrAppend(out, ",\"durationMs\":", tr.duration_ms);
    std::string sets;
    std::string first;
    for (size_t i = 0; i < tr.span_sets.size(); ++i) {
      const auto& ss = tr.span_sets[i];
      std::string one = "{\"spans\":[";
      for (size_t j = 0; j < ss.spans.size(); ++j) {
        const auto& sp = ss.spans[j];
        if (j) one.push_back(',');
        one += "{\"spanID\":\"" + Hex(sp.span_id.data(), sp.span_id.size()) + "\"";
        if (!sp.name.empty()) {
          one += ",\"name\":";
          AppendJsonString(&one, sp.name);
        }
        one += ",\"startTimeUnixNano\":";
        AppendQuoted(&one, sp.start_time_unix_nano);
        one += ",\"durationNanos\":";
        AppendQuoted(&one, sp.duration_nanos);
        one += ",\"attributes\":";
        AppendKeyValues(&one, sp.attributes);
        one.push_back('}');
      }
      absl::StrAppend(&one, "],\"matched\":", ss.matched, ",\"attributes\":");
      AppendKeyValues(&one, ss.attributes);
      one.push_back('}');
      if (i) sets.push_back(',');
      sets += one;
      if (i == 0) first = one;
    }
    if (!first.empty()) out->append(",\"spanSet\":" + first);
    out->append(",\"spanSets\":[" + sets + "]");
    out->append(",\"serviceStats\":{");
    for (size_t i = 0; i < tr.service_stats.size(); ++i) {
      const auto& st = tr.service_stats[i];
      if (i) out->push_back(',');
      AppendJsonString(out, st.service);
      absl::StrAppend(out, ":{\"spanCount\":", st.span_count);
      if (st.error_count > 0) absl::StrAppend(out, ",\"errorCount\":", st.error_count);
      out->push_back('}');
    }
    out->append("}}");
  }
  absl::StrAppend(out, "],\"metrics\":{\"inspectedTraces\":", resp.metrics.inspected_traces,
                  ",\"inspectedBytes\":\"", resp.metrics.inspected_bytes,
                  "\",\"inspectedSpans\":\"", resp.metrics.inspected_spans,
                  "\",\"totalBlocks\":", resp.metrics.total_blocks,
                  ",\"completedJobs\":1,\"totalJobs\":1}}");
}

// Go's time.ParseDuration units.
bool UnitNs(std::string_view u, double* ns) {
  if (u == "ns") *ns = 1;
  else if (u == "us" || u == "µs" || u == "μs") *ns = 1e3;
  else if (u == "ms") *ns = 1e6;
  else if (u == "s") *ns = 1e9;
  else if (u == "m") *ns = 60e9;
  else if (u == "h") *ns = 3600e9;
  else return false;
  return true;
}

}  // namespace

absl::StatusOr<storage::TraceId> ParseTraceIdHex(std::string_view hex) {
  if (hex.empty() || hex.size() > 32) {
    return absl::InvalidArgumentError("invalid trace id: must be 1 to 32 hex characters");
  }
  std::string padded(32 - hex.size(), '0');
  padded.append(hex);
  storage::TraceId id{};
  for (size_t i = 0; i < 16; ++i) {
    int hi = HexVal(padded[2 * i]), lo = HexVal(padded[2 * i + 1]);
    if (hi < 0 || lo < 0) return absl::InvalidArgumentError("invalid trace id: not hex");
    id[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return id;
}

absl::StatusOr<int64_t> ParseGoDurationNs(std::string_view text) {
  std::string_view s = text;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return 0;
  if (s.empty()) return absl::InvalidArgumentError(absl::StrCat("invalid duration \"", AV(text), "\""));
  double total = 0;
  while (!s.empty()) {
    size_t n = 0;
    while (n < s.size() && ((s[n] >= '0' && s[n] <= '9') || s[n] == '.')) ++n;
    if (n == 0) return absl::InvalidArgumentError(absl::StrCat("invalid duration \"", AV(text), "\""));
    double v;
    auto r = std::from_chars(s.data(), s.data() + n, v);
    if (r.ec != std::errc() || r.ptr != s.data() + n) {
      return absl::InvalidArgumentError(absl::StrCat("invalid duration \"", AV(text), "\""));
    }
    s.remove_prefix(n);
    size_t u = 0;
    while (u < s.size() && !((s[u] >= '0' && s[u] <= '9') || s[u] == '.')) ++u;
    double unit;
    if (u == 0 || !UnitNs(s.substr(0, u), &unit)) {
      return absl::InvalidArgumentError(absl::StrCat("invalid duration \"", AV(text), "\": missing or unknown unit"));
    }
    s.remove_prefix(u);
    total += v * unit;
  }
  if (total > 9.2e18) return absl::InvalidArgumentError(absl::StrCat("invalid duration \"", AV(text), "\": overflow"));
  return static_cast<int64_t>(neg ? -total : total);
}

absl::StatusOr<uint64_t> ParseTempoTimeNs(std::string_view text) {
  // Integer: seconds, or nanoseconds when too large to be seconds.
  uint64_t u;
  auto r = std::from_chars(text.data(), text.data() + text.size(), u);
  if (r.ec == std::errc() && r.ptr == text.data() + text.size()) {
    if (u > 100'000'000'000ULL) return u;  // beyond year 5138 as seconds: nanoseconds
    return u * kNsPerSecond;
  }
  double d;
  auto rd = std::from_chars(text.data(), text.data() + text.size(), d);
  if (rd.ec == std::errc() && rd.ptr == text.data() + text.size() && d >= 0 && d < 1e11) {
    return static_cast<uint64_t>(std::llround(d * 1e9));
  }
  // RFC3339: 2006-01-02T15:04:05[.frac](Z|±hh:mm)
  std::tm tm{};
  int frac_digits = 0;
  uint64_t frac = 0;
  std::string s(text);
  const char* p = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (p != nullptr) {
    if (*p == '.') {
      ++p;
      while (*p >= '0' && *p <= '9') {
        if (frac_digits < 9) {
          frac = frac * 10 + static_cast<uint64_t>(*p - '0');
          ++frac_digits;
        }
        ++p;
      }
    }
    while (frac_digits < 9) {
      frac *= 10;
      ++frac_digits;
    }
    int64_t offset = 0;
    if (*p == 'Z' || *p == 'z') {
      ++p;
    } else if ((*p == '+' || *p == '-') && std::strlen(p) == 6 && p[3] == ':') {
      int sign = *p == '-' ? -1 : 1;
      offset = sign * ((p[1] - '0') * 10 + (p[2] - '0')) * 3600 + sign * ((p[4] - '0') * 10 + (p[5] - '0')) * 60;
      p += 6;
    } else {
      p = nullptr;
    }
    if (p != nullptr && *p == 0) {
      int64_t secs = static_cast<int64_t>(timegm(&tm)) - offset;
      if (secs >= 0) return static_cast<uint64_t>(secs) * kNsPerSecond + frac;
    }
  }
  return absl::InvalidArgumentError(absl::StrCat("cannot parse \"", AV(text), "\" as a time"));
}

TempoApi::TempoApi(storage::TraceQuerier* querier, query::traceql::Engine* engine,
                   TempoBuildInfo info, std::function<int64_t()> now_ms)
    : querier_(querier), engine_(engine), info_(std::move(info)), now_ms_(std::move(now_ms)) {}

void TempoApi::Register(Router* router) {
  const std::vector<std::string> kGet = {"GET", "POST"};
  router->Handle("/api/echo", kGet, [this](const HttpRequest& r) { return Echo(r); });
  router->HandlePrefix("/api/traces/", "", "traceID", kGet,
                       [this](const HttpRequest& r) { return TraceById(r, false); });
  router->HandlePrefix("/api/v2/traces/", "", "traceID", kGet,
                       [this](const HttpRequest& r) { return TraceById(r, true); });
  router->Handle("/api/search", kGet, [this](const HttpRequest& r) { return Search(r); });
  router->Handle("/api/search/tags", kGet, [this](const HttpRequest& r) { return SearchTags(r, false); });
  router->Handle("/api/v2/search/tags", kGet, [this](const HttpRequest& r) { return SearchTags(r, true); });
  router->HandlePrefix("/api/search/tag/", "/values", "tagName", kGet,
                       [this](const HttpRequest& r) { return SearchTagValues(r, false); });
  router->HandlePrefix("/api/v2/search/tag/", "/values", "tagName", kGet,
                       [this](const HttpRequest& r) { return SearchTagValues(r, true); });
  router->Handle("/api/metrics/query_range", kGet,
                 [this](const HttpRequest& r) { return MetricsQueryRange(r); });
  router->Handle("/api/metrics/query", kGet, [this](const HttpRequest& r) { return MetricsQueryInstant(r); });
  router->Handle("/api/status/buildinfo", kGet, [this](const HttpRequest& r) { return BuildInfo(r); });
}

HttpResponse TempoApi::Echo(const HttpRequest&) {
  return HttpResponse{200, "text/plain", "echo", {}};
}

HttpResponse TempoApi::TraceById(const HttpRequest& request, bool v2) {
  auto id = ParseTraceIdHex(request.path_tail);
  if (!id.ok()) return BadRequest(std::string(id.status().message()));
  auto range = RangeParams(request);
  if (!range.ok()) return BadRequest(std::string(range.status().message()));
  auto spans = querier_->FindTrace(TenantOf(request), *id, range->start_ns, range->end_ns);
  if (!spans.ok()) return ErrorResponse(spans.status());
  if (spans->empty()) return HttpResponse::Text(404, "trace not found\n");
  const std::string_view accept = request.Header("Accept");
  if (accept.find("application/protobuf") != std::string_view::npos) {
    return HttpResponse{200, "application/protobuf",
                        v2 ? EncodeTraceByIdResponseProto(*spans) : EncodeTraceProto(*spans), {}};
  }
  auto json = v2 ? EncodeTraceByIdResponseJson(*spans) : EncodeTraceJson(*spans);
  if (!json.ok()) return ErrorResponse(json.status());
  return HttpResponse::Json(200, *std::move(json));
}

HttpResponse TempoApi::Search(const HttpRequest& request) {
  auto limit = SizeParam(request, "limit", 20);
  if (!limit.ok()) return BadRequest(std::string(limit.status().message()));
  auto spss = SizeParam(request, "spss", 3);
  if (!spss.ok()) return BadRequest(std::string(spss.status().message()));
  auto range = RangeParams(request);
  if (!range.ok()) return BadRequest(std::string(range.status().message()));
  std::string query(request.Param("q"));
  if (query.empty()) {
    auto q = TagSearchQuery(request);
    if (!q.ok()) return BadRequest(std::string(q.status().message()));
    query = *std::move(q);
  }
  traceql::SearchRequest sr;
  sr.query = query;
  sr.start_ns = range->start_ns;
  sr.end_ns = range->end_ns;
  sr.limit = *limit == 0 ? 20 : *limit;
  sr.spans_per_spanset = *spss == 0 ? 3 : *spss;
  auto resp = engine_->Search(TenantOf(request), sr);
  if (!resp.ok()) return ErrorResponse(resp.status());
  std::string out;
  AppendSearchResponse(&out, *resp);
  return HttpResponse::Json(200, std::move(out));
}

HttpResponse TempoApi::SearchTags(const HttpRequest& request, bool v2) {
  auto limit = SizeParam(request, "limit", 0);
  if (!limit.ok()) return BadRequest(std::string(limit.status().message()));
  auto range = RangeParams(request);
  if (!range.ok()) return BadRequest(std::string(range.status().message()));
  storage::TagRequest req;
  req.start_ns = range->start_ns;
  req.end_ns = range->end_ns;
  req.limit = *limit;
  std::string_view scope = v2 ? request.Param("scope") : std::string_view();
  bool want[6] = {true, true, true, true, true, true};  // resource span intrinsic event link instr.
  if (!scope.empty() && scope != "none" && scope != "all") {
    static constexpr const char* kScopes[] = {"resource", "span", "intrinsic", "event", "link",
                                              "instrumentation"};
    int found = -1;
    for (int i = 0; i < 6; ++i) {
      if (scope == kScopes[i]) found = i;
    }
    if (found < 0) return BadRequest(absl::StrCat("invalid scope: ", AV(scope)));
    for (int i = 0; i < 6; ++i) want[i] = i == found;
    static constexpr TraceScope kMap[] = {TraceScope::kResource, TraceScope::kSpan,
                                          TraceScope::kIntrinsic, TraceScope::kEvent,
                                          TraceScope::kLink, TraceScope::kInstrumentation};
    req.scope = kMap[found];
  }
  ApplyTagFilter(request, &req);
  storage::ScopedTagNames names;
  if (req.scope != TraceScope::kIntrinsic) {
    auto n = querier_->TagNames(TenantOf(request), req);
    if (!n.ok()) return ErrorResponse(n.status());
    names = *std::move(n);
  }
  std::string out;
  if (!v2) {
    std::set<std::string> all(names.span.begin(), names.span.end());
    all.insert(names.resource.begin(), names.resource.end());
    std::vector<std::string> list(all.begin(), all.end());
    if (*limit > 0 && list.size() > *limit) list.resize(*limit);
    out = "{\"tagNames\":";
    AppendStringArray(&out, list);
    out += "}";
    return HttpResponse::Json(200, std::move(out));
  }
  std::vector<std::string> intrinsics(std::begin(kIntrinsicTags), std::end(kIntrinsicTags));
  const std::pair<const char*, const std::vector<std::string>*> scopes[] = {
      {"resource", &names.resource}, {"span", &names.span},   {"intrinsic", &intrinsics},
      {"event", &names.event},       {"link", &names.link},   {"instrumentation", &names.instrumentation}};
  out = "{\"scopes\":[";
  bool first = true;
  for (int i = 0; i < 6; ++i) {
    if (!want[i]) continue;
    if (!first) out.push_back(',');
    first = false;
    out += "{\"name\":\"";
    out += scopes[i].first;
    out += "\",\"tags\":";
    AppendStringArray(&out, *scopes[i].second);
    out.push_back('}');
  }
  out += "],\"metrics\":{\"inspectedBytes\":\"0\"}}";
  return HttpResponse::Json(200, std::move(out));
}

HttpResponse TempoApi::SearchTagValues(const HttpRequest& request, bool v2) {
  std::string tag = request.path_tail;
  if (tag.find('%') != std::string::npos) tag = PercentDecode(tag);
  auto limit = SizeParam(request, "limit", 0);
  if (!limit.ok()) return BadRequest(std::string(limit.status().message()));
  auto range = RangeParams(request);
  if (!range.ok()) return BadRequest(std::string(range.status().message()));
  TagTarget target = ResolveTag(tag);
  std::vector<storage::TagValue> values;
  if (!target.fixed.empty()) {
    for (const char* v : target.fixed) values.push_back({storage::TagValueType::kStatus, v});
  } else if (!target.none) {
    storage::TagRequest req;
    req.start_ns = range->start_ns;
    req.end_ns = range->end_ns;
    req.limit = *limit;
    req.scope = target.scope;
    req.intrinsic = target.intrinsic;
    req.key = target.key;
    ApplyTagFilter(request, &req);
    auto got = querier_->TagValues(TenantOf(request), req);
    if (!got.ok()) return ErrorResponse(got.status());
    values = *std::move(got);
  }
  std::string out;
  if (!v2) {
    std::vector<std::string> list;
    for (const auto& v : values) list.push_back(v.value);
    std::sort(list.begin(), list.end());
    list.erase(std::unique(list.begin(), list.end()), list.end());
    out = "{\"tagValues\":";
    AppendStringArray(&out, list);
    out += "}";
    return HttpResponse::Json(200, std::move(out));
  }
  out = "{\"tagValues\":[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out.push_back(',');
    out += "{\"type\":\"";
    out += TypeName(values[i].type);
    out += "\",\"value\":";
    AppendJsonString(&out, values[i].value);
    out.push_back('}');
  }
  out += "],\"metrics\":{}}";
  return HttpResponse::Json(200, std::move(out));
}

namespace {

struct MetricsParams {
  std::string query;
  uint64_t start_ns = 0, end_ns = 0, step_ns = 0;
  size_t exemplars = 0;
};

absl::StatusOr<MetricsParams> ParseMetricsParams(const HttpRequest& r, int64_t now_ms) {
  MetricsParams p;
  p.query = std::string(r.Param("q"));
  if (p.query.empty()) p.query = std::string(r.Param("query"));
  if (p.query.empty()) return absl::InvalidArgumentError("query is required (q)");
  const uint64_t now_ns = static_cast<uint64_t>(std::max<int64_t>(now_ms, 0)) * 1'000'000;
  p.end_ns = now_ns;
  p.start_ns = now_ns > 3600 * kNsPerSecond ? now_ns - 3600 * kNsPerSecond : 0;
  if (!r.Param("start").empty()) {
    auto v = ParseTempoTimeNs(r.Param("start"));
    if (!v.ok()) return absl::InvalidArgumentError(absl::StrCat("invalid start: ", v.status().message()));
    p.start_ns = *v;
  }
  if (!r.Param("end").empty()) {
    auto v = ParseTempoTimeNs(r.Param("end"));
    if (!v.ok()) return absl::InvalidArgumentError(absl::StrCat("invalid end: ", v.status().message()));
    p.end_ns = *v;
  }
  if (p.start_ns > p.end_ns) return absl::InvalidArgumentError("http parameter start must be before end");
  if (!r.Param("step").empty()) {
    auto d = ParseGoDurationNs(r.Param("step"));
    if (!d.ok() || *d <= 0) {
      return absl::InvalidArgumentError(absl::StrCat("invalid step: ", AV(r.Param("step"))));
    }
    p.step_ns = static_cast<uint64_t>(*d);
  }
  if (!r.Param("exemplars").empty()) {
    auto e = SizeParam(r, "exemplars", 0);
    if (!e.ok()) return e.status();
    p.exemplars = *e;
  }
  return p;
}

}  // namespace

HttpResponse TempoApi::MetricsQueryRange(const HttpRequest& request) {
  auto p = ParseMetricsParams(request, now_ms_ ? now_ms_() : 0);
  if (!p.ok()) return BadRequest(std::string(p.status().message()));
  traceql::MetricsRequest mr;
  mr.query = p->query;
  mr.start_ns = p->start_ns;
  mr.end_ns = p->end_ns;
  mr.step_ns = p->step_ns;
  mr.max_exemplars = p->exemplars;
  auto resp = engine_->MetricsQueryRange(TenantOf(request), mr);
  if (!resp.ok()) return ErrorResponse(resp.status());
  std::string out = "{\"series\":[";
  for (size_t i = 0; i < resp->series.size(); ++i) {
    const auto& s = resp->series[i];
    if (i) out.push_back(',');
    out += "{\"labels\":";
    AppendKeyValues(&out, s.labels);
    out += ",\"samples\":[";
    for (size_t j = 0; j < s.samples.size(); ++j) {
      if (j) out.push_back(',');
      absl::StrAppend(&out, "{\"timestampMs\":\"", s.samples[j].timestamp_ms, "\",\"value\":");
      AppendDouble(&out, s.samples[j].value);
      out.push_back('}');
    }
    out += "]";
    if (!s.exemplars.empty()) {
      out += ",\"exemplars\":[";
      for (size_t j = 0; j < s.exemplars.size(); ++j) {
        const auto& e = s.exemplars[j];
        if (j) out.push_back(',');
        out += "{\"labels\":";
        AppendKeyValues(&out, e.labels);
        out += ",\"value\":";
        AppendDouble(&out, e.value);
        absl::StrAppend(&out, ",\"timestampMs\":\"", e.timestamp_ms, "\"}");
      }
      out += "]";
    }
    out.push_back('}');
  }
  absl::StrAppend(&out, "],\"metrics\":{\"inspectedSpans\":\"", resp->inspected_spans,
                  "\",\"inspectedTraces\":\"", resp->inspected_traces, "\",\"inspectedBytes\":\"",
                  resp->inspected_bytes, "\"},\"status\":\"COMPLETE\"}");
  return HttpResponse::Json(200, std::move(out));
}

HttpResponse TempoApi::MetricsQueryInstant(const HttpRequest& request) {
  auto p = ParseMetricsParams(request, now_ms_ ? now_ms_() : 0);
  if (!p.ok()) return BadRequest(std::string(p.status().message()));
  traceql::MetricsRequest mr;
  mr.query = p->query;
  mr.start_ns = p->start_ns;
  mr.end_ns = p->end_ns;
  auto resp = engine_->MetricsQueryInstant(TenantOf(request), mr);
  if (!resp.ok()) return ErrorResponse(resp.status());
  // Decoded strictly by newer Grafana: only the fields of tempopb.QueryInstantResponse.
  std::string out = "{\"series\":[";
  for (size_t i = 0; i < resp->series.size(); ++i) {
    if (i) out.push_back(',');
    out += "{\"labels\":";
    AppendKeyValues(&out, resp->series[i].labels);
    out += ",\"value\":";
    AppendDouble(&out, resp->series[i].value);
    out.push_back('}');
  }
  absl::StrAppend(&out, "],\"metrics\":{\"inspectedSpans\":\"", resp->inspected_spans, "\"}}");
  return HttpResponse::Json(200, std::move(out));
}

HttpResponse TempoApi::BuildInfo(const HttpRequest&) {
  std::string out = "{\"version\":";
  AppendJsonString(&out, info_.version);
  out += ",\"revision\":";
  AppendJsonString(&out, info_.revision);
  out += ",\"branch\":";
  AppendJsonString(&out, info_.branch);
  out += ",\"buildDate\":";
  AppendJsonString(&out, info_.build_date);
  out += ",\"buildUser\":";
  AppendJsonString(&out, info_.build_user);
  out += ",\"goVersion\":";
  AppendJsonString(&out, info_.go_version);
  out += "}";
  return HttpResponse::Json(200, std::move(out));
}

}  // namespace otelbox::web
