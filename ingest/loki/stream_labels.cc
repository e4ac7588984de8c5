#include "ingest/loki/stream_labels.h"

#include "absl/strings/str_cat.h"
#include "common/utf8.h"
#include "ingest/string_util.h"

namespace otelbox::ingest::loki {
namespace {

bool IsNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9') || c == ':'; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A small recursive-descent reader over the label string. Positions in errors are
// 1-based columns on line 1, as the Prometheus parser reports them.
class Reader {
 public:
  explicit Reader(std::string_view text) : text_(text) {}

  absl::StatusOr<std::vector<storage::Label>> Parse() {
    std::vector<storage::Label> out;
    SkipSpace();
    if (pos_ < text_.size() && IsNameStart(text_[pos_])) {
      std::string name = ReadName(/*metric=*/true);
      out.push_back({std::string(storage::kMetricNameLabel), std::move(name)});
      SkipSpace();
    }
    if (pos_ >= text_.size()) {
      if (!out.empty()) return out;
      return Error("unexpected end of input");
    }
    if (text_[pos_] != '{') return Unexpected("expected \"{\"");
    ++pos_;
    while (true) {
      SkipSpace();
      if (pos_ >= text_.size()) return Error("unexpected end of input inside braces");
      if (text_[pos_] == '}') {
        ++pos_;
        break;
      }
      storage::Label label;
      if (text_[pos_] == '"') {
        auto quoted = ReadString();
        if (!quoted.ok()) return quoted.status();
        label.name = *std::move(quoted);
      } else if (IsNameStart(text_[pos_])) {
        label.name = ReadName();
      } else {
        return Unexpected("expected a label name");
      }
      SkipSpace();
      if (pos_ >= text_.size()) return Error("unexpected end of input inside braces");
      if (text_[pos_] != '=') return Unexpected("expected \"=\"");
      ++pos_;
      SkipSpace();
      if (pos_ >= text_.size()) return Error("unexpected end of input inside braces");
      auto value = ReadString();
      if (!value.ok()) return value.status();
      label.value = *std::move(value);
      if (!label.value.empty()) out.push_back(std::move(label));
      SkipSpace();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == '}') continue;
      if (pos_ >= text_.size()) return Error("unexpected end of input inside braces");
      return Unexpected("expected \",\" or \"}\"");
    }
    SkipSpace();
    if (pos_ != text_.size()) return Unexpected("expected end of input");
    return out;
  }

 private:
  absl::Status Error(std::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat("1:", pos_ + 1, ": parse error: ", AbslView(what)));
  }
  absl::Status Unexpected(std::string_view expected) const {
    return Error(absl::StrCat("unexpected character '", AbslView(std::string_view(&text_[pos_], 1)),
                              "', ", AbslView(expected)));
  }

  void SkipSpace() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }

  // Metric names may hold ':', label names may not.
  std::string ReadName(bool metric = false) {
    const size_t start = pos_;
    while (pos_ < text_.size() && (IsNameChar(text_[pos_]) && (metric || text_[pos_] != ':'))) {
      ++pos_;
    }
    return std::string(text_.substr(start, pos_ - start));
  }

  // A Go-style string literal starting at pos_.
  absl::StatusOr<std::string> ReadString() {
    const char quote = text_[pos_];
    if (quote != '"' && quote != '\'' && quote != '`') return Unexpected("expected a string");
    ++pos_;
    std::string out;
    if (quote == '`') {
      const size_t end = text_.find('`', pos_);
      if (end == std::string_view::npos) return Error("unterminated raw string");
      out.assign(text_.substr(pos_, end - pos_));
      pos_ = end + 1;
      return out;
    }
    while (true) {
      if (pos_ >= text_.size()) return Error("unterminated quoted string");
      const char c = text_[pos_];
      if (c == quote) {
        ++pos_;
        return out;
      }
      if (c == '\n') return Error("unterminated quoted string");
      if (c != '\\') {
        out.push_back(c);
        ++pos_;
        continue;
      }
      if (pos_ + 1 >= text_.size()) return Error("unterminated quoted string");
      const char e = text_[pos_ + 1];
      pos_ += 2;
      switch (e) {
        case 'a': out.push_back('\a'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'v': out.push_back('\v'); break;
        case '\\': out.push_back('\\'); break;
        case '"': out.push_back('"'); break;
        case '\'': out.push_back('\''); break;
        case 'x':
        case 'u':
        case 'U': {
          const int digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          uint32_t cp = 0;
          for (int i = 0; i < digits; ++i) {
            const int h = pos_ < text_.size() ? HexValue(text_[pos_]) : -1;
            if (h < 0) return Error("invalid escape sequence in quoted string");
            cp = cp << 4 | static_cast<uint32_t>(h);
            ++pos_;
          }
          if (e == 'x') {
            out.push_back(static_cast<char>(cp));
          } else {
            AppendUtf8(&out, cp);
          }
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            uint32_t v = static_cast<uint32_t>(e - '0');
            for (int i = 0; i < 2; ++i) {
              if (pos_ >= text_.size() || text_[pos_] < '0' || text_[pos_] > '7') {
                return Error("invalid escape sequence in quoted string");
              }
              v = v * 8 + static_cast<uint32_t>(text_[pos_++] - '0');
            }
            if (v > 255) return Error("invalid escape sequence in quoted string");
            out.push_back(static_cast<char>(v));
            break;
          }
          return Error("unknown escape sequence in quoted string");
      }
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

absl::StatusOr<std::vector<storage::Label>> ParseStreamLabels(std::string_view text) {
  return Reader(text).Parse();
}

bool IsLegacyLabelName(std::string_view name) {
  if (name.empty() || !IsNameStart(name[0])) return false;
  for (char c : name) {
    if (!IsNameStart(c) && !(c >= '0' && c <= '9')) return false;
  }
  return true;
}

}  // namespace otelbox::ingest::loki
