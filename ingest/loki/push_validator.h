#pragma once
// What Loki's distributor does to pushed streams before they are stored, shared by the
// Loki push and OTLP logs receivers (pkg/distributor/{distributor,validator}.go):
//   - service_name discovery for Loki pushes (first of service, app, application, …, job;
//     else "unknown_service");
//   - label checks: at least one label; at most `max_label_names_per_series` names (not
//     counting service_name); name / value length; no duplicate names;
//   - entry checks: line length (`max_line_size`), timestamp not too far in the future
//     (`creation_grace_period`); rejected entries are dropped, the rest of the stream kept;
//   - structured metadata names sanitised (otlptranslator label namer) and `detected_level`
//     added (detected_level.h).
// Each rejection produces Loki's message; GroupedErrorText() joins them as Loki's
// GroupedErrors does. The older-than-retention check belongs to storage (LogAppender).

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ingest/loki/push_request.h"
#include "storage/model/log_entry.h"

namespace otelbox::ingest::loki {

struct PushLimits {
  size_t max_line_size = 256 * 1024;        // Loki's max_line_size default (256KB)
  int max_label_names_per_series = 15;      // Loki's max_label_names_per_series
  size_t max_label_name_length = 1024;      // max_label_name_length
  size_t max_label_value_length = 2048;     // max_label_value_length
  int64_t creation_grace_period_ns = int64_t{10} * 60 * 1000000000;  // creation_grace_period 10m
  bool discover_log_levels = true;          // discover_log_levels
};

struct ValidatedPush {
  storage::LogBatch batch;          // what may be stored (streams with labels sorted)
  std::vector<std::string> errors;  // one message per rejected stream or entry
  int64_t rejected_entries = 0;
  int64_t accepted_entries = 0;
};

// Adds service_name as Loki's push parser does, unless the stream already has one.
void DiscoverServiceName(std::vector<storage::Label>* labels);

// Validates and converts. `now_ns` is the receive time (for the future-timestamp check).
ValidatedPush ValidatePush(std::vector<PushStream> streams, const PushLimits& limits,
                           int64_t now_ns);

// Loki's GroupedErrors.Error(): identical messages counted, "N errors like: <msg>" when
// more than one message or more than one occurrence, joined by "; ". First-seen order.
std::string GroupedErrorText(const std::vector<std::string>& errors);

}  // namespace otelbox::ingest::loki
