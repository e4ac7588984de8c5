#pragma once
// A label set: the identity of a metric series or a log stream (DESIGN.md "Internal model").

#include <compare>
#include <string>
#include <string_view>
#include <vector>

namespace otelbox::storage {

struct Label {
  std::string name;
  std::string value;
  auto operator<=>(const Label&) const = default;
};

// Sorted by name with unique names; labels with empty values are dropped, as in
// Prometheus where an empty value means "label absent".
class Labels {
 public:
  Labels() = default;
  // Sorts; when a name repeats, the last occurrence wins.
  explicit Labels(std::vector<Label> labels);
  Labels(std::initializer_list<Label> labels) : Labels(std::vector<Label>(labels)) {}

  // Value of `name`, or "" when absent.
  std::string_view Get(std::string_view name) const;
  bool Has(std::string_view name) const { return !Get(name).empty(); }

  const std::vector<Label>& items() const { return labels_; }
  auto begin() const { return labels_.begin(); }
  auto end() const { return labels_.end(); }
  size_t size() const { return labels_.size(); }
  bool empty() const { return labels_.empty(); }

  // Prometheus text form: {__name__="up", job="api"} (values escaped as Go %q does).
  std::string ToString() const;

  auto operator<=>(const Labels&) const = default;
  bool operator==(const Labels&) const = default;

 private:
  std::vector<Label> labels_;
};

inline constexpr std::string_view kMetricNameLabel = "__name__";

}  // namespace otelbox::storage
