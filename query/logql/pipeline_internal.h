#pragma once
// Internals shared by the LogQL pipeline stages (not part of the public API in log_pipeline.h).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "query/logql/log_pipeline.h"

namespace re2 { class RE2; }

namespace otelbox::query::logql::internal {

// Compiles `expr` with RE2 options that match Go's regexp package (Perl classes, UTF-8, `.`
// not matching \n unless (?s), leftmost-first). `anchor_full` wraps it in ^(?:...)$ as Loki's
// label matchers do. Errors read like Go's: "error parsing regexp: missing closing ): `(`".
absl::StatusOr<std::shared_ptr<const re2::RE2>> CompileGoRegex(std::string_view expr,
                                                              bool anchor_full = false);

// When `expr` is a literal (optionally with a leading (?i)), sets *literal (lower-cased when
// case-insensitive) and *case_insensitive, and returns true. Covers what Loki's regex
// simplifier turns into substring filters in the common case.
bool RegexAsLiteral(std::string_view expr, std::string* literal, bool* case_insensitive);

// Substring search (SSE2 first/last-byte filter), and its ASCII-case-insensitive variant,
// which expects `needle_lower` lower-cased.
bool ContainsBytes(std::string_view haystack, std::string_view needle);
bool ContainsFold(std::string_view haystack, std::string_view needle_lower);

// ---- Loki's pattern expressions (`<name>`, `<_>`, literals) ----
struct PatternNode {
  bool is_capture = false;
  std::string text;  // capture name (without <>) or literal bytes
  bool unnamed() const { return is_capture && text == "_"; }
};
class PatternMatcher {
 public:
  // For `| pattern`: at least one named capture, no consecutive captures, unique names.
  static absl::StatusOr<PatternMatcher> ForParser(std::string_view pattern);
  // For `|>` / `!>`: no named captures, no consecutive captures; "" matches only empty lines.
  static absl::StatusOr<PatternMatcher> ForLineFilter(std::string_view pattern);

  // Loki's Matcher.Matches: captured values of named captures, in order (may be fewer than
  // names() when the line ends early). Views into `in`.
  void Matches(std::string_view in, std::vector<std::string_view>* out) const;
  // Loki's Matcher.Test (line filter semantics).
  bool Test(std::string_view in) const;
  const std::vector<std::string>& names() const { return names_; }

 private:
  std::vector<PatternNode> nodes_;
  std::vector<std::string> names_;
};

// ---- ip("...") matching (Loki's ipFilter over net/netip) ----
class IpMatcher {
 public:
  // A single address, a CIDR prefix or an `a-b` range; InvalidArgument
  // `ip: invalid pattern: "x"` otherwise.
  static absl::StatusOr<IpMatcher> Create(std::string_view pattern);
  // True when `text` contains an address (found as Loki scans for one) inside the pattern.
  bool MatchesIn(std::string_view text) const;

  struct Addr {
    bool v6 = false;
    uint8_t bytes[16] = {};  // v4 uses the first 4
    std::string zone;
  };
  static bool ParseAddr(std::string_view s, Addr* out);

 private:
  bool Contains(const Addr& a) const;
  enum class Kind { kAddr, kPrefix, kRange } kind_ = Kind::kAddr;
  Addr lo_, hi_;
  int bits_ = 0;
};

// ---- Go text/template subset (template.cc) ----
class Template;
// What a template sees: `.name` reads labels, __line__ / __timestamp__ the entry.
struct TemplateContext {
  // Label lookup: either a snapshot (label_format takes one per entry, as Loki builds its map
  // once per stage) or the live builder. The error labels are visible as `.__error__`.
  const std::vector<std::pair<std::string, std::string>>* snapshot = nullptr;
  const LabelsBuilder* lbs = nullptr;
  std::string_view line;  // __line__
  int64_t ts_ns = 0;      // __timestamp__
};
// Parses `text` as template `name` ("line" for line_format, "label" for label_format); errors
// read like Go's: `template: line:1: function "x" not defined`.
absl::StatusOr<std::shared_ptr<const Template>> ParseTemplate(std::string_view name,
                                                             std::string_view text);
// Executes into *out (cleared first). False with *error set on a runtime error.
bool ExecuteTemplate(const Template& t, const TemplateContext& ctx, std::string* out,
                     std::string* error);
// When the template is exactly `{{.name}}` (Loki's fast path), the label name; else "".
std::string_view TemplateSimpleField(const Template& t);

// Go's time layout formatting of a UTC instant (ns since epoch), e.g. "2006-01-02".
std::string FormatGoTime(int64_t ts_ns, std::string_view layout);

}  // namespace otelbox::query::logql::internal
