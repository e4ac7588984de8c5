#include "storage/model/sample.h"

namespace otelbox::storage {

const char* MetricTypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
    case MetricType::kGaugeHistogram: return "gaugehistogram";
    case MetricType::kSummary: return "summary";
    case MetricType::kInfo: return "info";
    case MetricType::kStateset: return "stateset";
    case MetricType::kUnknown: break;
  }
  return "unknown";
}

}  // namespace otelbox::storage
