// `| json`, `| json a="path"` and `| unpack` (Loki's JSONParser, JSONExpressionParser and
// UnpackParser).

#include "absl/status/status.h"
#include "query/logql/json_scan.h"
#include "query/logql/pipeline_internal.h"

namespace otelbox::query::logql {

namespace {

using internal::JsonObjectEach;
using internal::JsonParseValue;
using internal::JsonSkipSpace;
using internal::JsonStringValue;
using internal::JsonType;
using internal::JsonUnescape;

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// Loki's appendSanitized: trims, `_` before a leading digit only at the start of the name,
// every character outside [a-zA-Z0-9_] becomes `_` (one per UTF-8 character).
void AppendSanitized(std::string* to, std::string_view key) {
  while (!key.empty() && IsSpace(key.front())) key.remove_prefix(1);
  while (!key.empty() && IsSpace(key.back())) key.remove_suffix(1);
  if (key.empty()) return;
  if (to->empty() && key[0] >= '0' && key[0] <= '9') to->push_back('_');
  for (size_t i = 0; i < key.size();) {
    unsigned char c = static_cast<unsigned char>(key[i]);
    if (c < 0x80) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                (c >= '0' && c <= '9');
      to->push_back(ok ? static_cast<char>(c) : '_');
      ++i;
      continue;
    }
    size_t len = (c >= 0xF0) ? 4 : (c >= 0xE0) ? 3 : (c >= 0xC0) ? 2 : 1;
    bool valid = i + len <= key.size();
    for (size_t k = 1; valid && k < len; ++k) {
      valid = (static_cast<unsigned char>(key[i + k]) & 0xC0) == 0x80;
    }
    to->push_back('_');
    i += valid ? len : 1;
  }
}

bool OnlySpace(std::string_view s) {
  for (char c : s) {
    if (!IsSpace(c)) return false;
  }
  return true;
}

// ---- | json -------------------------------------------------------------------------------

class JsonParser final : public Stage {
 public:
  JsonParser() = default;
  explicit JsonParser(std::vector<std::string> only) : hinted_(true), only_(std::move(only)) {}

  bool Process(int64_t, std::string_view& line, LabelsBuilder& lbs) override {
    lbs_ = &lbs;
    name_.clear();
    nested_error_ = {};
    depth_ = 0;
    std::string_view err = ParseObject(line);
    if (err.empty()) err = nested_error_;
    if (!err.empty()) {
      lbs.SetError(kJsonParserErr);
      lbs.SetErrorDetails(err);
    }
    return true;
  }

 private:
  std::string_view ParseObject(std::string_view obj) {
    return JsonObjectEach(obj, [&](std::string_view key_raw, bool escaped, JsonType type,
                                   std::string_view value) {
      std::string_view key = key_raw;
      if (escaped) {
        key_buf_.emplace_back();
        if (!JsonUnescape(key_raw, &key_buf_.back())) {
          key_buf_.pop_back();
          return true;
        }
        key = key_buf_.back();
      }
      const size_t prefix_len = name_.size();
      switch (type) {
        case JsonType::kString:
        case JsonType::kNumber:
        case JsonType::kBool:
          AddField(key, type, value);
          break;
        case JsonType::kObject: {
          // Bounded recursion: objects nested deeper than kMaxDepth add no labels (Loki has
          // no limit; a C++ stack has one).
          if (depth_ >= kMaxDepth) break;
          if (!OnlySpace(key)) {
            if (!name_.empty()) name_.push_back('_');
            AppendSanitized(&name_, key);
          }
          ++depth_;
          std::string_view err = ParseObject(value);
          --depth_;
          name_.resize(prefix_len);
          if (!err.empty()) nested_error_ = err;
          break;
        }
        default:  // null and arrays produce no label
          break;
      }
      if (escaped) key_buf_.pop_back();
      return nested_error_.empty();
    });
  }

  void AddField(std::string_view key, JsonType type, std::string_view raw) {
    const size_t prefix_len = name_.size();
    if (!OnlySpace(key)) {
      if (prefix_len > 0) name_.push_back('_');
      AppendSanitized(&name_, key);
    }
    // A top-level key that sanitizes to nothing is skipped; a nested one still yields a label
    // (possibly with an empty name, as Loki does for {" ": {" ": "x"}}).
    if ((depth_ > 0 || !name_.empty()) && Wanted(name_)) {
      std::string_view v;
      switch (type) {
        case JsonType::kString: v = JsonStringValue(raw, &value_buf_); break;
        case JsonType::kBool: v = raw == "true" ? "true" : "false"; break;
        default: v = raw; break;
      }
      lbs_->AddParsed(name_, v);
    }
    name_.resize(prefix_len);
  }

  // Parser hints: skip (and don't unescape) values of labels the query never reads.
  bool Wanted(std::string_view name) const {
    if (!hinted_) return true;
    for (const std::string& l : only_) {
      if (l == name) return true;
    }
    return false;
  }

  bool hinted_ = false;
  std::vector<std::string> only_;
  LabelsBuilder* lbs_ = nullptr;
  std::string name_;        // sanitized, `_`-joined prefix of the current object
  std::string value_buf_;
  std::vector<std::string> key_buf_;  // unescaped keys (rare)
  std::string_view nested_error_;
  static constexpr int kMaxDepth = 256;
  int depth_ = 0;
};

// ---- | json a="path" ----------------------------------------------------------------------

// A path element: a key, or an array index.
struct PathElem {
  bool is_index = false;
  int index = 0;
  std::string key;
};

// Loki's jsonexpr grammar: field | ["key"] | [index], then (.field | ["key"] | [index])*.
absl::StatusOr<std::vector<PathElem>> ParseJsonPath(std::string_view expr) {
  auto fail = [&](std::string_view why) {
    return absl::InvalidArgumentError("cannot parse expression [" + std::string(expr) +
                                      "]: " + std::string(why));
  };
  std::vector<PathElem> out;
  size_t i = 0;
  auto skip_ws = [&] {
    while (i < expr.size() && IsSpace(expr[i])) ++i;
  };
  auto ident_start = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  };
  auto ident = [&](char c) { return ident_start(c) || (c >= '0' && c <= '9'); };
  bool first = true;
  while (true) {
    skip_ws();
    if (i >= expr.size()) {
      if (first) return fail("syntax error: unexpected $end");
      break;
    }
    char c = expr[i];
    if (c == '.' && !first) {
      ++i;
      skip_ws();
      if (i >= expr.size() || !ident_start(expr[i])) {
        return fail(i >= expr.size() ? "syntax error: unexpected $end, expecting FIELD"
                                     : "syntax error: unexpected token, expecting FIELD");
      }
      c = expr[i];
    } else if (c != '[' && !first) {
      return fail(ident_start(c) ? "syntax error: unexpected FIELD"
                  : c == '"'     ? "syntax error: unexpected STRING"
                                 : std::string("unexpected char ") + c);
    }
    if (ident_start(c)) {
      if (!first && expr[i - 1] != '.' && !IsSpace(expr[i - 1])) {
        return fail("syntax error: unexpected FIELD");
      }
      size_t s = i;
      while (i < expr.size() && ident(expr[i])) ++i;
      out.push_back(PathElem{false, 0, std::string(expr.substr(s, i - s))});
    } else if (c == '[') {
      ++i;
      skip_ws();
      if (i >= expr.size()) return fail("syntax error: unexpected $end");
      if (expr[i] == '"') {
        ++i;
        size_t s = i;
        while (i < expr.size() && expr[i] != '"' && expr[i] != ']') ++i;
        std::string key(expr.substr(s, i - s));
        if (i < expr.size() && expr[i] == '"') ++i;
        skip_ws();
        if (i >= expr.size() || expr[i] != ']') return fail("syntax error: unexpected $end, expecting RSB");
        ++i;
        out.push_back(PathElem{false, 0, std::move(key)});
      } else if (expr[i] >= '0' && expr[i] <= '9') {
        int v = 0;
        while (i < expr.size() && expr[i] >= '0' && expr[i] <= '9') {
          v = v * 10 + (expr[i] - '0');
          if (v > 1000000000) return fail("index too large");
          ++i;
        }
        if (i < expr.size() && expr[i] == '.') return fail("cannot use float as array index");
        skip_ws();
        if (i >= expr.size() || expr[i] != ']') {
          if (i < expr.size()) return fail(std::string("non-integer value: ") + expr[i]);
          return fail("syntax error: unexpected $end, expecting RSB");
        }
        ++i;
        out.push_back(PathElem{true, v, {}});
      } else {
        return fail(std::string("unexpected char ") + expr[i]);
      }
    } else if (c == '"') {
      return fail("syntax error: unexpected STRING, expecting LSB or FIELD");
    } else {
      return fail(std::string("unexpected char ") + c);
    }
    first = false;
  }
  return out;
}

// Finds `path` in the JSON text; sets *type/*value. Returns false when absent; *error is set
// when the document is malformed along the way.
bool JsonLookup(std::string_view doc, const std::vector<PathElem>& path, JsonType* type,
                std::string_view* value, std::string_view* error) {
  std::string_view cur = doc;
  JsonType cur_type = JsonType::kObject;
  {
    size_t p = 0;
    std::string_view err = JsonParseValue(doc, &p, &cur_type, &cur);
    if (!err.empty()) {
      *error = err;
      return false;
    }
  }
  std::string key_buf;
  for (const PathElem& e : path) {
    if (e.is_index) {
      if (cur_type != JsonType::kArray) return false;
      size_t i = JsonSkipSpace(cur, 1);
      if (i < cur.size() && cur[i] == ']') return false;
      int n = 0;
      bool found = false;
      while (i < cur.size()) {
        JsonType t;
        std::string_view v;
        std::string_view err = JsonParseValue(cur, &i, &t, &v);
        if (!err.empty()) {
          *error = err;
          return false;
        }
        if (n == e.index) {
          cur = v;
          cur_type = t;
          found = true;
          break;
        }
        ++n;
        i = JsonSkipSpace(cur, i);
        if (i >= cur.size() || cur[i] != ',') break;
        ++i;
      }
      if (!found) return false;
    } else {
      if (cur_type != JsonType::kObject) return false;
      bool found = false;
      JsonType ft = JsonType::kNull;
      std::string_view fv;
      std::string_view err = JsonObjectEach(
          cur, [&](std::string_view k, bool escaped, JsonType t, std::string_view v) {
            std::string_view key = k;
            if (escaped) {
              if (!JsonUnescape(k, &key_buf)) return true;
              key = key_buf;
            }
            if (key == e.key) {
              found = true;
              ft = t;
              fv = v;
              return false;
            }
            return true;
          });
      if (!err.empty()) {
        *error = err;
        return false;
      }
      if (!found) return false;
      cur = fv;
      cur_type = ft;
    }
  }
  *type = cur_type;
  *value = cur;
  return true;
}

class JsonExpressionParser final : public Stage {
 public:
  JsonExpressionParser(std::vector<std::string> ids, std::vector<std::vector<PathElem>> paths)
      : ids_(std::move(ids)), paths_(std::move(paths)) {}

  bool Process(int64_t, std::string_view& line, LabelsBuilder& lbs) override {
    if (line.empty()) return true;
    if (line[0] != '"' && line[0] != '{' && line[0] != '[') {
      lbs.SetError(kJsonParserErr);
      return true;
    }
    for (size_t k = 0; k < ids_.size(); ++k) {
      JsonType type;
      std::string_view raw;
      std::string_view error;
      bool found = JsonLookup(line, paths_[k], &type, &raw, &error);
      if (!error.empty()) {
        lbs.SetError(kJsonParserErr);
        lbs.SetErrorDetails(error);
        continue;
      }
      lbs.ParsedName(ids_[k], &name_);
      if (!found) {
        // Loki adds an empty label for every expression without a match (by its plain id,
        // unless that name is already visible).
        if (!lbs.Get(ids_[k])) lbs.Set(LabelCategory::kParsed, ids_[k], "");
        continue;
      }
      switch (type) {
        case JsonType::kNull: lbs.Set(LabelCategory::kParsed, name_, ""); break;
        case JsonType::kObject: lbs.Set(LabelCategory::kParsed, name_, raw); break;
        default: lbs.Set(LabelCategory::kParsed, name_, JsonStringValue(raw, &value_buf_)); break;
      }
    }
    return true;
  }

 private:
  std::vector<std::string> ids_;
  std::vector<std::vector<PathElem>> paths_;
  std::string name_;
  std::string value_buf_;
};

// ---- | unpack -----------------------------------------------------------------------------

class UnpackParser final : public Stage {
 public:
  bool Process(int64_t, std::string_view& line, LabelsBuilder& lbs) override {
    if (line.empty()) return true;
    if (line[0] != '{') {
      lbs.SetError(kJsonParserErr);
      lbs.SetErrorDetails("expecting json object(6), but it is not");
      return true;
    }
    pending_.clear();
    bool packed = false;
    std::string_view entry;
    std::string name;
    std::string_view err = JsonObjectEach(
        line, [&](std::string_view key_raw, bool escaped, JsonType type, std::string_view value) {
          if (type != JsonType::kString) return true;
          std::string key_unesc;
          std::string_view key = key_raw;
          if (escaped) {
            if (!JsonUnescape(key_raw, &key_unesc)) return true;
            key = key_unesc;
          }
          if (key == "_entry") {
            if (!JsonUnescape(value, &entry_buf_)) {
              entry_error_ = true;
              return false;
            }
            packed = true;
            return true;
          }
          // The clash check uses the raw key; the label name is then sanitized.
          lbs.ParsedName(key, &name);
          pending_.push_back({SanitizeLabelKey(name), std::string()});
          std::string buf;
          pending_.back().second.assign(JsonStringValue(value, &buf));
          return true;
        });
    if (entry_error_) {
      entry_error_ = false;
      lbs.SetError(kJsonParserErr);
      lbs.SetErrorDetails(internal::kMalformedStringEscape);
      return true;
    }
    if (!err.empty()) {
      lbs.SetError(kJsonParserErr);
      lbs.SetErrorDetails(err);
      return true;
    }
    if (packed) {
      for (const auto& [k, v] : pending_) {
        if (!k.empty()) lbs.AddParsed(k, v);
      }
      entry = entry_buf_;
      line = entry;
    }
    return true;
  }

 private:
  std::vector<std::pair<std::string, std::string>> pending_;
  std::string entry_buf_;
  bool entry_error_ = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Stage>> MakeJsonParser(const std::vector<LabelExtraction>& params,
                                                      const std::vector<std::string>* only_labels) {
  if (params.empty()) {
    if (only_labels) return std::unique_ptr<Stage>(std::make_unique<JsonParser>(*only_labels));
    return std::unique_ptr<Stage>(std::make_unique<JsonParser>());
  }
  std::vector<std::string> ids;
  std::vector<std::vector<PathElem>> paths;
  for (const auto& p : params) {
    auto path = ParseJsonPath(p.expression);
    if (!path.ok()) return path.status();
    if (p.label.empty()) {
      return absl::InvalidArgumentError("invalid extracted label name '" + p.label + "'");
    }
    ids.push_back(p.label);
    paths.push_back(std::move(*path));
  }
  return std::unique_ptr<Stage>(
      std::make_unique<JsonExpressionParser>(std::move(ids), std::move(paths)));
}

absl::StatusOr<std::unique_ptr<Stage>> MakeUnpackParser() {
  return std::unique_ptr<Stage>(std::make_unique<UnpackParser>());
}

}  // namespace otelbox::query::logql
