#pragma once
// `detected_level` structured metadata, added at ingestion as Loki's distributor does by
// default (-validation.discover-log-levels=true; contracts/otlp-to-prometheus.md §B4), so
// that Grafana's logs-volume histogram can group by level. Pure functions.

#include <string>
#include <string_view>
#include <vector>

#include "storage/model/labels.h"

namespace otelbox::ingest::loki {

inline constexpr std::string_view kDetectedLevel = "detected_level";

// Case-insensitive: trace|trc → trace, debug|dbg → debug, info|inf|information → info,
// warn|wrn|warning → warn, error|err → error, critical, fatal; anything else verbatim.
std::string NormalizeLogLevel(std::string_view level);

// Loki's resolution order: an existing `detected_level` in `metadata` is normalised in
// place; otherwise the first level field (level, LEVEL, Level, log.level, severity, …) in
// the stream labels, then in the metadata; then OTLP `severity_number`; then the line
// (a JSON field up to depth 2, a logfmt field, or the first level word); "unknown" when
// nothing says. Appends `detected_level` to `metadata` unless it was already there.
void AddDetectedLevel(const storage::Labels& stream_labels, std::string_view line,
                      std::vector<storage::Label>* metadata);

// The same with the stream-label step done once per stream: `stream_level` is
// LevelFromStreamLabels() of the entry's stream ("" when the stream has no level label).
void AddDetectedLevel(std::string_view stream_level, std::string_view line,
                      std::vector<storage::Label>* metadata);
std::string LevelFromStreamLabels(const storage::Labels& stream_labels);

// The level Loki guesses from a line alone (the last step above).
std::string DetectLevelFromLine(std::string_view line);

}  // namespace otelbox::ingest::loki
