#pragma once
// OTLP metrics → the internal metric model, following Prometheus' OTLP receiver
// (contracts/otlp-to-prometheus.md §A, strategy UnderscoreEscapingWithSuffixes). A pure
// function: no I/O, no state.
//
// Documented choices where the contract leaves room or where our storage differs:
// - Label names use the OTel-spec/Collector sanitising variant (see SanitizeLabelName).
//   Attributes that collide after sanitising become one label whose values are joined with
//   ';' in lexical order of the original keys.
// - Delta temporality (Sum, Histogram, ExponentialHistogram) and unspecified temporality
//   are rejected, as Prometheus does by default: the points count as rejected in the
//   partial-success reply with "invalid temporality and type combination".
// - Exponential histograms become one native histogram series `<name>` (no _bucket/_sum/
//   _count), exactly as Prometheus' OTLP receiver converts them (§A5.1); explicit-bucket
//   histograms stay classic `_bucket{le}`/`_sum`/`_count` series (Prometheus' default).
// - Scope metadata is not promoted to labels (Prometheus' default promote_scope_metadata:
//   false), so no otel_scope_* labels.
// - `target_info` gets one sample (value 1) at the latest accepted data-point timestamp of
//   its resource, rather than Prometheus' extra samples every lookback/2.
// - A data point with no value set (neither as_double nor as_int) is read as 0.

#include <cstdint>
#include <string>

#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "storage/model/sample.h"

namespace otelbox::ingest::otlp {

struct MetricsTranslation {
  storage::MetricBatch batch;
  int64_t rejected_points = 0;  // OTLP data points not translated (partial success)
  std::string first_error;      // reason for the first rejected point, "" when none
  int64_t accepted_points = 0;
};

MetricsTranslation TranslateMetrics(
    const opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest& request);

}  // namespace otelbox::ingest::otlp
