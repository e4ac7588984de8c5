#pragma once
// The upstream PromQL test-script language (promqltest `*.test` files), parsed into
// commands. The language is specified in ../shared/conformance/promql/FORMAT.md (§1-§10);
// section numbers below refer to that page. Pure: no storage, no engine.
//
// Native histogram literals `{{...}}` (§5) are parsed into FloatHistogram values; series
// expansion `{{A}}+{{D}}xN` adds with the engine's histogram arithmetic, as upstream does.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/model/histogram.h"
#include "storage/model/labels.h"

namespace otelbox::conformance {

// One position of a value sequence (§4).
struct SequenceValue {
  enum class Kind { kFloat, kOmitted, kStale, kHistogram };
  Kind kind = Kind::kFloat;
  double value = 0;       // kFloat; kStale holds the staleness-marker NaN
  std::string histogram;  // kHistogram: the literal between the braces, e.g. "schema:0 sum:5"
  storage::FloatHistogram h;  // kHistogram: the parsed value
  bool hint_set = false;      // kHistogram: counter_reset_hint was spelled out (§11)
  bool operator==(const SequenceValue&) const = default;
};

// `<series description> <value sequence>` (§3), used by `load` and by expected results.
struct SeriesLine {
  int line = 0;  // 1-based line in the file
  storage::Labels labels;
  std::vector<SequenceValue> values;
};

struct ClearCmd {
  int line = 0;
};

struct LoadCmd {
  int line = 0;
  int64_t interval_ms = 0;
  bool with_nhcb = false;        // load_with_nhcb (§7)
  bool has_start_timestamps = false;  // the block has `@st` lines (§6)
  // In file order; a later line with the same labels replaces an earlier one (the runner
  // applies that rule).
  std::vector<SeriesLine> series;
};

// `expect warn|info [msg: <text> | regex: <re>]` (§10, §12).
struct AnnotationExpectation {
  enum class Match { kAny, kMessage, kRegex };
  Match match = Match::kAny;
  std::string text;  // the message or the regex
};

struct ExpectedSeries {
  int position = 0;  // 1-based ordinal among the expected series lines (for `ordered`)
  SeriesLine series;
};

struct EvalCmd {
  int line = 0;
  std::string expr;
  bool is_range = false;
  int64_t start_ms = 0;  // instant: the evaluation time
  int64_t end_ms = 0;    // range only
  int64_t step_ms = 0;   // range only

  // Non-empty when the block could not be parsed: the case fails with this reason.
  std::string script_error;

  bool expect_fail = false;
  std::optional<std::string> fail_message;  // exact error text
  std::optional<std::string> fail_regex;    // unanchored RE2

  std::vector<AnnotationExpectation> warn;  // expect warn ...
  std::vector<AnnotationExpectation> info;  // expect info ...
  bool no_warn = false;
  bool no_info = false;
  bool require_warn = false;  // deprecated eval_warn header
  bool require_info = false;  // deprecated eval_info header

  bool ordered = false;

  // `expect range vector from a to b step s` on an instant query.
  bool expect_range_vector = false;
  int64_t range_start_ms = 0;
  int64_t range_end_ms = 0;
  int64_t range_step_ms = 0;

  std::optional<std::string> expected_string;
  std::optional<double> expected_scalar;
  // Expected series in file order (duplicates kept; the comparison lets the last win).
  std::vector<ExpectedSeries> expected;
};

using Command = std::variant<ClearCmd, LoadCmd, EvalCmd>;

struct Script {
  std::string name;  // file name, e.g. "functions.test"
  std::vector<Command> commands;
  // Problems outside eval blocks ("functions.test:12: ..."): bad load lines, unknown
  // commands. The runner reports them as errors of the file.
  std::vector<std::string> errors;
};

// Parses a whole script. Never fails as a whole: problems land in Script::errors or in
// EvalCmd::script_error.
Script ParseScript(std::string_view name, std::string_view text);

// ---- Building blocks, exposed for the unit test ----

// A value sequence (§4): "1+2x3 _ stale {{schema:0}}x1". InvalidArgument on bad items.
absl::StatusOr<std::vector<SequenceValue>> ParseSequence(std::string_view text);

// A series description at the start of `text` (§3): `name{l="v", ...}`; `*rest` receives
// what follows (not trimmed).
absl::StatusOr<storage::Labels> ParseSeriesDescription(std::string_view text,
                                                       std::string_view* rest);

// `<series description> <value sequence>`.
absl::StatusOr<SeriesLine> ParseSeriesLine(std::string_view text);

// The inside of a histogram literal (§5): "schema:0 sum:5 buckets:[1 2]". Sets *hint_set
// when counter_reset_hint is given.
absl::StatusOr<storage::FloatHistogram> ParseHistogramLiteral(std::string_view text,
                                                              bool* hint_set);

// A start-timestamp offset sequence (§6): "_ -30s-1mx2 -0ms"; omitted positions are
// std::nullopt.
absl::StatusOr<std::vector<std::optional<int64_t>>> ParseStartTimestampSequence(
    std::string_view text);

// A number of a value sequence: decimal (".8", "2.", "1e-3"), optional sign, Inf/NaN in
// any case. No hexadecimal (upstream's lexer disallows it in series descriptions).
std::optional<double> ParseSequenceNumber(std::string_view text);

// A bare number on an expectation line (Go's strconv.ParseInt(s, 0, 64), then
// ParseFloat): also "0x10", "0o17", "010" (octal), "+Inf", "NaN".
std::optional<double> ParseScalarNumber(std::string_view text);

// A Go string literal ("...", '...' or `...`) starting at text[*pos]; advances *pos past
// it. Go escapes (\n, \xHH, \u1234, \123, ...).
absl::StatusOr<std::string> ParseQuoted(std::string_view text, size_t* pos);

// Prometheus duration (§2) in ms: "1m30s", "0".
absl::StatusOr<int64_t> ParseScriptDuration(std::string_view text);

}  // namespace otelbox::conformance
