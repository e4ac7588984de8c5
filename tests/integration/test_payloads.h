#pragma once
// Request bodies the integration tests send, built with our own generated protobuf classes.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "prometheus/remote.pb.h"

namespace otelbox::testing {

using LabelPairs = std::vector<std::pair<std::string, std::string>>;

// Adds one series with `samples` (t_ms, value) to `request`.
void AddSeries(prometheus::WriteRequest* request, const LabelPairs& labels,
               const std::vector<std::pair<int64_t, double>>& samples);
// Serialized and snappy-compressed, as remote_write sends it.
std::string SnappyBody(const prometheus::WriteRequest& request);
std::string Snappy(const std::string& raw);
std::vector<std::pair<std::string, std::string>> RemoteWriteHeaders();

// An OTLP request with one resource (service.name=`service`, service.instance.id=i-1) and
// a monotonic cumulative counter "requests" (unit "1") plus a histogram
// "http.server.request.duration" (unit "s", bounds 0.1, 1) at `t_ms`.
opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest OtlpRequest(
    const std::string& service, int64_t t_ms);

std::string Gzip(const std::string& raw);

int64_t NowMs();

}  // namespace otelbox::testing
