// `| regexp "..."` and `| pattern "..."`: named captures become parsed labels.

#include <re2/re2.h>

#include <algorithm>

#include "absl/status/status.h"
#include "query/logql/json_scan.h"
#include "query/logql/pipeline_internal.h"

namespace otelbox::query::logql {

namespace {

// Prometheus' UTF-8 label-name validation (model.UTF8Validation): any non-empty valid UTF-8.
bool ValidLabelName(std::string_view n) {
  if (n.empty()) return false;
  std::string buf;
  return internal::ReplaceInvalidUtf8(n, &buf).data() == n.data();
}

class RegexpParser final : public Stage {
 public:
  RegexpParser(std::shared_ptr<const re2::RE2> re, std::vector<std::pair<int, std::string>> names)
      : re_(std::move(re)), names_(std::move(names)) {
    groups_.resize(static_cast<size_t>(re_->NumberOfCapturingGroups()) + 1);
  }

  bool Process(int64_t, std::string_view& line, LabelsBuilder& lbs) override {
    if (!re_->Match(line, 0, line.size(), RE2::UNANCHORED, groups_.data(),
                    static_cast<int>(groups_.size()))) {
      return true;  // no match: the line stays, nothing extracted
    }
    for (const auto& [index, name] : names_) {
      // Go's FindSubmatch yields nil for a group that did not take part: string(nil) == "".
      const auto& g = groups_[static_cast<size_t>(index)];
      lbs.AddParsed(name, g.data() ? std::string_view(g.data(), g.size()) : std::string_view());
    }
    return true;
  }

 private:
  std::shared_ptr<const re2::RE2> re_;
  std::vector<std::pair<int, std::string>> names_;  // group index, sanitized label name
  std::vector<re2::StringPiece> groups_;
};

class PatternParser final : public Stage {
 public:
  explicit PatternParser(internal::PatternMatcher m) : m_(std::move(m)) {}

  bool Process(int64_t, std::string_view& line, LabelsBuilder& lbs) override {
    m_.Matches(line, &captures_);
    const auto& names = m_.names();
    for (size_t i = 0; i < captures_.size() && i < names.size(); ++i) {
      lbs.AddParsed(names[i], captures_[i]);
    }
    return true;
  }

 private:
  internal::PatternMatcher m_;
  std::vector<std::string_view> captures_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Stage>> MakeRegexpParser(std::string_view regex) {
  // Go compiles a repeated group name and Loki rejects it afterwards; RE2 would reject it with
  // its own message, so look for repeats first.
  {
    std::vector<std::string_view> seen;
    for (size_t p = regex.find("(?"); p != std::string_view::npos; p = regex.find("(?", p + 1)) {
      if (p > 0 && regex[p - 1] == '\\') continue;
      size_t q = p + 2;
      if (q < regex.size() && regex[q] == 'P') ++q;
      if (q >= regex.size() || regex[q] != '<') continue;
      size_t close = regex.find('>', q);
      if (close == std::string_view::npos) continue;
      std::string_view name = regex.substr(q + 1, close - q - 1);
      for (std::string_view s : seen) {
        if (s == name) {
          return absl::InvalidArgumentError("duplicate extracted label name '" +
                                            std::string(name) + "'");
        }
      }
      seen.push_back(name);
    }
  }
  auto re = internal::CompileGoRegex(regex);
  if (!re.ok()) return re.status();
  if ((*re)->NumberOfCapturingGroups() == 0) {
    return absl::InvalidArgumentError("at least one named capture must be supplied");
  }
  std::vector<std::pair<int, std::string>> names;
  for (const auto& [name, index] : (*re)->NamedCapturingGroups()) {
    if (!ValidLabelName(name)) {
      return absl::InvalidArgumentError("invalid extracted label name '" + name + "'");
    }
    names.emplace_back(index, name);
  }
  if (names.empty()) {
    return absl::InvalidArgumentError("at least one named capture must be supplied");
  }
  std::sort(names.begin(), names.end());
  for (auto& [index, name] : names) {
    std::string s = SanitizeLabelKey(name);
    name = s;
  }
  names.erase(std::remove_if(names.begin(), names.end(),
                             [](const auto& n) { return n.second.empty(); }),
              names.end());
  return std::unique_ptr<Stage>(std::make_unique<RegexpParser>(std::move(*re), std::move(names)));
}

absl::StatusOr<std::unique_ptr<Stage>> MakePatternParser(std::string_view pattern) {
  auto m = internal::PatternMatcher::ForParser(pattern);
  if (!m.ok()) return m.status();
  for (const auto& n : m->names()) {
    if (!ValidLabelName(n)) {
      return absl::InvalidArgumentError("invalid capture label name '" + n + "'");
    }
  }
  return std::unique_ptr<Stage>(std::make_unique<PatternParser>(std::move(*m)));
}

}  // namespace otelbox::query::logql
