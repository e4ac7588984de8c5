// Small stages: drop, keep, decolorize, and the unwrap conversion.

#include <re2/re2.h>

#include "absl/status/status.h"
#include "query/logql/pipeline_internal.h"

namespace otelbox::query::logql {

namespace {

struct CompiledNamedMatcher {
  std::string name;
  std::optional<storage::Matcher> matcher;
};

absl::StatusOr<std::vector<CompiledNamedMatcher>> CompileNamed(
    const std::vector<NamedLabelMatcher>& items) {
  std::vector<CompiledNamedMatcher> out;
  for (const auto& it : items) {
    CompiledNamedMatcher c{it.name, std::nullopt};
    if (it.match) {
      auto m = storage::Matcher::Create(*it.match, it.name, it.value);
      if (!m.ok()) {
        // Report regex errors the way Go's regexp does.
        auto re = internal::CompileGoRegex(it.value, true);
        if (!re.ok()) return re.status();
        return m.status();
      }
      c.matcher = std::move(*m);
    }
    out.push_back(std::move(c));
  }
  return out;
}

bool IsErrorLabel(std::string_view n) { return n == kErrorLabel; }
bool IsErrorDetailsLabel(std::string_view n) { return n == kErrorDetailsLabel; }

class DropLabels final : public Stage {
 public:
  explicit DropLabels(std::vector<CompiledNamedMatcher> items) : items_(std::move(items)) {}
  bool Process(int64_t, std::string_view&, LabelsBuilder& lbs) override {
    for (const auto& it : items_) {
      if (IsErrorLabel(it.name)) {
        if (!it.matcher || it.matcher->Matches(lbs.error())) lbs.SetError("");
        continue;
      }
      if (IsErrorDetailsLabel(it.name)) {
        if (!it.matcher || it.matcher->Matches(lbs.error_details())) lbs.SetErrorDetails("");
        continue;
      }
      auto v = lbs.Get(it.name);
      if (!it.matcher) {
        if (v) lbs.Del(it.name);
        continue;
      }
      // Loki deletes when the matcher matches the value, "" for an absent label.
      if (it.matcher->Matches(v ? *v : std::string_view())) lbs.Del(it.name);
    }
    return true;
  }

 private:
  std::vector<CompiledNamedMatcher> items_;
};

class KeepLabels final : public Stage {
 public:
  explicit KeepLabels(std::vector<CompiledNamedMatcher> items) : items_(std::move(items)) {}
  bool Process(int64_t, std::string_view&, LabelsBuilder& lbs) override {
    if (items_.empty()) return true;
    to_delete_.clear();
    lbs.ForEach([&](std::string_view name, std::string_view value) {
      if (IsErrorLabel(name) || IsErrorDetailsLabel(name)) return;
      for (const auto& it : items_) {
        if (it.matcher) {
          if (it.matcher->name() == name && it.matcher->Matches(value)) return;
        } else if (it.name == name) {
          return;
        }
      }
      to_delete_.emplace_back(name);
    });
    for (const auto& n : to_delete_) lbs.Del(n);
    return true;
  }

 private:
  std::vector<CompiledNamedMatcher> items_;
  std::vector<std::string> to_delete_;
};

// github.com/acarl005/stripansi's expression, as Loki uses it.
constexpr const char* kAnsiPattern =
    "[\x1b\xc2\x9b][\\[\\]()#;?]*(?:(?:(?:[a-zA-Z\\d]*(?:;[a-zA-Z\\d]*)*)?\x07)|"
    "(?:(?:\\d{1,4}(?:;\\d{0,4})*)?[\\dA-PRZcf-ntqry=><~]))";

class Decolorize final : public Stage {
 public:
  Decolorize() {
    RE2::Options opts;
    opts.set_log_errors(false);
    re_ = std::make_unique<RE2>(kAnsiPattern, opts);
  }
  bool Process(int64_t, std::string_view& line, LabelsBuilder&) override {
    // Nothing to strip without an ESC or CSI (U+009B) byte: the common case costs one scan.
    if (line.find('\x1b') == std::string_view::npos &&
        line.find("\xc2\x9b") == std::string_view::npos) {
      return true;
    }
    buf_.assign(line);
    RE2::GlobalReplace(&buf_, *re_, "");
    line = buf_;
    return true;
  }

 private:
  std::unique_ptr<RE2> re_;
  std::string buf_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Stage>> MakeDropLabels(const std::vector<NamedLabelMatcher>& items) {
  auto c = CompileNamed(items);
  if (!c.ok()) return c.status();
  return std::unique_ptr<Stage>(std::make_unique<DropLabels>(std::move(*c)));
}

absl::StatusOr<std::unique_ptr<Stage>> MakeKeepLabels(const std::vector<NamedLabelMatcher>& items) {
  auto c = CompileNamed(items);
  if (!c.ok()) return c.status();
  return std::unique_ptr<Stage>(std::make_unique<KeepLabels>(std::move(*c)));
}

std::unique_ptr<Stage> MakeDecolorize() { return std::make_unique<Decolorize>(); }

bool Unwrap::Extract(LabelsBuilder& lbs, double* value) const {
  auto v = lbs.Get(label_);
  if (!v || v->empty()) return false;  // no label, no sample (not an error; Loki #6713)
  *value = 0;
  absl::Status err;
  switch (conversion_) {
    case UnwrapConversion::kNumber: {
      auto f = ParseGoFloat(*v);
      if (f.ok()) *value = *f;
      else err = f.status();
      break;
    }
    case UnwrapConversion::kDuration:
    case UnwrapConversion::kDurationSeconds: {
      auto d = ParseGoDuration(*v);
      if (d.ok()) {
        // time.Duration.Seconds(): whole seconds plus the fraction, to avoid precision loss.
        int64_t sec = *d / 1000000000, nsec = *d % 1000000000;
        *value = static_cast<double>(sec) + static_cast<double>(nsec) / 1e9;
      } else {
        err = d.status();
      }
      break;
    }
    case UnwrapConversion::kBytes: {
      auto b = ParseHumanBytes(*v);
      if (b.ok()) *value = static_cast<double>(*b);
      else err = b.status();
      break;
    }
  }
  if (!err.ok()) {
    lbs.SetError(kSampleExtractionErr);
    lbs.SetErrorDetails(std::string(err.message()));
  }
  return true;
}

}  // namespace otelbox::query::logql
