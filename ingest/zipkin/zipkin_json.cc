#include "ingest/zipkin/zipkin_json.h"

#include <boost/json.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "ingest/string_util.h"

namespace otelbox::ingest::zipkin {
namespace {

namespace json = boost::json;

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Right-aligned into `out` (so a 64-bit trace id is left-padded with zeros).
template <size_t N>
bool ParseHexId(std::string_view hex, std::array<uint8_t, N>* out) {
  if (hex.empty() || hex.size() > 2 * N) return false;
  out->fill(0);
  std::string padded(2 * N - hex.size(), '0');
  padded.append(hex);
  for (size_t i = 0; i < N; ++i) {
    int hi = HexDigit(padded[2 * i]), lo = HexDigit(padded[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    (*out)[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return std::any_of(out->begin(), out->end(), [](uint8_t b) { return b != 0; });
}

// Tags named like resource semantic conventions move to the resource (the Collector uses
// the exact semconv list; prefixes cover it without a copy of that list).
bool IsResourceTag(std::string_view key) {
  static constexpr std::string_view kPrefixes[] = {
      "service.", "telemetry.", "host.",  "os.",    "process.", "container.",
      "k8s.",     "cloud.",     "faas.",  "deployment.", "device.", "webengine.",
      "aws.ecs.", "aws.eks.",   "aws.log.", "heroku.", "opencensus."};
  for (auto p : kPrefixes) {
    if (key.starts_with(p)) return true;
  }
  return false;
}

absl::StatusOr<std::string> TagString(const json::value& v, std::string_view key) {
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_bool()) return std::string(v.get_bool() ? "true" : "false");
  if (v.is_number()) return json::serialize(v);
  return absl::InvalidArgumentError(absl::StrCat("tag \"", AbslView(key), "\" must be a string"));
}

// A JSON number of microseconds → ns (negative or non-numeric: error).
bool Micros(const json::value& v, uint64_t* ns) {
  double d;
  if (v.is_uint64()) {
    *ns = v.get_uint64() * 1000;
    return true;
  }
  if (v.is_int64()) {
    if (v.get_int64() < 0) return false;
    *ns = static_cast<uint64_t>(v.get_int64()) * 1000;
    return true;
  }
  if (!v.is_double()) return false;
  d = v.get_double();
  if (!(d >= 0) || !std::isfinite(d)) return false;
  *ns = static_cast<uint64_t>(std::llround(d * 1000));
  return true;
}

storage::AttributeValue FromJson(const json::value& v) {
  storage::AttributeValue out;
  if (v.is_string()) {
    out.value = std::string(v.get_string());
  } else if (v.is_bool()) {
    out.value = v.get_bool();
  } else if (v.is_int64()) {
    out.value = v.get_int64();
  } else if (v.is_uint64()) {
    out.value = static_cast<int64_t>(v.get_uint64());
  } else if (v.is_double()) {
    const double d = v.get_double();
    if (std::fmod(d, 1.0) == 0.0 && std::fabs(d) < 9e18) {
      out.value = static_cast<int64_t>(d);
    } else {
      out.value = d;
    }
  }
  return out;
}

struct EndpointInfo {
  std::string service;
  std::string ipv4, ipv6;
  int64_t port = 0;
};

absl::StatusOr<EndpointInfo> ParseEndpoint(const json::value& v, const char* what) {
  EndpointInfo e;
  if (v.is_null()) return e;
  if (!v.is_object()) return absl::InvalidArgumentError(absl::StrCat(what, " must be an object"));
  const auto& o = v.get_object();
  if (auto* s = o.if_contains("serviceName"); s && s->is_string()) {
    // Zipkin lower-cases service names.
    e.service = absl::AsciiStrToLower(std::string(s->get_string()));
  }
  if (auto* s = o.if_contains("ipv4"); s && s->is_string()) e.ipv4 = std::string(s->get_string());
  if (auto* s = o.if_contains("ipv6"); s && s->is_string()) e.ipv6 = std::string(s->get_string());
  if (auto* s = o.if_contains("port"); s && s->is_number()) {
    e.port = s->is_int64() ? s->get_int64() : s->is_uint64() ? static_cast<int64_t>(s->get_uint64()) : 0;
  }
  return e;
}

int StatusFromTag(std::string_view v) {
  const std::string s = absl::AsciiStrToUpper(AbslView(v));
  if (s == "STATUS_CODE_OK" || s == "OK") return 1;
  if (s == "STATUS_CODE_ERROR" || s == "ERROR") return 2;
  return 0;
}

void AddEvent(storage::Span* span, uint64_t ts_ns, std::string_view value) {
  storage::SpanEvent ev;
  ev.time_unix_nano = ts_ns;
  // "name|{json attributes}|dropped" (the Collector's zipkin exporter); else the value is
  // the name.
  const size_t first = value.find('|');
  const size_t last = value.rfind('|');
  if (first != std::string_view::npos && last != first) {
    std::string_view attrs = value.substr(first + 1, last - first - 1);
    std::string_view dropped = value.substr(last + 1);
    boost::system::error_code ec;
    json::value parsed = json::parse(json::string_view(attrs.data(), attrs.size()), ec);
    uint32_t dropped_n = 0;
    bool dropped_ok = !dropped.empty() &&
                      std::all_of(dropped.begin(), dropped.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!ec && parsed.is_object() && dropped_ok && dropped.size() < 10) {
      for (char c : dropped) dropped_n = dropped_n * 10 + static_cast<uint32_t>(c - '0');
      ev.name = std::string(value.substr(0, first));
      for (const auto& kv : parsed.get_object()) {
        ev.attributes.push_back(storage::KeyValue{std::string(kv.key()), FromJson(kv.value())});
      }
      ev.dropped_attributes_count = dropped_n;
      span->events.push_back(std::move(ev));
      return;
    }
  }
  ev.name = std::string(value);
  span->events.push_back(std::move(ev));
}

}  // namespace

absl::StatusOr<storage::SpanBatch> DecodeZipkinV2Json(std::string_view body) {
  boost::system::error_code ec;
  json::value root = json::parse(json::string_view(body.data(), body.size()), ec);
  if (ec) return absl::InvalidArgumentError("cannot decode Zipkin v2 JSON: " + ec.message());
  if (!root.is_array()) {
    return absl::InvalidArgumentError("cannot decode Zipkin v2 JSON: expected an array of spans");
  }
  storage::SpanBatch batch;
  batch.spans.reserve(root.get_array().size());
  // Resources and scopes are shared by the spans that name the same ones.
  std::map<std::string, std::shared_ptr<const storage::Resource>> resources;  // by encoded attrs
  std::map<std::pair<std::string, std::string>, std::shared_ptr<const storage::InstrumentationScope>>
      scopes;
  size_t index = 0;
  for (const auto& item : root.get_array()) {
    const std::string where = absl::StrCat("span ", index++);
    if (!item.is_object()) return absl::InvalidArgumentError(where + ": expected an object");
    const auto& o = item.get_object();
    storage::Span s;
    const auto* trace_id = o.if_contains("traceId");
    if (trace_id == nullptr || !trace_id->is_string() ||
        !ParseHexId(std::string_view(trace_id->get_string()), &s.trace_id)) {
      return absl::InvalidArgumentError(where + ": traceId must be 16 or 32 hex characters");
    }
    const auto* id = o.if_contains("id");
    if (id == nullptr || !id->is_string() || id->get_string().size() > 16 ||
        !ParseHexId(std::string_view(id->get_string()), &s.span_id)) {
      return absl::InvalidArgumentError(where + ": id must be 16 hex characters");
    }
    if (const auto* p = o.if_contains("parentId"); p && !p->is_null()) {
      if (!p->is_string() || p->get_string().size() > 16 ||
          !ParseHexId(std::string_view(p->get_string()), &s.parent_span_id)) {
        return absl::InvalidArgumentError(where + ": parentId must be 16 hex characters");
      }
      if (s.parent_span_id == s.span_id) s.parent_span_id = {};
    }
    if (const auto* n = o.if_contains("name"); n && n->is_string()) s.name = std::string(n->get_string());
    std::map<std::string, std::string> tags;
    if (const auto* t = o.if_contains("tags"); t && !t->is_null()) {
      if (!t->is_object()) return absl::InvalidArgumentError(where + ": tags must be an object");
      for (const auto& kv : t->get_object()) {
        auto v = TagString(kv.value(), std::string_view(kv.key()));
        if (!v.ok()) return absl::InvalidArgumentError(where + ": " + std::string(v.status().message()));
        tags[std::string(kv.key())] = *std::move(v);
      }
    }
    std::string kind;
    if (const auto* k = o.if_contains("kind"); k && k->is_string()) kind = std::string(k->get_string());
    if (kind == "CLIENT") s.kind = storage::SpanKind::kClient;
    else if (kind == "SERVER") s.kind = storage::SpanKind::kServer;
    else if (kind == "PRODUCER") s.kind = storage::SpanKind::kProducer;
    else if (kind == "CONSUMER") s.kind = storage::SpanKind::kConsumer;
    else if (auto it = tags.find("span.kind"); it != tags.end()) {
      if (it->second == "internal") s.kind = storage::SpanKind::kInternal;
      tags.erase(it);
    }
    uint64_t ts = 0, dur = 0;
    if (const auto* t = o.if_contains("timestamp"); t && !t->is_null() && !Micros(*t, &ts)) {
      return absl::InvalidArgumentError(where + ": timestamp must be a non-negative number of microseconds");
    }
    if (const auto* d = o.if_contains("duration"); d && !d->is_null() && !Micros(*d, &dur)) {
      return absl::InvalidArgumentError(where + ": duration must be a non-negative number of microseconds");
    }
    s.start_time_unix_nano = ts;
    s.end_time_unix_nano = ts + dur;
    auto local = ParseEndpoint(o.contains("localEndpoint") ? o.at("localEndpoint") : json::value(),
                               "localEndpoint");
    if (!local.ok()) return absl::InvalidArgumentError(where + ": " + std::string(local.status().message()));
    auto remote = ParseEndpoint(o.contains("remoteEndpoint") ? o.at("remoteEndpoint") : json::value(),
                                "remoteEndpoint");
    if (!remote.ok()) return absl::InvalidArgumentError(where + ": " + std::string(remote.status().message()));

    if (auto it = tags.find("otel.status_code"); it != tags.end()) {
      s.status_code = static_cast<storage::StatusCode>(StatusFromTag(it->second));
      tags.erase(it);
      if (auto m = tags.find("otel.status_description"); m != tags.end()) {
        s.status_message = m->second;
        tags.erase(m);
      }
    }
    if (auto it = tags.find("error"); it != tags.end()) {
      s.status_code = storage::StatusCode::kError;
      if (it->second == "true") tags.erase(it);
    }
    if (auto it = tags.find("w3c.tracestate"); it != tags.end()) {
      s.trace_state = it->second;
      tags.erase(it);
    }
    // Resource: service name plus resource-like tags.
    std::vector<storage::KeyValue> res_attrs;
    if (!local->service.empty()) res_attrs.push_back({"service.name", {local->service}});
    std::string scope_name, scope_version;
    for (auto it = tags.begin(); it != tags.end();) {
      if (it->first == "otel.library.name" || it->first == "otel.scope.name") {
        scope_name = it->second;
        it = tags.erase(it);
      } else if (it->first == "otel.library.version" || it->first == "otel.scope.version") {
        scope_version = it->second;
        it = tags.erase(it);
      } else if (IsResourceTag(it->first)) {
        if (it->first != "service.name") res_attrs.push_back({it->first, {it->second}});
        it = tags.erase(it);
      } else {
        ++it;
      }
    }
    std::string res_key;
    for (const auto& kv : res_attrs) {
      absl::StrAppend(&res_key, kv.key, std::string(1, '\0'),
                      std::get<std::string>(kv.value.value), std::string(1, '\0'));
    }
    auto& res = resources[res_key];
    if (!res) {
      auto r = std::make_shared<storage::Resource>();
      r->attributes = res_attrs;
      res = std::move(r);
    }
    s.resource = res;
    auto& sc = scopes[{scope_name, scope_version}];
    if (!sc) {
      auto v = std::make_shared<storage::InstrumentationScope>();
      v->name = scope_name;
      v->version = scope_version;
      sc = std::move(v);
    }
    s.scope = sc;
    for (auto& [k, v] : tags) s.attributes.push_back({k, {std::move(v)}});
    const std::string& local_ip = !local->ipv6.empty() ? local->ipv6 : local->ipv4;
    if (!local_ip.empty()) s.attributes.push_back({"net.host.ip", {local_ip}});
    if (local->port > 0) s.attributes.push_back({"net.host.port", {local->port}});
    if (!remote->service.empty()) s.attributes.push_back({"peer.service", {remote->service}});
    const std::string& remote_ip = !remote->ipv6.empty() ? remote->ipv6 : remote->ipv4;
    if (!remote_ip.empty()) s.attributes.push_back({"net.peer.ip", {remote_ip}});
    if (remote->port > 0) s.attributes.push_back({"net.peer.port", {remote->port}});
    if (const auto* a = o.if_contains("annotations"); a && !a->is_null()) {
      if (!a->is_array()) return absl::InvalidArgumentError(where + ": annotations must be an array");
      for (const auto& an : a->get_array()) {
        if (!an.is_object()) return absl::InvalidArgumentError(where + ": annotation must be an object");
        uint64_t ats = 0;
        const auto* at = an.get_object().if_contains("timestamp");
        const auto* av = an.get_object().if_contains("value");
        if (at == nullptr || !Micros(*at, &ats) || av == nullptr || !av->is_string()) {
          return absl::InvalidArgumentError(where + ": annotation needs a timestamp and a string value");
        }
        AddEvent(&s, ats, std::string_view(av->get_string()));
      }
    }
    batch.spans.push_back(std::move(s));
  }
  return batch;
}

}  // namespace otelbox::ingest::zipkin
