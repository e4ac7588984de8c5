#pragma once
// Helpers for the LogQL pipeline stage tests: run stages over one entry and render the result.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "query/logql/log_pipeline.h"

namespace otelbox::query::logql::testing {

struct Entry {
  std::vector<Label> stream;    // sorted by name
  std::vector<Label> metadata;  // push order
  std::string line;
  int64_t ts_ns = 0;
};

struct Outcome {
  bool kept = false;
  std::string line;
  std::string labels;  // {a="1", b="2"} in name order, empty values kept
};

inline std::string Render(const std::vector<Label>& labels) {
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i) out += ", ";
    out += labels[i].name + "=\"" + labels[i].value + "\"";
  }
  return out + "}";
}

inline Outcome RunEntry(Pipeline& p, const Entry& e) {
  LabelsBuilder lbs;
  lbs.SetStream(&e.stream);
  lbs.StartEntry(e.metadata);
  std::string_view line = e.line;
  Outcome o;
  o.kept = p.Process(e.ts_ns, line, lbs);
  o.line = std::string(line);
  std::vector<Label> out;
  lbs.Labels(&out);
  o.labels = Render(out);
  return o;
}

inline Outcome RunEntry(std::unique_ptr<Stage> stage, const Entry& e) {
  Pipeline p;
  p.Add(std::move(stage));
  return RunEntry(p, e);
}

template <typename T>
std::unique_ptr<Stage> Must(absl::StatusOr<T> s) {
  EXPECT_TRUE(s.ok()) << s.status();
  if (!s.ok()) return nullptr;
  return std::move(*s);
}

inline std::vector<Label> L(std::initializer_list<Label> l) {
  std::vector<Label> v(l);
  std::sort(v.begin(), v.end(), [](const Label& a, const Label& b) { return a.name < b.name; });
  return v;
}

}  // namespace otelbox::query::logql::testing
