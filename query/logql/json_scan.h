#pragma once
// A small allocation-free JSON scanner with the leniency of buger/grafana jsonparser (which
// Loki's json / unpack parsers use): numbers are taken as raw tokens, text after the top-level
// object is ignored, and errors carry jsonparser's messages.

#include <cstdint>
#include <string>
#include <string_view>

namespace otelbox::query::logql::internal {

enum class JsonType : uint8_t { kString, kNumber, kObject, kArray, kBool, kNull };

// jsonparser's error texts (they end up in __error_details__).
inline constexpr std::string_view kMalformedJson = "Malformed JSON error";
inline constexpr std::string_view kMalformedString =
    "Value is string, but can't find closing '\"' symbol";
inline constexpr std::string_view kMalformedArray =
    "Value is array, but can't find closing ']' symbol";
inline constexpr std::string_view kMalformedObject =
    "Value looks like object, but can't find closing '}' symbol";
inline constexpr std::string_view kMalformedValue =
    "Value looks like Number/Boolean/None, but can't find its end: ',' or '}' symbol";
inline constexpr std::string_view kUnknownValueType = "Unknown value type";
inline constexpr std::string_view kMalformedStringEscape =
    "Encountered an invalid escape sequence in a string";

// Parses the value starting at or after `*pos` (whitespace skipped). On success sets *type,
// *value (strings: the raw text between the quotes, still escaped; others: the raw text) and
// advances *pos past it. Returns "" or an error text.
std::string_view JsonParseValue(std::string_view s, size_t* pos, JsonType* type,
                                std::string_view* value);

// Calls visit(key_raw, key_has_escapes, type, value) for each member of the object `s`
// (which must start with '{' after whitespace). visit returns false to stop early.
// Returns "" or an error text.
template <typename F>
std::string_view JsonObjectEach(std::string_view s, F&& visit);

// Decodes a JSON string body (escapes) into *out. False on a bad escape.
bool JsonUnescape(std::string_view raw, std::string* out);

// Loki's unescapeJSONString: decode, "" on a bad escape, then invalid UTF-8 (and U+FFFD)
// become spaces. Returns a view of `raw` when nothing needs changing, else of *buf.
std::string_view JsonStringValue(std::string_view raw, std::string* buf);

// Replaces invalid UTF-8 sequences and U+FFFD with ' ' (Loki's removeInvalidUtf), returning
// `in` itself when it is clean, else a view of *buf.
std::string_view ReplaceInvalidUtf8(std::string_view in, std::string* buf);

// Index of the quote closing the string that opens at s[i], or npos.
size_t JsonStringEnd(std::string_view s, size_t i);

inline size_t JsonSkipSpace(std::string_view s, size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  return i;
}

template <typename F>
std::string_view JsonObjectEach(std::string_view s, F&& visit) {
  // Error texts follow jsonparser.ObjectEach step by step.
  size_t i = JsonSkipSpace(s, 0);
  if (i >= s.size() || s[i] != '{') return kMalformedObject;
  i = JsonSkipSpace(s, i + 1);
  if (i >= s.size()) return kMalformedJson;
  while (i < s.size()) {
    if (s[i] == '}') return {};
    if (s[i] != '"') return kMalformedObject;
    size_t k = JsonStringEnd(s, i);
    if (k == std::string_view::npos) return kMalformedJson;
    std::string_view key = s.substr(i + 1, k - i - 1);
    const bool escaped = key.find('\\') != std::string_view::npos;
    i = JsonSkipSpace(s, k + 1);
    if (i >= s.size() || s[i] != ':') return kMalformedJson;
    ++i;
    JsonType type;
    std::string_view value;
    std::string_view err = JsonParseValue(s, &i, &type, &value);
    if (!err.empty()) return err;
    if (!visit(key, escaped, type, value)) return {};
    i = JsonSkipSpace(s, i);
    if (i >= s.size()) return kMalformedArray;
    if (s[i] == '}') return {};
    if (s[i] != ',') return kMalformedObject;
    i = JsonSkipSpace(s, i + 1);
    if (i >= s.size()) return kMalformedArray;
  }
  return kMalformedObject;
}

}  // namespace otelbox::query::logql::internal
