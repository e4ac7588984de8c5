#include "ingest/loki/detected_level.h"

#include <algorithm>
#include <charconv>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "ingest/string_util.h"

namespace otelbox::ingest::loki {
namespace {

// Loki's DefaultAllowedLevelFields, in priority order.
constexpr std::string_view kLevelFields[] = {
    "level",    "LEVEL",        "Level",        "log.level",    "severity",
    "SEVERITY", "Severity",     "SeverityText", "lvl",          "LVL",
    "Lvl",      "severity_text", "Severity_Text", "SEVERITY_TEXT"};

// Loki's FieldDetector default depth for JSON lines (-validation.log-level-from-json-max-depth).
constexpr int kJsonMaxDepth = 2;

bool IsLevelField(std::string_view key) {
  return std::find(std::begin(kLevelFields), std::end(kLevelFields), key) !=
         std::end(kLevelFields);
}

const storage::Label* FindLabel(const std::vector<storage::Label>& labels, std::string_view name) {
  for (const auto& l : labels) {
    if (l.name == name) return &l;
  }
  return nullptr;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return absl::EqualsIgnoreCase(AbslView(a), AbslView(b));
}

// The known level a value names, or nullopt for anything else.
std::optional<std::string_view> KnownLevel(std::string_view v) {
  if (EqualsIgnoreCase(v, "trace") || EqualsIgnoreCase(v, "trc")) return "trace";
  if (EqualsIgnoreCase(v, "debug") || EqualsIgnoreCase(v, "dbg")) return "debug";
  if (EqualsIgnoreCase(v, "info") || EqualsIgnoreCase(v, "inf") ||
      EqualsIgnoreCase(v, "information")) {
    return "info";
  }
  if (EqualsIgnoreCase(v, "warn") || EqualsIgnoreCase(v, "wrn") || EqualsIgnoreCase(v, "warning")) {
    return "warn";
  }
  if (EqualsIgnoreCase(v, "error") || EqualsIgnoreCase(v, "err")) return "error";
  if (EqualsIgnoreCase(v, "critical")) return "critical";
  if (EqualsIgnoreCase(v, "fatal")) return "fatal";
  return std::nullopt;
}

// --- JSON lines: a tolerant scanner over object members (no allocation) -----------------

class JsonScanner {
 public:
  explicit JsonScanner(std::string_view s) : s_(s) {}

  // Finds the first string-valued member whose key is a level field, descending into
  // object values while depth < kJsonMaxDepth. Document order, as Loki's ObjectEach.
  std::optional<std::string_view> FindLevel() {
    SkipSpace();
    return Object(0);
  }

 private:
  void SkipSpace() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' ||
                                s_[pos_] == '\r')) {
      ++pos_;
    }
  }

  // Raw string contents (escapes kept); pos_ at the opening quote.
  std::optional<std::string_view> String() {
    if (pos_ >= s_.size() || s_[pos_] != '"') return std::nullopt;
    const size_t start = ++pos_;
    while (pos_ < s_.size()) {
      if (s_[pos_] == '\\') {
        pos_ += 2;
        continue;
      }
      if (s_[pos_] == '"') return s_.substr(start, pos_++ - start);
      ++pos_;
    }
    return std::nullopt;
  }

  // Skips any value; false on malformed input.
  bool Skip() {
    SkipSpace();
    if (pos_ >= s_.size()) return false;
    const char c = s_[pos_];
    if (c == '"') return String().has_value();
    if (c == '{' || c == '[') {
      int depth = 0;
      while (pos_ < s_.size()) {
        const char d = s_[pos_];
        if (d == '"') {
          if (!String()) return false;
          continue;
        }
        if (d == '{' || d == '[') ++depth;
        if (d == '}' || d == ']') {
          if (--depth == 0) {
            ++pos_;
            return true;
          }
        }
        ++pos_;
      }
      return false;
    }
    while (pos_ < s_.size() && s_[pos_] != ',' && s_[pos_] != '}' && s_[pos_] != ']') ++pos_;
    return true;
  }

  std::optional<std::string_view> Object(int depth) {
    if (pos_ >= s_.size() || s_[pos_] != '{') return std::nullopt;
    ++pos_;
    while (true) {
      SkipSpace();
      if (pos_ >= s_.size() || s_[pos_] == '}') return std::nullopt;
      auto key = String();
      if (!key) return std::nullopt;
      SkipSpace();
      if (pos_ >= s_.size() || s_[pos_] != ':') return std::nullopt;
      ++pos_;
      SkipSpace();
      if (pos_ >= s_.size()) return std::nullopt;
      if (s_[pos_] == '"') {
        auto value = String();
        if (!value) return std::nullopt;
        if (IsLevelField(*key)) return value;
      } else if (s_[pos_] == '{' && depth + 1 < kJsonMaxDepth) {
        const size_t start = pos_;
        if (auto found = Object(depth + 1)) return found;
        pos_ = start;
        if (!Skip()) return std::nullopt;
      } else if (!Skip()) {
        return std::nullopt;
      }
      SkipSpace();
      if (pos_ < s_.size() && s_[pos_] == ',') ++pos_;
    }
  }

  std::string_view s_;
  size_t pos_ = 0;
};

bool IsJsonLine(std::string_view line) {
  const auto first = line.find_first_not_of(" \t\n\r\v\f");
  const auto last = line.find_last_not_of(" \t\n\r\v\f");
  return first != std::string_view::npos && line[first] == '{' && line[last] == '}';
}

std::optional<std::string_view> LevelFromJson(std::string_view line) {
  // Cheap pre-check: a level member needs one of the quoted field names in the line.
  bool mentioned = false;
  for (std::string_view f : kLevelFields) {
    const size_t at = line.find(f);
    if (at != std::string_view::npos && at > 0 && line[at - 1] == '"' &&
        at + f.size() < line.size() && line[at + f.size()] == '"') {
      mentioned = true;
      break;
    }
  }
  if (!mentioned) return std::nullopt;
  return JsonScanner(line).FindLevel();
}

// --- logfmt lines ---------------------------------------------------------------------------

// The value of the level field with the highest priority (case-insensitive keys), as
// Loki's getValueUsingLogfmtParser picks it.
std::optional<std::string_view> LevelFromLogfmt(std::string_view line) {
  std::optional<std::string_view> best;
  size_t best_rank = std::size(kLevelFields);
  size_t pos = 0;
  while (pos < line.size()) {
    while (pos < line.size() && static_cast<unsigned char>(line[pos]) <= ' ') ++pos;
    const size_t key_start = pos;
    while (pos < line.size() && static_cast<unsigned char>(line[pos]) > ' ' && line[pos] != '=') {
      ++pos;
    }
    const std::string_view key = line.substr(key_start, pos - key_start);
    std::string_view value;
    if (pos < line.size() && line[pos] == '=') {
      ++pos;
      if (pos < line.size() && line[pos] == '"') {
        const size_t start = ++pos;
        while (pos < line.size() && line[pos] != '"') pos += line[pos] == '\\' ? 2 : 1;
        value = line.substr(start, std::min(pos, line.size()) - start);
        ++pos;
      } else {
        const size_t start = pos;
        while (pos < line.size() && static_cast<unsigned char>(line[pos]) > ' ') ++pos;
        value = line.substr(start, pos - start);
      }
    }
    if (key.empty()) {
      ++pos;
      continue;
    }
    for (size_t rank = 0; rank < best_rank; ++rank) {
      if (EqualsIgnoreCase(key, kLevelFields[rank])) {
        best = value;
        best_rank = rank;
        if (rank == 0) return best;
        break;
      }
    }
  }
  return best;
}

// --- plain lines ----------------------------------------------------------------------------

bool IsLeftBoundary(std::string_view s, ptrdiff_t pos) {
  if (pos < 0 || static_cast<size_t>(pos) >= s.size()) return true;
  switch (s[pos]) {
    case ' ': case '\t': case '\n': case '[': case '(': case '{': case '"': case '\'':
    case '=': case '|':
      return true;
    default:
      return false;
  }
}

bool IsRightBoundary(std::string_view s, size_t pos) {
  if (pos >= s.size()) return true;
  switch (s[pos]) {
    case ' ': case '\t': case '\n': case '[': case ']': case '(': case ')': case '{': case '}':
    case ':': case ',': case '!': case '"': case '\'': case '=': case '|':
      return true;
    default:
      return false;
  }
}

size_t IndexOfBoundedWord(std::string_view s, std::string_view word) {
  size_t offset = 0;
  while (true) {
    const size_t at = s.find(word, offset);
    if (at == std::string_view::npos) return at;
    if (IsLeftBoundary(s, static_cast<ptrdiff_t>(at) - 1) && IsRightBoundary(s, at + word.size())) {
      return at;
    }
    offset = at + 1;
  }
}

std::string LevelFromSeverityNumber(std::string_view text) {
  int n = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || ptr != text.data() + text.size()) return "info";
  if (n == 0) return "unknown";
  if (n <= 4) return "trace";
  if (n <= 8) return "debug";
  if (n <= 12) return "info";
  if (n <= 16) return "warn";
  if (n <= 20) return "error";
  if (n <= 24) return "fatal";
  return "unknown";
}

std::string LevelFromLine(std::string_view line) {
  std::optional<std::string_view> v;
  if (IsJsonLine(line)) {
    v = LevelFromJson(line);
  } else if (line.find('=') != std::string_view::npos) {
    v = LevelFromLogfmt(line);
  } else {
    return DetectLevelFromLine(line);
  }
  if (v) {
    if (auto known = KnownLevel(*v)) return std::string(*known);
  }
  return DetectLevelFromLine(line);
}

}  // namespace

std::string NormalizeLogLevel(std::string_view level) {
  if (auto known = KnownLevel(level)) return std::string(*known);
  return std::string(level);
}

std::string DetectLevelFromLine(std::string_view line) {
  // Earliest level word wins; ties go to the first pattern (Loki's levelPatterns order).
  static constexpr std::pair<std::string_view, std::string_view> kPatterns[] = {
      {"trace", "trace"}, {"debug", "debug"}, {"fatal", "fatal"},
      {"critical", "critical"}, {"error", "error"}, {"err", "error"},
      {"warning", "warn"}, {"warn", "warn"}, {"info", "info"}};
  const std::string lower = absl::AsciiStrToLower(AbslView(line));
  size_t best_pos = lower.size();
  std::string_view best = "unknown";
  for (const auto& [word, level] : kPatterns) {
    const size_t at = IndexOfBoundedWord(lower, word);
    if (at == std::string_view::npos || at >= best_pos) continue;
    best_pos = at;
    best = level;
    if (at == 0) break;
  }
  return std::string(best);
}

std::string LevelFromStreamLabels(const storage::Labels& stream_labels) {
  for (std::string_view f : kLevelFields) {
    if (stream_labels.Has(f)) return NormalizeLogLevel(stream_labels.Get(f));
  }
  return "";
}

void AddDetectedLevel(std::string_view stream_level, std::string_view line,
                      std::vector<storage::Label>* metadata) {
  for (auto& l : *metadata) {
    if (l.name == kDetectedLevel) {
      l.value = NormalizeLogLevel(l.value);
      return;
    }
  }
  std::string level(stream_level);
  if (level.empty()) {
    bool found = false;
    for (std::string_view f : kLevelFields) {
      if (const storage::Label* l = FindLabel(*metadata, f)) {
        level = NormalizeLogLevel(l->value);
        found = true;
        break;
      }
    }
    if (!found) {
      const storage::Label* sev = FindLabel(*metadata, "severity_number");
      level = sev != nullptr && !sev->value.empty() ? LevelFromSeverityNumber(sev->value)
                                                    : LevelFromLine(line);
    }
  }
  if (level.empty()) return;
  metadata->push_back({std::string(kDetectedLevel), std::move(level)});
}

void AddDetectedLevel(const storage::Labels& stream_labels, std::string_view line,
                      std::vector<storage::Label>* metadata) {
  AddDetectedLevel(LevelFromStreamLabels(stream_labels), line, metadata);
}

}  // namespace otelbox::ingest::loki
