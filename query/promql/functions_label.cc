// label_replace, label_join and sort_by_label(_desc), as Prometheus' functions.go.
// Replacement templates follow Go's regexp.Expand ($1, ${1}, $name, ${name}, $$).

#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <memory>

#include "common/utf8.h"
#include "query/promql/evaluator.h"

namespace otelbox::query::promql {
namespace {

bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Go's regexp.Expand.
std::string Expand(std::string_view tmpl, const re2::RE2& re,
                   const std::vector<std::string_view>& groups) {
  std::string out;
  const auto& named = re.NamedCapturingGroups();
  auto group_value = [&](std::string_view name) -> std::string_view {
    bool numeric = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return std::isdigit(static_cast<unsigned char>(c));
    });
    if (numeric) {
      if (name.size() > 9) return {};
      size_t n = std::stoul(std::string(name));
      return n < groups.size() ? groups[n] : std::string_view{};
    }
    auto it = named.find(std::string(name));
    if (it == named.end() || static_cast<size_t>(it->second) >= groups.size()) return {};
    return groups[static_cast<size_t>(it->second)];
  };
  size_t i = 0;
  while (i < tmpl.size()) {
    size_t d = tmpl.find('$', i);
    if (d == std::string_view::npos) {
      out.append(tmpl.substr(i));
      break;
    }
    out.append(tmpl.substr(i, d - i));
    i = d + 1;
    if (i < tmpl.size() && tmpl[i] == '$') {
      out += '$';
      ++i;
      continue;
    }
    std::string_view name;
    if (i < tmpl.size() && tmpl[i] == '{') {
      size_t close = tmpl.find('}', i + 1);
      size_t j = i + 1;
      while (j < tmpl.size() && IsWordChar(tmpl[j])) ++j;
      if (close == std::string_view::npos || close != j || j == i + 1) {
        out += '$';  // malformed: literal '$'
        continue;
      }
      name = tmpl.substr(i + 1, j - i - 1);
      i = close + 1;
    } else {
      size_t j = i;
      while (j < tmpl.size() && IsWordChar(tmpl[j])) ++j;
      if (j == i) {
        out += '$';
        continue;
      }
      name = tmpl.substr(i, j - i);
      i = j;
    }
    out.append(group_value(name));
  }
  return out;
}

const std::string& StringArg(const EvalValue& v) { return v.str; }

// facette/natsort.Compare, which Prometheus' sort_by_label uses.
std::vector<std::string_view> Chunks(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    bool digit = std::isdigit(static_cast<unsigned char>(s[i]));
    size_t j = i;
    while (j < s.size() && static_cast<bool>(std::isdigit(static_cast<unsigned char>(s[j]))) == digit) ++j;
    out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

bool ParseIntChunk(std::string_view s, long long* v) {
  if (s.empty() || s.size() > 18) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  *v = std::stoll(std::string(s));
  return true;
}

bool NatLess(std::string_view a, std::string_view b) {
  auto ca = Chunks(a), cb = Chunks(b);
  for (size_t i = 0; i < ca.size(); ++i) {
    if (i >= cb.size()) return false;
    long long x, y;
    bool numeric = ParseIntChunk(ca[i], &x) && ParseIntChunk(cb[i], &y);
    bool equal = numeric ? x == y : ca[i] == cb[i];
    if (equal) {
      if (i == ca.size() - 1) return true;
      if (i == cb.size() - 1) return false;
      continue;
    }
    return numeric ? x < y : ca[i] < cb[i];
  }
  return false;
}


}  // namespace

EvalValue Evaluator::EvalLabelFunction(const Call& c) {
  const std::string& fn = c.func;
  EvalValue v = Eval(*c.args[0]);
  std::vector<std::string> args;
  for (size_t i = 1; i < c.args.size(); ++i) args.push_back(StringArg(Eval(*c.args[i])));

  if (fn == "sort_by_label" || fn == "sort_by_label_desc") {
    if (steps_.count != 1) return v;
    bool desc = fn == "sort_by_label_desc";
    std::stable_sort(v.series.begin(), v.series.end(), [&](const Series& a, const Series& b) {
      for (const auto& name : args) {
        std::string_view x = a.labels.Get(name), y = b.labels.Get(name);
        if (x == y) continue;
        return desc ? !NatLess(x, y) : NatLess(x, y);
      }
      return desc ? b.labels < a.labels : a.labels < b.labels;
    });
    return v;
  }

  const std::string& dst = args[0];
  if (dst.empty() || !IsValidUtf8(dst)) ThrowExecution("invalid destination label name in " + fn + "(): " + dst);
  std::unique_ptr<re2::RE2> re;
  if (fn == "label_replace") {
    re2::RE2::Options opts;
    opts.set_log_errors(false);
    opts.set_dot_nl(true);
    re = std::make_unique<re2::RE2>("^(?:" + args[3] + ")$", opts);
    if (!re->ok()) {
      ThrowExecution("invalid regular expression in label_replace(): " + args[3]);
    }
  }
  for (auto& s : v.series) {
    std::string value;
    if (fn == "label_replace") {
      std::string_view src(s.labels.Get(args[2]));
      int n = re->NumberOfCapturingGroups() + 1;
      std::vector<re2::StringPiece> pieces(static_cast<size_t>(n));
      if (!re->Match(src, 0, src.size(), re2::RE2::UNANCHORED, pieces.data(), n)) continue;
      std::vector<std::string_view> groups;
      for (const auto& p : pieces) groups.emplace_back(p.data(), p.size());
      value = Expand(args[1], *re, groups);
    } else {  // label_join(v, dst, separator, src...)
      for (size_t i = 2; i < args.size(); ++i) {
        if (i > 2) value += args[1];
        value += s.labels.Get(args[i]);
      }
    }
    std::vector<storage::Label> ls;
    for (const auto& l : s.labels) {
      if (l.name != dst) ls.push_back(l);
    }
    if (!value.empty()) ls.push_back({dst, value});
    s.labels = storage::Labels(std::move(ls));
    if (dst == storage::kMetricNameLabel) s.drop_name = false;
  }
  MergeSameLabels(&v.series);
  return v;
}

}  // namespace otelbox::query::promql
