#pragma once
// The label string of a Loki push stream, `{app="api", env="prod"}`, as Loki's distributor
// reads it (syntax.ParseLabels → Prometheus' ParseMetric): an optional metric name, then
// `name="value"` pairs separated by commas (a trailing comma is fine); values are
// double-quoted, single-quoted or backtick strings with Go escapes; label names are
// [a-zA-Z_][a-zA-Z0-9_]* or a double-quoted UTF-8 string. Empty values mean "absent".

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/model/labels.h"

namespace otelbox::ingest::loki {

// Labels in the order written, empty values dropped, a metric name as __name__.
// InvalidArgument with a Prometheus-parser-style message ("1:5: parse error: unexpected
// character '-' in label name") on bad syntax; duplicate names are left for validation.
absl::StatusOr<std::vector<storage::Label>> ParseStreamLabels(std::string_view text);

// True for a legacy (non-UTF-8-quoted) Prometheus label name.
bool IsLegacyLabelName(std::string_view name);

}  // namespace otelbox::ingest::loki
