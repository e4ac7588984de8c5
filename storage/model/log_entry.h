#pragma once
// The log half of the internal model (DESIGN.md "Internal model"): a stream is a label set
// (storage::Labels), an entry is (ns timestamp, line, structured metadata), as in Loki.

#include <cstdint>
#include <string>
#include <vector>

#include "storage/model/labels.h"

namespace otelbox::storage {

struct LogEntry {
  int64_t t_ns = 0;
  std::string line;
  // Structured metadata in the order it was sent (Loki keeps push order; names unique).
  std::vector<Label> metadata;
  bool operator==(const LogEntry&) const = default;
};

struct LogStream {
  Labels labels;                 // stream labels, sorted, no empty values
  std::vector<LogEntry> entries; // any order; out-of-order entries are accepted
};

// What every log receiver (OTLP logs, Loki push) produces and the log appender consumes.
struct LogBatch {
  std::vector<LogStream> streams;

  size_t EntryCount() const {
    size_t n = 0;
    for (const auto& s : streams) n += s.entries.size();
    return n;
  }
};

}  // namespace otelbox::storage
