// `| logfmt [--strict] [--keep-empty] [params]`: Loki's logfmt decoder (a go-logfmt variant)
// and its LogfmtParser / LogfmtExpressionParser stages.

#include "absl/status/status.h"
#include "query/logql/json_scan.h"
#include "query/logql/pipeline_internal.h"

namespace otelbox::query::logql {

namespace {

// Loki's logfmt.Decoder: scans `key=value` pairs; a bare key has no value; quoted values may
// hold escapes. Keys and values are views into the line or into an internal buffer.
class LogfmtDecoder {
 public:
  void Reset(std::string_view line) {
    line_ = line;
    pos_ = 0;
    error_.clear();
  }
  bool Eol() const { return pos_ >= line_.size(); }
  const std::string& error() const { return error_; }
  std::string_view key() const { return key_; }
  std::string_view value() const { return value_; }

  // One key/value. False when the pair is malformed (error() says why) or only whitespace
  // remained.
  bool ScanKeyval() {
    key_ = {};
    value_ = {};
    has_key_ = false;
    const std::string_view line = line_;
    // Skip leading whitespace / control bytes.
    while (pos_ < line.size() && static_cast<unsigned char>(line[pos_]) <= ' ') ++pos_;
    if (pos_ >= line.size()) return false;

    // Key.
    size_t start = pos_;
    bool multibyte = false;
    for (; pos_ < line.size(); ++pos_) {
      unsigned char c = static_cast<unsigned char>(line[pos_]);
      if (c == '=') {
        if (pos_ > start) {
          SetKey(line.substr(start, pos_ - start));
          if (multibyte && InvalidUtf8(key_)) {
            SyntaxError("invalid key");
            return SkipValue();
          }
        }
        if (!has_key_) {
          UnexpectedByte(c);
          return SkipValue();
        }
        return Equal();
      }
      if (c == '"') {
        UnexpectedByte(c);
        return SkipValue();
      }
      if (c <= ' ') {
        if (pos_ > start) {
          SetKey(line.substr(start, pos_ - start));
          if (multibyte && InvalidUtf8(key_)) {
            SyntaxError("invalid key");
            return false;
          }
        }
        return true;
      }
      if (c >= 0x80) multibyte = true;
    }
    if (pos_ > start) {
      SetKey(line.substr(start, pos_ - start));
      if (multibyte && InvalidUtf8(key_)) {
        SyntaxError("invalid key");
        return false;
      }
    }
    return true;
  }

 private:
  void SetKey(std::string_view k) {
    key_ = k;
    has_key_ = true;
  }

  static bool InvalidUtf8(std::string_view s) {
    std::string buf;
    return internal::ReplaceInvalidUtf8(s, &buf).data() != s.data();
  }

  bool Equal() {
    const std::string_view line = line_;
    ++pos_;
    if (pos_ >= line.size()) return true;
    unsigned char c = static_cast<unsigned char>(line[pos_]);
    if (c <= ' ') return true;
    if (c == '"') return QuotedValue();
    size_t start = pos_;
    for (; pos_ < line.size(); ++pos_) {
      unsigned char v = static_cast<unsigned char>(line[pos_]);
      if (v == '=' || v == '"') {
        UnexpectedByte(v);
        return SkipValue();
      }
      if (v <= ' ') {
        if (pos_ > start) value_ = line.substr(start, pos_ - start);
        return true;
      }
    }
    if (pos_ > start) value_ = line.substr(start, pos_ - start);
    return true;
  }

  bool SkipValue() {
    while (pos_ < line_.size() && static_cast<unsigned char>(line_[pos_]) > ' ') ++pos_;
    return false;
  }

  bool QuotedValue() {
    const std::string_view line = line_;
    bool has_esc = false, esc = false;
    size_t start = pos_;
    for (size_t p = pos_ + 1; p < line.size(); ++p) {
      char c = line[p];
      if (esc) {
        esc = false;
      } else if (c == '\\') {
        has_esc = esc = true;
      } else if (c == '"') {
        pos_ = p + 1;
        if (has_esc) {
          if (!Unquote(line.substr(start + 1, p - start - 1))) {
            SyntaxError("invalid quoted value");
            return false;
          }
          value_ = unquoted_;
        } else if (p > start + 1) {
          value_ = line.substr(start + 1, p - start - 1);
        }
        return true;
      }
    }
    pos_ = line.size();
    SyntaxError("unterminated quoted value");
    return false;
  }

  // JSON-style unquoting (plus \' as Loki's decoder accepts).
  bool Unquote(std::string_view body) {
    unquoted_.clear();
    for (size_t i = 0; i < body.size(); ++i) {
      if (body[i] != '\\') {
        unquoted_.push_back(body[i]);
        continue;
      }
      if (i + 1 < body.size() && body[i + 1] == '\'') {
        unquoted_.push_back('\'');
        ++i;
        continue;
      }
      // Reuse the JSON unescaper for one escape at a time.
      size_t len = (i + 1 < body.size() && body[i + 1] == 'u') ? 6 : 2;
      if (len == 6 && i + 12 <= body.size() && body[i + 6] == '\\' && body[i + 7] == 'u') {
        len = 12;  // a surrogate pair
      }
      if (i + len > body.size()) len = body.size() - i;
      std::string piece;
      if (!internal::JsonUnescape(body.substr(i, len), &piece)) return false;
      unquoted_ += piece;
      i += len - 1;
    }
    return true;
  }

  void SyntaxError(std::string_view msg) {
    error_ = "logfmt syntax error at pos " + std::to_string(pos_ + 1) + " : " + std::string(msg);
  }
  void UnexpectedByte(unsigned char c) {
    std::string q;
    if (c == '"') {
      q = "'\"'";
    } else {
      q = std::string("'") + static_cast<char>(c) + "'";
    }
    SyntaxError("unexpected " + q);
  }

  std::string_view line_;
  size_t pos_ = 0;
  std::string_view key_, value_;
  bool has_key_ = false;
  std::string unquoted_;
  std::string error_;
};

// Caches sanitized keys: logs repeat the same few keys on every line. A small direct-mapped
// table by FNV-1a hash; a collision just recomputes.
class KeyCache {
 public:
  const std::string& Sanitized(std::string_view raw) {
    uint32_t h = 2166136261u;
    for (char c : raw) h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
    Entry& e = table_[h & (kSize - 1)];
    if (e.used && e.hash == h && e.raw == raw) return e.sanitized;
    e.used = true;
    e.hash = h;
    e.raw.assign(raw);
    e.sanitized = SanitizeLabelKey(raw);
    return e.sanitized;
  }

 private:
  static constexpr size_t kSize = 256;
  struct Entry {
    bool used = false;
    uint32_t hash = 0;
    std::string raw, sanitized;
  };
  std::vector<Entry> table_ = std::vector<Entry>(kSize);
};

class LogfmtParser final : public Stage {
 public:
  LogfmtParser(bool strict, bool keep_empty) : strict_(strict), keep_empty_(keep_empty) {}

  bool Process(int64_t, std::string_view& line, LabelsBuilder& lbs) override {
    dec_.Reset(line);
    while (!dec_.Eol()) {
      if (!dec_.ScanKeyval()) {
        if (strict_) break;
        continue;
      }
      const std::string& key = keys_.Sanitized(dec_.key());
      if (key.empty()) continue;
      std::string_view val = internal::ReplaceInvalidUtf8(dec_.value(), &value_buf_);
      if (!keep_empty_ && val.empty()) continue;
      lbs.AddParsed(key, val);
    }
    if (strict_ && !dec_.error().empty()) {
      lbs.SetError(kLogfmtParserErr);
      lbs.SetErrorDetails(dec_.error());
    }
    return true;
  }

 private:
  bool strict_, keep_empty_;
  LogfmtDecoder dec_;
  KeyCache keys_;
  std::string value_buf_;
};

class LogfmtExpressionParser final : public Stage {
 public:
  LogfmtExpressionParser(std::vector<LabelExtraction> exprs, bool strict)
      : exprs_(std::move(exprs)), strict_(strict) {}

  bool Process(int64_t, std::string_view& line, LabelsBuilder& lbs) override {
    // Loki first gives every expression an empty value (unless the name is taken).
    for (const auto& e : exprs_) {
      if (!lbs.StreamHas(e.label) &&
          !lbs.HasInCategory(e.label, LabelCategory::kStructuredMetadata)) {
        lbs.Set(LabelCategory::kParsed, e.label, "");
      }
    }
    dec_.Reset(line);
    while (!dec_.Eol()) {
      if (!dec_.ScanKeyval()) {
        if (strict_) break;
        continue;
      }
      const std::string& sanitized = keys_.Sanitized(dec_.key());
      if (sanitized.empty()) continue;
      std::string_view key = sanitized;
      std::string_view val = dec_.value();
      std::string buf;
      if (internal::ReplaceInvalidUtf8(val, &buf).data() != val.data()) val = {};
      // A line key equal to an expression's source becomes that expression's label; a line key
      // that equals an expression's label name is taken as is (Loki's lookup works that way).
      for (const auto& e : exprs_) {
        if (key == e.expression) {
          key = e.label;
          break;
        }
      }
      bool wanted = false;
      for (const auto& e : exprs_) {
        if (key == e.label) {
          wanted = true;
          break;
        }
      }
      if (!wanted) continue;
      lbs.ParsedName(key, &name_);
      lbs.Set(LabelCategory::kParsed, name_, val);
    }
    if (strict_ && !dec_.error().empty()) {
      lbs.SetError(kLogfmtParserErr);
      lbs.SetErrorDetails(dec_.error());
    }
    return true;
  }

 private:
  std::vector<LabelExtraction> exprs_;
  bool strict_;
  LogfmtDecoder dec_;
  KeyCache keys_;
  std::string name_;
};

bool IsIdentifier(std::string_view s) {
  if (s.empty()) return false;
  auto start = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!start(s[0])) return false;
  for (char c : s) {
    if (!start(c) && !(c >= '0' && c <= '9')) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Stage>> MakeLogfmtParser(bool strict, bool keep_empty,
                                                       const std::vector<LabelExtraction>& params) {
  if (params.empty()) {
    return std::unique_ptr<Stage>(std::make_unique<LogfmtParser>(strict, keep_empty));
  }
  for (const auto& p : params) {
    if (!IsIdentifier(p.expression)) {
      return absl::InvalidArgumentError("cannot parse expression [" + p.expression +
                                        "]: syntax error: unexpected char");
    }
    if (p.label.empty()) {
      return absl::InvalidArgumentError("invalid extracted label name '" + p.label + "'");
    }
  }
  return std::unique_ptr<Stage>(std::make_unique<LogfmtExpressionParser>(params, strict));
}

}  // namespace otelbox::query::logql
