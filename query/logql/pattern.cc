// Loki's pattern expressions: `<name>` captures, `<_>` skips, everything else literal. Used by
// `| pattern` (captures become labels) and the `|>` / `!>` line filters.

#include "absl/status/status.h"
#include "query/logql/pipeline_internal.h"

namespace otelbox::query::logql::internal {

namespace {

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAlnum(char c) { return IsAlpha(c) || (c >= '0' && c <= '9'); }

// Length of a `<ident>` token at s[0], or 0.
size_t IdentifierAt(std::string_view s) {
  if (s.size() < 3 || s[0] != '<') return 0;
  if (!(IsAlpha(s[1]) || s[1] == '_')) return 0;
  size_t i = 2;
  while (i < s.size() && (IsAlnum(s[i]) || s[i] == '_')) ++i;
  if (i < s.size() && s[i] == '>') return i + 1;
  return 0;
}

// UTF-8 sequence length at s[0] or 0 when invalid (Loki's lexer rejects invalid UTF-8).
size_t Utf8Len(std::string_view s) {
  unsigned char c = static_cast<unsigned char>(s[0]);
  size_t len = c < 0x80 ? 1 : (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3
               : (c >= 0xF0 && c <= 0xF4) ? 4 : 0;
  if (len == 0 || len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((static_cast<unsigned char>(s[k]) & 0xC0) != 0x80) return 0;
  }
  return len;
}

absl::StatusOr<std::vector<PatternNode>> ParseNodes(std::string_view in) {
  std::vector<PatternNode> nodes;
  size_t i = 0;
  while (i < in.size()) {
    if (size_t id = IdentifierAt(in.substr(i)); id > 0) {
      nodes.push_back(PatternNode{true, std::string(in.substr(i + 1, id - 2))});
      i += id;
      continue;
    }
    size_t len = Utf8Len(in.substr(i));
    if (len == 0) {
      return absl::InvalidArgumentError("parse error at line 1, col " + std::to_string(i + 1) +
                                        ": invalid UTF-8 in pattern");
    }
    if (nodes.empty() || nodes.back().is_capture) nodes.push_back(PatternNode{false, {}});
    nodes.back().text.append(in.substr(i, len));
    i += len;
  }
  if (nodes.empty()) {
    return absl::InvalidArgumentError("syntax error: unexpected $end");
  }
  return nodes;
}

absl::Status NoConsecutiveCaptures(const std::vector<PatternNode>& nodes) {
  for (size_t i = 0; i + 1 < nodes.size(); ++i) {
    if (nodes[i].is_capture && nodes[i + 1].is_capture) {
      return absl::InvalidArgumentError("found consecutive capture '<" + nodes[i].text + "><" +
                                        nodes[i + 1].text + ">': invalid expression");
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<PatternMatcher> PatternMatcher::ForParser(std::string_view pattern) {
  auto nodes = ParseNodes(pattern);
  if (!nodes.ok()) return nodes.status();
  PatternMatcher m;
  m.nodes_ = std::move(*nodes);
  for (const auto& n : m.nodes_) {
    if (n.is_capture && !n.unnamed()) m.names_.push_back(n.text);
  }
  if (m.names_.empty()) return absl::InvalidArgumentError("at least one capture is required");
  if (auto s = NoConsecutiveCaptures(m.nodes_); !s.ok()) return s;
  for (size_t i = 0; i < m.names_.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (m.names_[i] == m.names_[j]) {
        return absl::InvalidArgumentError("duplicate capture name (" + m.names_[i] +
                                          "): invalid expression");
      }
    }
  }
  return m;
}

absl::StatusOr<PatternMatcher> PatternMatcher::ForLineFilter(std::string_view pattern) {
  PatternMatcher m;
  if (pattern.empty()) return m;
  auto nodes = ParseNodes(pattern);
  if (!nodes.ok()) return nodes.status();
  m.nodes_ = std::move(*nodes);
  if (auto s = NoConsecutiveCaptures(m.nodes_); !s.ok()) return s;
  for (const auto& n : m.nodes_) {
    if (n.is_capture && !n.unnamed()) {
      return absl::InvalidArgumentError("named captures are not allowed: found '<" + n.text +
                                        ">'");
    }
  }
  return m;
}

void PatternMatcher::Matches(std::string_view in, std::vector<std::string_view>* out) const {
  out->clear();
  if (in.empty() || nodes_.empty()) return;
  size_t e = 0;
  if (!nodes_[0].is_capture) {
    // The line must start with the leading literal.
    if (in.substr(0, nodes_[0].text.size()) != nodes_[0].text) return;
    in.remove_prefix(nodes_[0].text.size());
    e = 1;
  }
  if (e == nodes_.size()) return;
  while (e < nodes_.size()) {
    const PatternNode& capt = nodes_[e];
    if (e + 1 == nodes_.size()) {  // ending on a capture: it takes the rest
      if (!capt.unnamed()) out->push_back(in);
      return;
    }
    const std::string& lit = nodes_[e + 1].text;
    e += 2;
    size_t i = in.find(lit);
    if (i == std::string_view::npos) {
      if (!capt.unnamed()) out->push_back(in);
      return;
    }
    if (!capt.unnamed()) out->push_back(in.substr(0, i));
    in.remove_prefix(i + lit.size());
  }
}

bool PatternMatcher::Test(std::string_view in) const {
  if (in.empty() || nodes_.empty()) return in.empty() && nodes_.empty();
  size_t off = 0;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].is_capture) continue;
    const std::string& lit = nodes_[i].text;
    size_t j = in.substr(off).find(lit);
    if (j == std::string_view::npos) return false;
    if (i != 0 && j == 0) return false;  // a capture before this literal must match something
    off += j + lit.size();
  }
  bool requires_rest = nodes_.back().is_capture;
  bool has_rest = off != in.size();
  return requires_rest == has_rest;
}

}  // namespace otelbox::query::logql::internal
