#pragma once
// OTLP → Prometheus naming rules (contracts/otlp-to-prometheus.md §A3, §A4, §A5) for the
// "UnderscoreEscapingWithSuffixes" strategy, Prometheus' default. Pure functions.

#include <string>
#include <string_view>

namespace otelbox::ingest {

// What the name builder needs to know about the metric's type.
enum class NameKind {
  kGauge,    // OTLP Gauge: unit "1" adds `_ratio`
  kCounter,  // monotonic Sum: adds `_total`
  kOther,    // non-monotonic Sum, histograms, summaries: unit suffix only
};

// The Prometheus metric family name for an OTel metric (§A3), e.g.
// ("http.server.request.duration", "s", kOther) → "http_server_request_duration_seconds".
// Returns "" when the name holds no legal character at all.
std::string BuildMetricName(std::string_view otel_name, std::string_view unit, NameKind kind);

// The unit as Prometheus metadata shows it (§A5): "s" → "seconds", "By/s" →
// "bytes_per_second", "{request}" → "", "1" → "".
std::string BuildUnitName(std::string_view unit);

// An OTel attribute key as a Prometheus label name (§A4), or "" when the result is not a
// usable name (empty or only underscores).
//
// Choice (documented in the contract as implementation-defined): the OpenTelemetry
// specification / Collector / Loki variant: every character outside [A-Za-z0-9_] becomes
// `_`, runs of underscores collapse to one `_`, a leading single `_` is kept, a leading digit
// gets the `key_` prefix, and reserved names of the form `__x__` are kept verbatim.
// Examples: "http.request.method" → "http_request_method", "a..b" → "a_b",
// "123x" → "key_123x", "_x" → "_x", "__meta__" → "__meta__", "..." → "".
std::string SanitizeLabelName(std::string_view key);

// A float as Go's strconv.FormatFloat(v, 'f', -1, 64) prints it, which is how Prometheus'
// OTLP receiver renders `le` and `quantile` values: "0.005", "1", "250", "+Inf", "-Inf", "NaN".
std::string FormatPromFloat(double v);

// A double attribute value in shortest round-trip form, JSON/ES6 style (§A4): "0.5",
// "1e-07", "1e+21", "3". Non-finite values print as "NaN", "Inf", "-Inf".
std::string FormatAttributeDouble(double v);

}  // namespace otelbox::ingest
