#pragma once
// A label matcher as in PromQL/LogQL selectors: =, !=, =~, !~.

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace re2 { class RE2; }

namespace otelbox::storage {

enum class MatchType { kEqual, kNotEqual, kRegexMatch, kRegexNoMatch };

class Matcher {
 public:
  // Regexes are fully anchored, as Prometheus does. InvalidArgument for a bad regex.
  static absl::StatusOr<Matcher> Create(MatchType type, std::string name, std::string value);

  bool Matches(std::string_view value) const;
  // True when the matcher also selects series that lack the label (value "").
  bool MatchesEmpty() const { return Matches(""); }

  MatchType type() const { return type_; }
  const std::string& name() const { return name_; }
  const std::string& value() const { return value_; }
  // e.g. job=~"api.*"
  std::string ToString() const;

 private:
  Matcher() = default;
  MatchType type_ = MatchType::kEqual;
  std::string name_;
  std::string value_;
  std::shared_ptr<const re2::RE2> re_;  // shared: matchers are copied freely, RE2 is immutable
};

}  // namespace otelbox::storage
