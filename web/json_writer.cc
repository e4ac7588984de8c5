#include "web/json_writer.h"

#include <charconv>
#include <cmath>
#include <map>

#include "common/utf8.h"
#include "query/promql/ast_printer.h"
#include "query/promql/histogram_math.h"

namespace otelbox::web {
namespace {

constexpr char kHex[] = "0123456789abcdef";


}  // namespace

void AppendJsonString(std::string* out, std::string_view s) {
  out->push_back('"');
  for (size_t i = 0; i < s.size();) {
    uint32_t rune = 0;
    size_t n = DecodeUtf8(s, i, &rune);
    if (n == 0) {
      out->append("\\ufffd");
      ++i;
      continue;
    }
    if (n > 1) {
      if (rune == 0x2028 || rune == 0x2029) {
        out->append(rune == 0x2028 ? "\\u2028" : "\\u2029");
      } else {
        out->append(s.substr(i, n));
      }
      i += n;
      continue;
    }
    char c = s[i++];
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default: {
        unsigned char u = static_cast<unsigned char>(c);
        if (u < 0x20 || c == '<' || c == '>' || c == '&') {
          out->append("\\u00");
          out->push_back(kHex[u >> 4]);
          out->push_back(kHex[u & 0xF]);
        } else {
          out->push_back(c);
        }
      }
    }
  }
  out->push_back('"');
}

void AppendTimestamp(std::string* out, int64_t t_ms) {
  uint64_t abs_ms;
  if (t_ms < 0) {
    out->push_back('-');
    abs_ms = static_cast<uint64_t>(-(t_ms + 1)) + 1;
  } else {
    abs_ms = static_cast<uint64_t>(t_ms);
  }
  out->append(std::to_string(abs_ms / 1000));
  uint64_t frac = abs_ms % 1000;
  if (frac != 0) {
    // Prometheus writes all three digits ("1.500"), a JSON number either way.
    out->push_back('.');
    out->push_back(static_cast<char>('0' + frac / 100));
    out->push_back(static_cast<char>('0' + frac / 10 % 10));
    out->push_back(static_cast<char>('0' + frac % 10));
  }
}

void AppendSampleValue(std::string* out, double v) {
  out->push_back('"');
  // Prometheus' API switches to exponent form for very small and very large magnitudes
  // (Go strconv 'e' below 1e-6 and from 1e21), shortest round-trip digits either way.
  double abs = std::fabs(v);
  if (std::isfinite(v) && abs != 0 && (abs < 1e-6 || abs >= 1e21)) {
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
    out->append(buf, ec == std::errc() ? end : buf);
  } else {
    out->append(query::promql::FormatFloat(v));
  }
  out->push_back('"');
}

void AppendLabels(std::string* out, const storage::Labels& labels) {
  out->push_back('{');
  bool first = true;
  for (const auto& l : labels) {
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(out, l.name);
    out->push_back(':');
    AppendJsonString(out, l.value);
  }
  out->push_back('}');
}

void AppendStringArray(std::string* out, const std::vector<std::string>& items) {
  out->push_back('[');
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out->push_back(',');
    AppendJsonString(out, items[i]);
  }
  out->push_back(']');
}

namespace {

void AppendPoint(std::string* out, int64_t t_ms, double v) {
  out->push_back('[');
  AppendTimestamp(out, t_ms);
  out->push_back(',');
  AppendSampleValue(out, v);
  out->push_back(']');
}

// [t, {"count":"…","sum":"…","buckets":[[boundaries,"lower","upper","count"],…]}] as
// Prometheus' jsonutil.MarshalHistogram: empty buckets left out, "buckets" omitted when
// there are none; boundaries 0 = (lower, upper], 1 = [lower, upper), 2 = open, 3 = closed.
void AppendHistogramPoint(std::string* out, int64_t t_ms, const storage::FloatHistogram& h) {
  out->push_back('[');
  AppendTimestamp(out, t_ms);
  out->append(",{\"count\":");
  AppendSampleValue(out, h.count);
  out->append(",\"sum\":");
  AppendSampleValue(out, h.sum);
  bool first = true;
  for (const auto& b : query::promql::AllBuckets(h)) {
    if (b.count == 0) continue;
    out->append(first ? ",\"buckets\":[" : ",");
    first = false;
    int boundaries = b.lower_inclusive ? (b.upper_inclusive ? 3 : 1) : (b.upper_inclusive ? 0 : 2);
    out->push_back('[');
    out->append(std::to_string(boundaries));
    out->push_back(',');
    AppendSampleValue(out, b.lower);
    out->push_back(',');
    AppendSampleValue(out, b.upper);
    out->push_back(',');
    AppendSampleValue(out, b.count);
    out->push_back(']');
  }
  if (!first) out->push_back(']');
  out->append("}]");
}

struct ResultWriter {
  std::string* out;
  void operator()(const query::Scalar& s) const { AppendPoint(out, s.t_ms, s.v); }
  void operator()(const query::String& s) const {
    out->push_back('[');
    AppendTimestamp(out, s.t_ms);
    out->push_back(',');
    AppendJsonString(out, s.v);
    out->push_back(']');
  }
  void operator()(const query::Vector& v) const {
    out->push_back('[');
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) out->push_back(',');
      out->append("{\"metric\":");
      AppendLabels(out, v[i].labels);
      if (v[i].h) {
        out->append(",\"histogram\":");
        AppendHistogramPoint(out, v[i].t_ms, *v[i].h);
      } else {
        out->append(",\"value\":");
        AppendPoint(out, v[i].t_ms, v[i].v);
      }
      out->push_back('}');
    }
    out->push_back(']');
  }
  void operator()(const query::Matrix& m) const {
    out->push_back('[');
    for (size_t i = 0; i < m.size(); ++i) {
      if (i) out->push_back(',');
      out->append("{\"metric\":");
      AppendLabels(out, m[i].labels);
      // As Prometheus: "values" only with float points, "histograms" only with histograms.
      if (!m[i].samples.empty() || m[i].histograms.empty()) {
        out->append(",\"values\":[");
        for (size_t k = 0; k < m[i].samples.size(); ++k) {
          if (k) out->push_back(',');
          AppendPoint(out, m[i].samples[k].t_ms, m[i].samples[k].value);
        }
        out->push_back(']');
      }
      if (!m[i].histograms.empty()) {
        out->append(",\"histograms\":[");
        for (size_t k = 0; k < m[i].histograms.size(); ++k) {
          if (k) out->push_back(',');
          AppendHistogramPoint(out, m[i].histograms[k].t_ms, m[i].histograms[k].h);
        }
        out->push_back(']');
      }
      out->push_back('}');
    }
    out->push_back(']');
  }
};

}  // namespace

std::string RenderQueryData(const query::Value& value) {
  std::string out = "{\"resultType\":\"";
  out += query::ValueTypeName(value);
  out += "\",\"result\":";
  std::visit(ResultWriter{&out}, value);
  out += '}';
  return out;
}

std::string RenderSuccess(std::string_view data_json, const std::vector<std::string>& warnings,
                          const std::vector<std::string>& infos) {
  std::string out = "{\"status\":\"success\",\"data\":";
  out.append(data_json);
  if (!warnings.empty()) {
    out += ",\"warnings\":";
    AppendStringArray(&out, warnings);
  }
  if (!infos.empty()) {
    out += ",\"infos\":";
    AppendStringArray(&out, infos);
  }
  out += '}';
  return out;
}

std::string RenderExemplars(const std::vector<storage::SeriesExemplars>& exemplars) {
  std::string out = "[";
  for (size_t i = 0; i < exemplars.size(); ++i) {
    if (i) out += ',';
    out += "{\"seriesLabels\":";
    AppendLabels(&out, exemplars[i].series_labels);
    out += ",\"exemplars\":[";
    const auto& list = exemplars[i].exemplars;
    for (size_t k = 0; k < list.size(); ++k) {
      if (k) out += ',';
      out += "{\"labels\":";
      AppendLabels(&out, list[k].labels);
      out += ",\"value\":";
      AppendSampleValue(&out, list[k].value);
      out += ",\"timestamp\":";
      AppendTimestamp(&out, list[k].t_ms);
      out += '}';
    }
    out += "]}";
  }
  out += ']';
  return out;
}

std::string RenderMetadata(const std::vector<storage::MetricMetadata>& metadata) {
  // Grouped by family, families in name order (Go maps marshal sorted).
  std::map<std::string, std::vector<const storage::MetricMetadata*>> by_family;
  for (const auto& m : metadata) by_family[m.family].push_back(&m);
  std::string out = "{";
  bool first = true;
  for (const auto& [family, list] : by_family) {
    if (!first) out += ',';
    first = false;
    AppendJsonString(&out, family);
    out += ":[";
    for (size_t i = 0; i < list.size(); ++i) {
      if (i) out += ',';
      out += "{\"type\":";
      AppendJsonString(&out, storage::MetricTypeName(list[i]->type));
      out += ",\"help\":";
      AppendJsonString(&out, list[i]->help);
      out += ",\"unit\":";
      AppendJsonString(&out, list[i]->unit);
      out += '}';
    }
    out += ']';
  }
  out += '}';
  return out;
}

}  // namespace otelbox::web
