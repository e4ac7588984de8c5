// `| line_format "tmpl"` and `| label_format dst=src, dst="tmpl"` (Loki's LineFormatter and
// LabelsFormatter).

#include "absl/status/status.h"
#include "query/logql/pipeline_internal.h"

namespace otelbox::query::logql {

namespace {

using internal::ExecuteTemplate;
using internal::Template;
using internal::TemplateContext;

class LineFormat final : public Stage {
 public:
  explicit LineFormat(std::shared_ptr<const Template> t)
      : t_(std::move(t)), simple_(internal::TemplateSimpleField(*t_)) {}

  bool Process(int64_t ts_ns, std::string_view& line, LabelsBuilder& lbs) override {
    if (!simple_.empty()) {
      // Loki's fast path for `{{.name}}`: the label's value (no error labels), or "".
      auto v = lbs.Get(simple_);
      if (v) {
        buf_.assign(*v);
      } else {
        buf_.clear();
      }
      line = buf_;
      return true;
    }
    TemplateContext ctx;
    ctx.lbs = &lbs;
    ctx.line = line;
    ctx.ts_ns = ts_ns;
    // `line` may point into buf_ (a previous line_format of this stage never does, but be safe).
    if (!ExecuteTemplate(*t_, ctx, &out_, &error_)) {
      lbs.SetError(kTemplateFormatErr);
      lbs.SetErrorDetails(error_);
      return true;  // the line stays as it was
    }
    std::swap(buf_, out_);
    line = buf_;
    return true;
  }

 private:
  std::shared_ptr<const Template> t_;
  std::string simple_;
  std::string buf_, out_, error_;
};

struct FormatItem {
  std::string dst;
  std::string src;                  // rename source
  std::shared_ptr<const Template> t;  // template, or null for a rename
};

class LabelFormat final : public Stage {
 public:
  explicit LabelFormat(std::vector<FormatItem> items) : items_(std::move(items)) {}

  bool Process(int64_t ts_ns, std::string_view& line, LabelsBuilder& lbs) override {
    bool have_snapshot = false;
    for (const auto& it : items_) {
      if (!it.t) {
        auto v = lbs.Get(it.src);
        if (v) {
          value_.assign(*v);
          lbs.Set(LabelCategory::kParsed, it.dst, value_);
          lbs.Del(it.src);
        }
        continue;
      }
      if (!have_snapshot) {
        // Loki builds the label map once, at the first template of the stage.
        snapshot_.clear();
        lbs.ForEach([&](std::string_view k, std::string_view v) {
          snapshot_.emplace_back(std::string(k), std::string(v));
        });
        have_snapshot = true;
      }
      TemplateContext ctx;
      ctx.snapshot = &snapshot_;
      ctx.line = line;
      ctx.ts_ns = ts_ns;
      if (!ExecuteTemplate(*it.t, ctx, &out_, &error_)) {
        lbs.SetError(kTemplateFormatErr);
        lbs.SetErrorDetails(error_);
        continue;
      }
      lbs.Set(LabelCategory::kParsed, it.dst, out_);
    }
    return true;
  }

 private:
  std::vector<FormatItem> items_;
  std::vector<std::pair<std::string, std::string>> snapshot_;
  std::string value_, out_, error_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Stage>> MakeLineFormat(std::string_view tmpl) {
  auto t = internal::ParseTemplate("line", tmpl);
  if (!t.ok()) {
    return absl::InvalidArgumentError("invalid line template: " + std::string(t.status().message()));
  }
  return std::unique_ptr<Stage>(std::make_unique<LineFormat>(std::move(*t)));
}

absl::StatusOr<std::unique_ptr<Stage>> MakeLabelFormat(const std::vector<LabelFormatItem>& items) {
  std::vector<FormatItem> out;
  for (const auto& it : items) {
    if (it.dst == kErrorLabel) {
      return absl::InvalidArgumentError(std::string(kErrorLabel) + " cannot be formatted");
    }
    for (const auto& prev : out) {
      if (prev.dst == it.dst) {
        return absl::InvalidArgumentError("multiple label name '" + it.dst +
                                          "' not allowed in a single format operation");
      }
    }
    FormatItem f;
    f.dst = it.dst;
    if (it.is_template) {
      auto t = internal::ParseTemplate("label", it.src_or_template);
      if (!t.ok()) {
        return absl::InvalidArgumentError("invalid template for label '" + it.dst + "': " +
                                          std::string(t.status().message()));
      }
      f.t = std::move(*t);
    } else {
      f.src = it.src_or_template;
    }
    out.push_back(std::move(f));
  }
  return std::unique_ptr<Stage>(std::make_unique<LabelFormat>(std::move(out)));
}

}  // namespace otelbox::query::logql
