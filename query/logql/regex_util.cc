// Go-compatible regular expressions on RE2, and the literal fast paths line filters use.

#include <re2/re2.h>

#include <cstring>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "absl/status/status.h"
#include "query/logql/pipeline_internal.h"

namespace otelbox::query::logql::internal {

namespace {

// Go's regexp/syntax error texts for RE2's error codes.
const char* GoErrorText(RE2::ErrorCode code) {
  switch (code) {
    case RE2::ErrorBadEscape: return "invalid escape sequence";
    case RE2::ErrorBadCharClass: return "invalid character class";
    case RE2::ErrorBadCharRange: return "invalid character class range";
    case RE2::ErrorMissingBracket: return "missing closing ]";
    case RE2::ErrorMissingParen: return "missing closing )";
    case RE2::ErrorUnexpectedParen: return "unexpected )";
    case RE2::ErrorTrailingBackslash: return "trailing backslash at end of expression";
    case RE2::ErrorRepeatArgument: return "missing argument to repetition operator";
    case RE2::ErrorRepeatSize: return "invalid repeat count";
    case RE2::ErrorRepeatOp: return "invalid nested repetition operator";
    case RE2::ErrorBadPerlOp: return "invalid or unsupported Perl syntax";
    case RE2::ErrorBadUTF8: return "invalid UTF-8";
    case RE2::ErrorBadNamedCapture: return "invalid named capture";
    case RE2::ErrorPatternTooLarge: return "expression too large";
    default: return "invalid regular expression";
  }
}

// Go (1.22+) accepts (?<name>...) as well as (?P<name>...); this RE2 only knows the latter.
std::string RewriteNamedGroups(std::string_view expr) {
  std::string out;
  out.reserve(expr.size() + 4);
  bool in_class = false;
  for (size_t i = 0; i < expr.size(); ++i) {
    char c = expr[i];
    if (c == '\\' && i + 1 < expr.size()) {
      out.push_back(c);
      out.push_back(expr[++i]);
      continue;
    }
    if (in_class) {
      if (c == ']') in_class = false;
      out.push_back(c);
      continue;
    }
    if (c == '[') {
      in_class = true;
      out.push_back(c);
      if (i + 1 < expr.size() && expr[i + 1] == '^') out.push_back(expr[++i]);
      if (i + 1 < expr.size() && expr[i + 1] == ']') out.push_back(expr[++i]);
      continue;
    }
    if (c == '(' && i + 2 < expr.size() && expr[i + 1] == '?' && expr[i + 2] == '<' &&
        i + 3 < expr.size() && expr[i + 3] != '=' && expr[i + 3] != '!') {
      out += "(?P<";
      i += 2;
      continue;
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const re2::RE2>> CompileGoRegex(std::string_view expr,
                                                              bool anchor_full) {
  RE2::Options opts;
  opts.set_log_errors(false);
  opts.set_encoding(RE2::Options::EncodingUTF8);
  opts.set_posix_syntax(false);  // Perl classes, \b, (?flags) as Go's syntax.Perl
  opts.set_longest_match(false);
  opts.set_dot_nl(false);        // Go: `.` excludes \n unless (?s)
  opts.set_never_nl(false);
  opts.set_case_sensitive(true);
  opts.set_max_mem(64 << 20);    // Go has no DFA budget; avoid RE2 refusing big alternations
  std::string pattern = RewriteNamedGroups(expr);
  // Validate the user's expression alone first so errors name it, not our anchors.
  auto re = std::make_shared<RE2>(pattern, opts);
  if (!re->ok()) {
    std::string arg = re->error_arg().empty() ? std::string(expr) : re->error_arg();
    return absl::InvalidArgumentError(std::string("error parsing regexp: ") +
                                      GoErrorText(re->error_code()) + ": `" + arg + "`");
  }
  if (anchor_full) {
    re = std::make_shared<RE2>("^(?:" + pattern + ")$", opts);
    if (!re->ok()) {
      return absl::InvalidArgumentError("error parsing regexp: " + re->error());
    }
  }
  return std::shared_ptr<const RE2>(std::move(re));
}

bool RegexAsLiteral(std::string_view expr, std::string* literal, bool* case_insensitive) {
  *case_insensitive = false;
  if (expr.substr(0, 4) == "(?i)") {
    *case_insensitive = true;
    expr.remove_prefix(4);
  }
  literal->clear();
  for (size_t i = 0; i < expr.size(); ++i) {
    char c = expr[i];
    switch (c) {
      case '\\': {
        // Escaped punctuation is a literal; escaped letters/digits are classes or assertions.
        if (i + 1 >= expr.size()) return false;
        char n = expr[i + 1];
        bool punct = (n >= '!' && n <= '/') || (n >= ':' && n <= '@') || (n >= '[' && n <= '`') ||
                     (n >= '{' && n <= '~');
        if (!punct) return false;
        literal->push_back(n);
        ++i;
        continue;
      }
      case '.': case '*': case '+': case '?': case '(': case ')': case '[': case ']':
      case '{': case '}': case '|': case '^': case '$':
        return false;
      default:
        if (static_cast<unsigned char>(c) >= 0x80 && *case_insensitive) {
          return false;  // Unicode case folding: leave it to RE2
        }
        literal->push_back(c);
    }
  }
  if (*case_insensitive) {
    for (char& ch : *literal) {
      if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
    }
  }
  return true;
}

namespace {

char LowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }
char UpperAscii(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; }

bool EqualFoldAt(const char* h, std::string_view needle_lower) {
  for (size_t k = 0; k < needle_lower.size(); ++k) {
    if (LowerAscii(h[k]) != needle_lower[k]) return false;
  }
  return true;
}

}  // namespace

// Substring search in the style of Wojciech Mula's "SIMD-friendly" strstr: compare 16
// candidate positions at once on the needle's first and last byte, verify the survivors.
// Typical log needles ("error", "status=500") have a common first byte, so a memchr on it
// alone stalls on false candidates; the two-byte filter rarely lets one through.
bool ContainsBytes(std::string_view hay, std::string_view needle) {
  const size_t n = needle.size();
  if (n == 0) return true;
  if (n > hay.size()) return false;
  if (n == 1) return std::memchr(hay.data(), needle[0], hay.size()) != nullptr;
  const char* h = hay.data();
  const size_t last = hay.size() - n;  // last valid start
  size_t i = 0;
#ifdef __SSE2__
  const __m128i first = _mm_set1_epi8(needle[0]);
  const __m128i lastc = _mm_set1_epi8(needle[n - 1]);
  for (; i + 16 <= last + 1; i += 16) {
    __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i));
    __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i + n - 1));
    unsigned mask = static_cast<unsigned>(
        _mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a, first), _mm_cmpeq_epi8(b, lastc))));
    while (mask != 0) {
      unsigned bit = static_cast<unsigned>(__builtin_ctz(mask));
      if (std::memcmp(h + i + bit + 1, needle.data() + 1, n - 2) == 0) return true;
      mask &= mask - 1;
    }
  }
#endif
  for (; i <= last; ++i) {
    if (h[i] == needle[0] && h[i + n - 1] == needle[n - 1] &&
        std::memcmp(h + i + 1, needle.data() + 1, n - 2) == 0) {
      return true;
    }
  }
  return false;
}

bool ContainsFold(std::string_view hay, std::string_view needle) {
  const size_t n = needle.size();
  if (n == 0) return true;
  if (n > hay.size()) return false;
  const char* h = hay.data();
  const size_t last = hay.size() - n;
  size_t i = 0;
#ifdef __SSE2__
  const __m128i f_lo = _mm_set1_epi8(needle[0]);
  const __m128i f_up = _mm_set1_epi8(UpperAscii(needle[0]));
  const __m128i l_lo = _mm_set1_epi8(needle[n - 1]);
  const __m128i l_up = _mm_set1_epi8(UpperAscii(needle[n - 1]));
  for (; i + 16 <= last + 1; i += 16) {
    __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i));
    __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i + n - 1));
    __m128i fa = _mm_or_si128(_mm_cmpeq_epi8(a, f_lo), _mm_cmpeq_epi8(a, f_up));
    __m128i lb = _mm_or_si128(_mm_cmpeq_epi8(b, l_lo), _mm_cmpeq_epi8(b, l_up));
    unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_and_si128(fa, lb)));
    while (mask != 0) {
      unsigned bit = static_cast<unsigned>(__builtin_ctz(mask));
      if (EqualFoldAt(h + i + bit, needle)) return true;
      mask &= mask - 1;
    }
  }
#endif
  for (; i <= last; ++i) {
    if (EqualFoldAt(h + i, needle)) return true;
  }
  return false;
}

}  // namespace otelbox::query::logql::internal
