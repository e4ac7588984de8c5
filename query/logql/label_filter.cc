// Label filters (Loki's label_filter.go + ip.go): string matchers, number / duration / bytes
// comparisons, ip(), combined with and / or. Loki's per-line rules kept here:
//  - string matchers read an absent label as ""; `__error__` reads the error label;
//  - number/duration/bytes filters drop a line without the label; a value that does not
//    convert keeps the line and sets __error__=LabelFilterErr (the first failure owns
//    __error_details__);
//  - ip() keeps any line that already carries an error;
//  - `or` skips its right side when the left matched; `and` always runs both.

#include <re2/re2.h>

#include "absl/status/status.h"
#include "query/logql/pipeline_internal.h"

namespace otelbox::query::logql {

LabelFilterSpec LabelFilterSpec::String(std::string name, storage::MatchType m,
                                        std::string value) {
  LabelFilterSpec s;
  s.kind = Kind::kString;
  s.name = std::move(name);
  s.match = m;
  s.text = std::move(value);
  return s;
}
LabelFilterSpec LabelFilterSpec::Number(std::string name, CompareOp op, double v) {
  LabelFilterSpec s;
  s.kind = Kind::kNumber;
  s.name = std::move(name);
  s.cmp = op;
  s.number = v;
  return s;
}
LabelFilterSpec LabelFilterSpec::Duration(std::string name, CompareOp op, int64_t ns) {
  LabelFilterSpec s;
  s.kind = Kind::kDuration;
  s.name = std::move(name);
  s.cmp = op;
  s.duration_ns = ns;
  return s;
}
LabelFilterSpec LabelFilterSpec::Bytes(std::string name, CompareOp op, uint64_t b) {
  LabelFilterSpec s;
  s.kind = Kind::kBytes;
  s.name = std::move(name);
  s.cmp = op;
  s.bytes = b;
  return s;
}
LabelFilterSpec LabelFilterSpec::Ip(std::string name, CompareOp op, std::string pattern) {
  LabelFilterSpec s;
  s.kind = Kind::kIp;
  s.name = std::move(name);
  s.cmp = op;
  s.text = std::move(pattern);
  return s;
}
LabelFilterSpec LabelFilterSpec::And(LabelFilterSpec l, LabelFilterSpec r) {
  LabelFilterSpec s;
  s.kind = Kind::kAnd;
  s.children.push_back(std::move(l));
  s.children.push_back(std::move(r));
  return s;
}
LabelFilterSpec LabelFilterSpec::Or(LabelFilterSpec l, LabelFilterSpec r) {
  LabelFilterSpec s;
  s.kind = Kind::kOr;
  s.children.push_back(std::move(l));
  s.children.push_back(std::move(r));
  return s;
}

namespace {

using Kind = LabelFilterSpec::Kind;

template <typename T>
bool Compare(CompareOp op, T a, T b) {
  switch (op) {
    case CompareOp::kEq: return a == b;
    case CompareOp::kNeq: return a != b;
    case CompareOp::kGt: return a > b;
    case CompareOp::kGte: return a >= b;
    case CompareOp::kLt: return a < b;
    case CompareOp::kLte: return a <= b;
  }
  return false;
}

struct Node {
  Kind kind;
  std::string name;
  // kString
  enum class StrMode { kEqual, kAlways, kNonEmpty, kContains, kRegex } str_mode = StrMode::kEqual;
  bool negate = false;
  bool fold = false;  // kContains: ASCII case-insensitive (text lower-cased)
  std::string text;
  std::shared_ptr<const re2::RE2> re;
  // comparisons
  CompareOp cmp = CompareOp::kEq;
  double number = 0;
  int64_t duration_ns = 0;
  uint64_t bytes = 0;
  std::shared_ptr<const internal::IpMatcher> ip;
  std::unique_ptr<Node> left, right;

  bool Eval(LabelsBuilder& lbs) const;
};

void SetFilterError(LabelsBuilder& lbs, const absl::Status& s) {
  if (lbs.HasError()) return;
  lbs.SetError(kLabelFilterErr);
  lbs.SetErrorDetails(std::string(s.message()));
}

bool Node::Eval(LabelsBuilder& lbs) const {
  switch (kind) {
    case Kind::kAnd: {
      bool l = left->Eval(lbs);
      bool r = right->Eval(lbs);
      return l && r;
    }
    case Kind::kOr:
      if (left->Eval(lbs)) return true;
      return right->Eval(lbs);
    case Kind::kString: {
      std::string_view v;
      if (name == kErrorLabel) {
        v = lbs.error();
      } else if (auto got = lbs.Get(name)) {
        v = *got;
      }
      bool m = false;
      switch (str_mode) {
        case StrMode::kEqual: m = v == text; break;
        case StrMode::kAlways: m = true; break;
        case StrMode::kNonEmpty: m = !v.empty(); break;
        case StrMode::kContains:
          m = fold ? internal::ContainsFold(v, text) : internal::ContainsBytes(v, text);
          break;
        case StrMode::kRegex: m = RE2::FullMatch(v, *re); break;
      }
      return m != negate;
    }
    case Kind::kNumber: {
      auto got = lbs.Get(name);
      if (!got) return false;
      auto v = ParseGoFloat(*got);
      if (!v.ok()) {
        SetFilterError(lbs, v.status());
        return true;
      }
      return Compare(cmp, *v, number);
    }
    case Kind::kDuration: {
      auto got = lbs.Get(name);
      if (!got) return false;
      auto v = ParseGoDuration(*got);
      if (!v.ok()) {
        SetFilterError(lbs, v.status());
        return true;
      }
      return Compare(cmp, *v, duration_ns);
    }
    case Kind::kBytes: {
      auto got = lbs.Get(name);
      if (!got) return false;
      auto v = ParseHumanBytes(*got);
      if (!v.ok()) {
        SetFilterError(lbs, v.status());
        return true;
      }
      return Compare(cmp, *v, bytes);
    }
    case Kind::kIp: {
      if (lbs.HasError()) return true;
      auto got = lbs.Get(name);
      if (!got) return false;
      bool m = ip->MatchesIn(*got);
      return cmp == CompareOp::kNeq ? !m : m;
    }
  }
  return false;
}

// `[(?i)] .*lit`, `lit.*` or `.*lit.*` (at least one `.*`): what Loki's regex simplifier
// turns into a substring filter. Sets the literal (lower-cased when case-insensitive).
bool StarLiteral(std::string_view expr, std::string* lit, bool* fold) {
  std::string_view core = expr;
  bool ci = false;
  if (core.substr(0, 4) == "(?i)") {
    ci = true;
    core.remove_prefix(4);
  }
  bool star = false;
  if (core.substr(0, 2) == ".*") {
    core.remove_prefix(2);
    star = true;
  }
  if (core.size() >= 2 && core.substr(core.size() - 2) == ".*") {
    size_t backslashes = 0;
    while (backslashes < core.size() - 2 && core[core.size() - 3 - backslashes] == '\\') ++backslashes;
    if (backslashes % 2 == 0) {
      core.remove_suffix(2);
      star = true;
    }
  }
  if (!star || core.empty()) return false;
  bool literal_fold = false;
  if (!internal::RegexAsLiteral(core, lit, &literal_fold) || lit->empty() || literal_fold) return false;
  if (ci) {
    for (char& c : *lit) {
      if (static_cast<unsigned char>(c) >= 0x80) return false;  // Unicode folding: use RE2
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
  }
  *fold = ci;
  return true;
}

absl::StatusOr<std::unique_ptr<Node>> Compile(const LabelFilterSpec& spec) {
  auto n = std::make_unique<Node>();
  n->kind = spec.kind;
  n->name = spec.name;
  n->cmp = spec.cmp;
  switch (spec.kind) {
    case Kind::kAnd:
    case Kind::kOr: {
      if (spec.children.size() != 2) {
        return absl::InvalidArgumentError("BUG: binary label filter needs two operands");
      }
      auto l = Compile(spec.children[0]);
      if (!l.ok()) return l.status();
      auto r = Compile(spec.children[1]);
      if (!r.ok()) return r.status();
      n->left = std::move(*l);
      n->right = std::move(*r);
      return n;
    }
    case Kind::kString:
      switch (spec.match) {
        case storage::MatchType::kEqual:
        case storage::MatchType::kNotEqual:
          n->str_mode = Node::StrMode::kEqual;
          n->text = spec.text;
          n->negate = spec.match == storage::MatchType::kNotEqual;
          return n;
        case storage::MatchType::kRegexMatch:
        case storage::MatchType::kRegexNoMatch: {
          n->negate = spec.match == storage::MatchType::kRegexNoMatch;
          // Loki's regex simplifier: `.*` is always true and `.+` means non-empty, even for
          // values with newlines (its anchored regex would not match those without (?s)).
          auto re = internal::CompileGoRegex(spec.text, /*anchor_full=*/true);
          if (!re.ok()) return re.status();
          // Loki turns an empty regex into its always-true filter (not Prometheus' "only
          // empty"), and `lit.*` / `.*lit` / `.*lit.*` into a substring filter — unanchored,
          // so `=~"foo.*"` also matches "xfoo" there. Kept for identical results.
          if (spec.text == ".*" || spec.text.empty()) {
            n->str_mode = Node::StrMode::kAlways;
            return n;
          }
          if (std::string lit; StarLiteral(spec.text, &lit, &n->fold)) {
            n->str_mode = Node::StrMode::kContains;
            n->text = std::move(lit);
            return n;
          }
          if (spec.text == ".+") {
            n->str_mode = Node::StrMode::kNonEmpty;
            return n;
          }
          n->str_mode = Node::StrMode::kRegex;
          n->re = std::move(*re);
          return n;
        }
      }
      return n;
    case Kind::kNumber:
      n->number = spec.number;
      return n;
    case Kind::kDuration:
      n->duration_ns = spec.duration_ns;
      return n;
    case Kind::kBytes:
      n->bytes = spec.bytes;
      return n;
    case Kind::kIp: {
      if (spec.cmp != CompareOp::kEq && spec.cmp != CompareOp::kNeq) {
        return absl::InvalidArgumentError("ip: invalid operation");
      }
      auto ip = internal::IpMatcher::Create(spec.text);
      if (!ip.ok()) return ip.status();
      n->ip = std::make_shared<const internal::IpMatcher>(std::move(*ip));
      return n;
    }
  }
  return n;
}

class LabelFilterStage final : public Stage {
 public:
  explicit LabelFilterStage(std::unique_ptr<Node> root) : root_(std::move(root)) {}
  bool Process(int64_t, std::string_view&, LabelsBuilder& lbs) override {
    return root_->Eval(lbs);
  }

 private:
  std::unique_ptr<Node> root_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Stage>> MakeLabelFilter(const LabelFilterSpec& spec) {
  auto root = Compile(spec);
  if (!root.ok()) return root.status();
  return std::unique_ptr<Stage>(std::make_unique<LabelFilterStage>(std::move(*root)));
}

}  // namespace otelbox::query::logql
