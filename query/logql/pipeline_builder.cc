#include "query/logql/pipeline_builder.h"

namespace otelbox::query::logql {
namespace {

// Stages that change the line: line filters never move across them. `unpack` replaces the
// line with the packed `_entry` value.
bool RewritesLine(const StageExpr& s) {
  return s.kind == StageExpr::Kind::kLineFormat || s.kind == StageExpr::Kind::kDecolorize ||
         s.kind == StageExpr::Kind::kUnpack;
}

absl::StatusOr<std::unique_ptr<Stage>> BuildStage(const StageExpr& s, const std::vector<std::string>* json_labels) {
  switch (s.kind) {
    case StageExpr::Kind::kLineFilter: return MakeLineFilter(s.filter_op, s.terms);
    case StageExpr::Kind::kLogfmt: return MakeLogfmtParser(s.strict, s.keep_empty, s.params);
    case StageExpr::Kind::kJson: return MakeJsonParser(s.params, json_labels);
    case StageExpr::Kind::kRegexp: return MakeRegexpParser(s.text);
    case StageExpr::Kind::kPattern: return MakePatternParser(s.text);
    case StageExpr::Kind::kUnpack: return MakeUnpackParser();
    case StageExpr::Kind::kLabelFilter: return MakeLabelFilter(s.label_filter.ToSpec());
    case StageExpr::Kind::kLineFormat: return MakeLineFormat(s.text);
    case StageExpr::Kind::kLabelFormat: return MakeLabelFormat(s.label_format);
    case StageExpr::Kind::kDrop: return MakeDropLabels(s.named);
    case StageExpr::Kind::kKeep: return MakeKeepLabels(s.named);
    case StageExpr::Kind::kDecolorize: return MakeDecolorize();
  }
  return absl::InternalError("BUG: unknown stage kind");
}

}  // namespace

absl::StatusOr<std::unique_ptr<Pipeline>> BuildPipeline(const std::vector<StageExpr>& stages,
                                                        const std::vector<std::string>* json_labels) {
  // Stable reorder: each line filter moves left past label-only stages.
  std::vector<const StageExpr*> order;
  size_t barrier = 0;  // first index a line filter may move to
  for (const StageExpr& s : stages) {
    if (s.kind == StageExpr::Kind::kLineFilter) {
      size_t pos = barrier;
      while (pos < order.size() && order[pos]->kind == StageExpr::Kind::kLineFilter) ++pos;
      order.insert(order.begin() + static_cast<std::ptrdiff_t>(pos), &s);
      barrier = pos + 1;
    } else {
      order.push_back(&s);
      if (RewritesLine(s)) barrier = order.size();
    }
  }
  auto p = std::make_unique<Pipeline>();
  for (const StageExpr* s : order) {
    auto st = BuildStage(*s, json_labels);
    if (!st.ok()) return st.status();
    p->Add(*std::move(st));
  }
  return p;
}

absl::StatusOr<std::unique_ptr<Pipeline>> BuildPostFilters(const UnwrapExpr& unwrap) {
  auto p = std::make_unique<Pipeline>();
  for (const LabelFilterExpr& f : unwrap.post_filters) {
    auto st = MakeLabelFilter(f.ToSpec());
    if (!st.ok()) return st.status();
    p->Add(*std::move(st));
  }
  return p;
}

std::vector<std::string> RequiredLiterals(const std::vector<StageExpr>& stages) {
  std::vector<std::string> out;
  for (const StageExpr& s : stages) {
    if (RewritesLine(s)) break;
    if (s.kind == StageExpr::Kind::kLineFilter && s.filter_op == LineFilterOp::kContains &&
        s.terms.size() == 1 && !s.terms[0].is_ip && !s.terms[0].value.empty()) {
      out.push_back(s.terms[0].value);
    }
  }
  return out;
}

}  // namespace otelbox::query::logql
