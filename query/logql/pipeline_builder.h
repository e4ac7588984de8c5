#pragma once
// Turns a selector's stages (ast.h) into a runnable log_pipeline.h Pipeline.
//
// Line filters are moved ahead of the label-only stages before them (parsers, label
// filters, label_format, drop/keep) but never across a stage that rewrites the line
// (line_format, decolorize, unpack): a line filter's verdict does not depend on labels, so the result
// is the same and parsing is skipped for lines the filter drops (the scan hot path).

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "query/logql/ast.h"
#include "query/logql/log_pipeline.h"

namespace otelbox::query::logql {

// `json_labels`: parser hints for parameterless `| json` stages (MakeJsonParser's
// only_labels); null extracts every field.
absl::StatusOr<std::unique_ptr<Pipeline>> BuildPipeline(const std::vector<StageExpr>& stages,
                                                        const std::vector<std::string>* json_labels = nullptr);

// The post-unwrap label filters as a pipeline.
absl::StatusOr<std::unique_ptr<Pipeline>> BuildPostFilters(const UnwrapExpr& unwrap);

// `|= "literal"` strings that every returned line must contain (storage scan hints):
// leading positive single-term filters before any line-rewriting stage.
std::vector<std::string> RequiredLiterals(const std::vector<StageExpr>& stages);

}  // namespace otelbox::query::logql
