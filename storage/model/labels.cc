#include "storage/model/labels.h"

#include <algorithm>

namespace otelbox::storage {

Labels::Labels(std::vector<Label> labels) {
  // Label sets read back from storage are sorted and unique already: taken as they are
  // (stable_sort allocates a buffer, and instant queries build thousands of sets).
  const bool canonical =
      std::adjacent_find(labels.begin(), labels.end(), [](const Label& a, const Label& b) {
        return !(a.name < b.name);
      }) == labels.end() &&
      std::none_of(labels.begin(), labels.end(), [](const Label& l) { return l.value.empty(); });
  if (canonical) {
    labels_ = std::move(labels);
    return;
  }
  // Stable sort keeps input order among equal names so "last wins" is well defined.
  std::stable_sort(labels.begin(), labels.end(),
                   [](const Label& a, const Label& b) { return a.name < b.name; });
  for (auto& l : labels) {
    if (!labels_.empty() && labels_.back().name == l.name) {
      labels_.back().value = std::move(l.value);
    } else {
      labels_.push_back(std::move(l));
    }
  }
  std::erase_if(labels_, [](const Label& l) { return l.value.empty(); });
}

std::string_view Labels::Get(std::string_view name) const {
  auto it = std::lower_bound(labels_.begin(), labels_.end(), name,
                             [](const Label& l, std::string_view n) { return l.name < n; });
  if (it != labels_.end() && it->name == name) return it->value;
  return {};
}

std::string Labels::ToString() const {
  std::string out = "{";
  for (size_t i = 0; i < labels_.size(); ++i) {
    if (i) out += ", ";
    out += labels_[i].name;
    out += "=\"";
    for (char c : labels_[i].value) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        default: out += c;
      }
    }
    out += '"';
  }
  out += "}";
  return out;
}

}  // namespace otelbox::storage
