#pragma once
// The LogQL log pipeline: the stages that run after a stream selector, one log entry at a time
// (line filters, parsers, label filters, formatters, drop/keep, decolorize) and the unwrap
// conversion of metric queries. Semantics are Loki 3.x's (pkg/logql/log); the LogQL parser
// builds stages from its AST through the factory functions below, which take plain values so
// the AST never depends on stage classes.
//
// How an engine runs a pipeline (one Pipeline + one LabelsBuilder per evaluating thread):
//
//   LabelsBuilder lbs;
//   for each stream:  lbs.SetStream(&stream.labels.items());
//     for each entry: lbs.StartEntry(entry.metadata);
//                     std::string_view line = entry.line;
//                     if (!pipeline.Process(entry.t_ns, line, lbs)) continue;   // dropped
//                     // `line` may now point into a stage's buffer: valid until the next
//                     // Process call. Labels: lbs.Labels(&buf) / lbs.Categorized().
//
// Thread-safety: stages keep scratch buffers, so a Stage / Pipeline / LabelsBuilder is used by
// one thread at a time. LineMatcher (the pure line-filter predicate) is immutable and may be
// shared, e.g. pushed down into a storage scan.
//
// Errors: factories return InvalidArgument with Loki's message text (e.g. "error parsing
// regexp: missing closing ): `(`", "at least one named capture must be supplied",
// "ip: invalid pattern", "template: ...: function \"nosuchfunc\" not defined"). Per-line
// failures never return errors: they set `__error__` (and `__error_details__`) as Loki does.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/model/labels.h"
#include "storage/model/matcher.h"

namespace otelbox::query::logql {

using storage::Label;

inline constexpr std::string_view kErrorLabel = "__error__";
inline constexpr std::string_view kErrorDetailsLabel = "__error_details__";
// Loki's __error__ values.
inline constexpr std::string_view kJsonParserErr = "JSONParserErr";
inline constexpr std::string_view kLogfmtParserErr = "LogfmtParserErr";
inline constexpr std::string_view kSampleExtractionErr = "SampleExtractionErr";
inline constexpr std::string_view kLabelFilterErr = "LabelFilterErr";
inline constexpr std::string_view kTemplateFormatErr = "TemplateFormatErr";
// Suffix a parser gives a field whose name is already a stream label or metadata name.
inline constexpr std::string_view kExtractedSuffix = "_extracted";

// Where a label of an entry comes from. Precedence for the plain name is
// stream > structured metadata > parsed; parsers put a clashing field under
// `<name>_extracted` (see AddParsed). Values are ordered for array indexing.
enum class LabelCategory : uint8_t { kStream = 0, kStructuredMetadata = 1, kParsed = 2 };

// An entry's final labels split as Loki's API returns them (`stream`, `structuredMetadata`,
// `parsed` with categorize-labels); each sorted by name. __error__/__error_details__ are parsed.
struct CategorizedLabels {
  std::vector<Label> stream;
  std::vector<Label> structured_metadata;
  std::vector<Label> parsed;
};

// The labels of the entry being processed: the stream's labels (borrowed, unchanged) plus
// per-entry additions by category, deletions and the error labels. Mirrors Loki's
// LabelsBuilder. Reset per entry keeps every buffer's capacity, so an entry that no stage
// changes costs no allocation. Values may be empty ("" is a real value for parsed labels,
// e.g. `json x="missing.path"` or `logfmt --keep-empty`).
class LabelsBuilder {
 public:
  LabelsBuilder();
  ~LabelsBuilder();
  LabelsBuilder(const LabelsBuilder&) = delete;
  LabelsBuilder& operator=(const LabelsBuilder&) = delete;

  // Sets the stream labels for the following entries. REQUIRES: sorted by name, unique names
  // (storage::Labels::items() qualifies); the vector must outlive its use until the next
  // SetStream. Also Reset()s.
  void SetStream(const std::vector<Label>* stream);
  // Clears what the previous entry added, deleted or failed. Keeps the stream.
  void Reset();
  // Reset(), then adds the entry's structured metadata as Loki does: a name that is also a
  // stream label goes to `<name>_extracted`; `__error__`/`__error_details__` set the error.
  void StartEntry(std::span<const Label> structured_metadata);

  // The current value of `name` (any category; deleted → nullopt). Does not see the error
  // labels; use error()/error_details() for those, as Loki's filters do.
  std::optional<std::string_view> Get(std::string_view name) const;
  // Which category currently provides `name` (only meaningful when Get(name) has a value).
  std::optional<LabelCategory> CategoryOf(std::string_view name) const;
  bool StreamHas(std::string_view name) const;  // Loki's BaseHas: original stream labels
  bool HasInCategory(std::string_view name, LabelCategory category) const;

  // Sets `name` in `category` with Loki's precedence rules (LabelsBuilder.Set): a parsed label
  // hides the same name from metadata and stream; metadata hides stream and is a no-op when
  // the name is already parsed; a stream set is a no-op when metadata or parsed has the name.
  void Set(LabelCategory category, std::string_view name, std::string_view value);
  // What parsers call for each extracted field: a name that is a stream label or metadata
  // becomes `<name>_extracted`; a name already extracted from this entry (by this or an
  // earlier parser) is skipped, so the first occurrence wins. Returns false when skipped.
  // `name` must already be sanitized.
  bool AddParsed(std::string_view name, std::string_view value);
  // The name AddParsed would use for `name` (with `_extracted` on a clash), in `*out`.
  void ParsedName(std::string_view name, std::string* out) const;
  // Deletes `name` from every category (and hides the stream label).
  void Del(std::string_view name);

  void SetError(std::string_view error);                 // "" clears
  void SetErrorDetails(std::string_view details);        // "" clears
  std::string_view error() const { return error_; }
  std::string_view error_details() const { return error_details_; }
  bool HasError() const { return !error_.empty(); }

  // True when nothing was added, deleted or failed: the labels are exactly the stream's.
  // Engines use it to reuse a per-stream result instead of calling Labels() per entry.
  bool Unchanged() const;
  // The final label set, sorted by name, into *out (cleared first): stream labels not hidden,
  // metadata not hidden by parsed, parsed labels, then __error__ / __error_details__ when set.
  // Copies the strings.
  void Labels(std::vector<Label>* out) const;
  // The same set split into categories (Loki's LabelsResult.Stream/StructuredMetadata/Parsed).
  CategorizedLabels Categorized() const;
  // Visits every final label (unsorted, including the error labels) without copying; what
  // templates and keep use.
  template <typename F>
  void ForEach(F&& visit) const;

  const std::vector<Label>& stream() const { return *stream_; }

 private:
  struct Slot {
    std::string name;
    std::string value;
  };
  // A vector of reusable string slots: clear() keeps the strings' capacity.
  struct SlotList {
    std::vector<Slot> slots;
    size_t size = 0;
    // One bit per (length, last byte) class of the names present: a clear bit proves absence,
    // so the common "not there yet" lookups of parsers skip the scan.
    uint64_t bloom = 0;
    static uint64_t Bit(std::string_view n) {
      return uint64_t{1} << ((n.size() * 7 + (n.empty() ? 0 : static_cast<unsigned char>(n.back()))) & 63);
    }
    Slot* Find(std::string_view name);
    const Slot* Find(std::string_view name) const;
    void Add(std::string_view name, std::string_view value);
    void Remove(std::string_view name);
    void Clear() {
      size = 0;
      bloom = 0;
    }
    std::span<Slot> Items() { return {slots.data(), size}; }
    std::span<const Slot> Items() const { return {slots.data(), size}; }
  };
  bool Deleted(std::string_view name) const;

  static const std::vector<Label> kNoLabels;
  const std::vector<Label>* stream_ = &kNoLabels;
  SlotList add_[3];      // by LabelCategory
  SlotList deleted_;     // names only
  SlotList extracted_;   // names a parser set on this entry (Loki's parser hints "Extracted")
  std::string error_;
  std::string error_details_;
};

// One pipeline stage. Process returns false to drop the entry. A stage that rewrites the line
// points `line` into a buffer it owns, valid until its next Process call.
class Stage {
 public:
  virtual ~Stage() = default;
  virtual bool Process(int64_t ts_ns, std::string_view& line, LabelsBuilder& lbs) = 0;
  // True for stages that only look at the line and never change labels or line (line filters):
  // an engine may run them before building labels, or push them into a storage scan.
  virtual bool IsLineFilter() const { return false; }
};

// A sequence of stages run in order; stops at the first stage that drops the entry.
class Pipeline {
 public:
  Pipeline() = default;
  explicit Pipeline(std::vector<std::unique_ptr<Stage>> stages) : stages_(std::move(stages)) {}
  void Add(std::unique_ptr<Stage> stage) { stages_.push_back(std::move(stage)); }
  bool empty() const { return stages_.empty(); }
  const std::vector<std::unique_ptr<Stage>>& stages() const { return stages_; }
  bool Process(int64_t ts_ns, std::string_view& line, LabelsBuilder& lbs) {
    for (auto& s : stages_) {
      if (!s->Process(ts_ns, line, lbs)) return false;
    }
    return true;
  }

 private:
  std::vector<std::unique_ptr<Stage>> stages_;
};

// ---------------------------------------------------------------------------------------------
// Line filters: |= != |~ !~ |> !>, with `or` chains and ip("...").

enum class LineFilterOp : uint8_t {
  kContains,     // |=
  kNotContains,  // !=
  kRegex,        // |~
  kNotRegex,     // !~
  kPattern,      // |>
  kNotPattern,   // !>
};

// One operand of a line filter's `or` chain: a string (substring, regex or pattern per the
// op), or ip("...") (only allowed with |= and !=; otherwise "ip: invalid operation").
struct LineFilterTerm {
  std::string value;
  bool is_ip = false;
};

// The pure predicate of one line filter (with its or-chain): immutable, thread-safe.
// Positive ops keep a line that matches any term; negative ops drop a line that matches any.
class LineMatcher {
 public:
  virtual ~LineMatcher() = default;
  virtual bool Matches(std::string_view line) const = 0;
};

absl::StatusOr<std::shared_ptr<const LineMatcher>> MakeLineMatcher(
    LineFilterOp op, const std::vector<LineFilterTerm>& terms);
// The stage form of MakeLineMatcher (IsLineFilter() is true).
absl::StatusOr<std::unique_ptr<Stage>> MakeLineFilter(LineFilterOp op,
                                                     const std::vector<LineFilterTerm>& terms);

// ---------------------------------------------------------------------------------------------
// Parsers.

// `label="expression"` parameter of json / logfmt (`json who="user.id"`, `logfmt code="status"`;
// a bare `logfmt level` is {"level", "level"}).
struct LabelExtraction {
  std::string label;
  std::string expression;
};

// `| json` (all fields, flattened with `_`) or `| json a="x.y", b="arr[0]"`.
// `only_labels` (Loki's parser hints): when non-null, a parameterless `| json` still validates
// the whole line (JSONParserErr as before) but adds only the labels named there (the query
// reads no others, e.g. `sum by (level)`); the vector is copied.
absl::StatusOr<std::unique_ptr<Stage>> MakeJsonParser(const std::vector<LabelExtraction>& params,
                                                      const std::vector<std::string>* only_labels = nullptr);
// `| logfmt [--strict] [--keep-empty] [params]`.
absl::StatusOr<std::unique_ptr<Stage>> MakeLogfmtParser(bool strict, bool keep_empty,
                                                       const std::vector<LabelExtraction>& params);
// `| regexp "re"` (Go syntax, named groups (?P<name>...) or (?<name>...)).
absl::StatusOr<std::unique_ptr<Stage>> MakeRegexpParser(std::string_view regex);
// `| pattern "<a> <_> <b>"`.
absl::StatusOr<std::unique_ptr<Stage>> MakePatternParser(std::string_view pattern);
// `| unpack`.
absl::StatusOr<std::unique_ptr<Stage>> MakeUnpackParser();

// ---------------------------------------------------------------------------------------------
// Label filters: `| name="v"`, `| status >= 500`, `| took > 1s`, `| size > 1MB`,
// `| addr = ip("10.0.0.0/8")`, combined with and (`and`, `,`, space) / or and parentheses.

enum class CompareOp : uint8_t { kEq, kNeq, kGt, kGte, kLt, kLte };  // `=` and `==` are kEq

struct LabelFilterSpec {
  enum class Kind : uint8_t { kString, kNumber, kDuration, kBytes, kIp, kAnd, kOr };
  Kind kind = Kind::kString;
  std::string name;  // the label (leaves)
  // kString: op =, !=, =~, !~ (regexes fully anchored, as in selectors) against `text`.
  storage::MatchType match = storage::MatchType::kEqual;
  std::string text;  // kString: the value; kIp: the ip("...") pattern
  // kNumber/kDuration/kBytes: comparison against the literal; kIp: only kEq / kNeq.
  CompareOp cmp = CompareOp::kEq;
  double number = 0;         // kNumber
  int64_t duration_ns = 0;   // kDuration
  uint64_t bytes = 0;        // kBytes
  std::vector<LabelFilterSpec> children;  // kAnd / kOr: exactly two (left, right)

  static LabelFilterSpec String(std::string name, storage::MatchType m, std::string value);
  static LabelFilterSpec Number(std::string name, CompareOp op, double v);
  static LabelFilterSpec Duration(std::string name, CompareOp op, int64_t ns);
  static LabelFilterSpec Bytes(std::string name, CompareOp op, uint64_t b);
  static LabelFilterSpec Ip(std::string name, CompareOp op, std::string pattern);
  static LabelFilterSpec And(LabelFilterSpec l, LabelFilterSpec r);
  static LabelFilterSpec Or(LabelFilterSpec l, LabelFilterSpec r);
};

absl::StatusOr<std::unique_ptr<Stage>> MakeLabelFilter(const LabelFilterSpec& spec);

// ---------------------------------------------------------------------------------------------
// Formatters.

// `| line_format "{{.a}} {{ .b | ToUpper }}"`.
absl::StatusOr<std::unique_ptr<Stage>> MakeLineFormat(std::string_view tmpl);

// One `dst=src` (rename) or `dst="{{template}}"` item of label_format.
struct LabelFormatItem {
  std::string dst;
  std::string src_or_template;
  bool is_template = false;
};
absl::StatusOr<std::unique_ptr<Stage>> MakeLabelFormat(const std::vector<LabelFormatItem>& items);

// One item of drop / keep: a bare name, or name with a matcher (`code="500"`, `a=~"x.*"`).
struct NamedLabelMatcher {
  std::string name;
  std::optional<storage::MatchType> match;  // nullopt: the bare name
  std::string value;
};
absl::StatusOr<std::unique_ptr<Stage>> MakeDropLabels(const std::vector<NamedLabelMatcher>& items);
absl::StatusOr<std::unique_ptr<Stage>> MakeKeepLabels(const std::vector<NamedLabelMatcher>& items);

// `| decolorize`: strips ANSI escape sequences from the line.
std::unique_ptr<Stage> MakeDecolorize();

// ---------------------------------------------------------------------------------------------
// Unwrap (metric queries): `| unwrap latency`, `unwrap duration(d)`, `duration_seconds(d)`,
// `bytes(b)`.

enum class UnwrapConversion : uint8_t { kNumber, kDuration, kDurationSeconds, kBytes };

// Reads and converts the unwrapped label after the pre-unwrap stages ran. Loki's order:
//   pre-stages → Extract → post-unwrap label filters (stages after `unwrap`) → result labels.
// Extract returns false when the label is absent or empty (the entry yields no sample, no
// error). A conversion failure sets __error__=SampleExtractionErr + details and returns true
// with *value = 0; the engine fails the query if the error survives the post filters.
// Result labels: Loki drops the unwrapped label unless the range aggregation groups `by` it
// (grouping is the engine's job: with no grouping or `without`, add the label to `without`).
class Unwrap {
 public:
  Unwrap(std::string label, UnwrapConversion conversion)
      : label_(std::move(label)), conversion_(conversion) {}
  bool Extract(LabelsBuilder& lbs, double* value) const;
  const std::string& label() const { return label_; }

 private:
  std::string label_;
  UnwrapConversion conversion_;
};

// Conversions shared with the parser (literals) and templates; Loki's exact rules and messages.
// Go strconv.ParseFloat: decimal/hex floats, inf/nan, underscores only between digits in
// base-prefixed forms. Error text as Go: `strconv.ParseFloat: parsing "x": invalid syntax`.
absl::StatusOr<double> ParseGoFloat(std::string_view s);
// Go time.ParseDuration ("1h30m", "500ms", "-5s", "1.5h"; no d/w/y), in nanoseconds.
absl::StatusOr<int64_t> ParseGoDuration(std::string_view s);
// go-humanize ParseBytes ("1KB"=1000, "1KiB"=1024, "1.5KB", "2,048", case-insensitive units).
absl::StatusOr<uint64_t> ParseHumanBytes(std::string_view s);

// ---------------------------------------------------------------------------------------------
// Helpers the parser may reuse.

// Loki's sanitizeLabelKey(key, isPrefix=true): trims spaces, prefixes `_` when it starts with a
// digit, maps every char outside [a-zA-Z0-9_] to `_`. Empty result = not a usable name.
std::string SanitizeLabelKey(std::string_view key);

// Known differences from Loki (details in the .cc files): regexes run on RE2 with Go's options
// (same syntax and results for what Go accepts; (?<name>) is rewritten to (?P<name>)); template
// `title` capitalises ASCII only; toDateInZone / date know UTC only (Loki uses the
// server's zone); Loki's parser hints (extract only the labels a metric query needs) are not
// implemented, so results are those of the unhinted pipeline.

template <typename F>
void LabelsBuilder::ForEach(F&& visit) const {
  for (const Label& l : *stream_) {
    if (Deleted(l.name) || add_[1].Find(l.name) || add_[2].Find(l.name)) continue;
    if (const Slot* s = add_[0].Find(l.name)) {
      visit(std::string_view(l.name), std::string_view(s->value));
    } else {
      visit(std::string_view(l.name), std::string_view(l.value));
    }
  }
  for (const Slot& s : add_[1].Items()) {
    if (add_[2].Find(s.name)) continue;
    visit(std::string_view(s.name), std::string_view(s.value));
  }
  for (const Slot& s : add_[2].Items()) visit(std::string_view(s.name), std::string_view(s.value));
  if (!error_.empty()) visit(kErrorLabel, std::string_view(error_));
  if (!error_details_.empty()) visit(kErrorDetailsLabel, std::string_view(error_details_));
}

}  // namespace otelbox::query::logql
