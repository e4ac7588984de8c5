#include "tests/conformance/expectations_file.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <utility>

#include "tests/conformance/promql_text.h"

namespace otelbox::conformance {

std::string ExpectationsLayout::GroupOf(const std::string& reason) const {
  if (group_of != nullptr) return group_of(reason);
  return reason.substr(0, reason.find(':'));
}

bool CaseKeyLess(const std::string& a, const std::string& b) {
  auto split = [](const std::string& k) {
    size_t c = k.rfind(':');
    return std::make_pair(k.substr(0, c), c == std::string::npos ? 0 : std::atoi(k.c_str() + c + 1));
  };
  return split(a) < split(b);
}

size_t KeyUpToSpace(std::string_view line) { return std::min(line.find_first_of(" \t"), line.size()); }

size_t KeyUpToSecondTab(std::string_view line) {
  size_t first = line.find('\t');
  if (first == std::string_view::npos) return 0;
  return std::min(line.find('\t', first + 1), line.size());
}

Expectations Expectations::Read(const std::string& path, KeyEnd key_end) {
  Expectations out;
  std::ifstream in(path);
  out.exists_ = static_cast<bool>(in);
  std::vector<std::string> notes;
  std::string line;
  while (std::getline(in, line)) {
    std::string_view l = Trim(line);
    if (l.empty() || l.starts_with("# ==")) {
      notes.clear();
      continue;
    }
    if (l.starts_with("#")) {
      notes.emplace_back(l);
      continue;
    }
    size_t key_size = key_end(l);
    if (key_size == 0) continue;
    out.entries_[std::string(l.substr(0, key_size))] =
        Expectation{std::string(Trim(l.substr(key_size))), std::move(notes)};
    notes.clear();
  }
  return out;
}

const Expectation* Expectations::Find(const std::string& key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &it->second;
}

bool Expectations::Write(const std::string& path, const ExpectationsLayout& layout) const {
  std::map<std::string, std::vector<std::string>> groups;
  for (const auto& [key, e] : entries_) groups[layout.GroupOf(e.reason)].push_back(key);
  auto rank = [&](const std::string& g) {
    auto it = std::find(layout.group_order.begin(), layout.group_order.end(), g);
    return static_cast<size_t>(it - layout.group_order.begin());  // size() when not listed
  };
  std::vector<std::string> names;
  for (const auto& [name, keys] : groups) names.push_back(name);
  std::sort(names.begin(), names.end(), [&](const std::string& a, const std::string& b) {
    return std::make_pair(rank(a), a) < std::make_pair(rank(b), b);
  });
  std::ofstream out(path, std::ios::trunc);
  if (!out) return false;
  out << layout.header;
  for (const auto& name : names) {
    auto& keys = groups[name];
    std::sort(keys.begin(), keys.end(), CaseKeyLess);
    out << "\n# == " << name << " (" << keys.size() << ") ==\n";
    for (const auto& key : keys) {
      const Expectation& e = entries_.at(key);
      for (const auto& n : e.notes) out << n << "\n";
      out << key << "  " << e.reason << "\n";
    }
  }
  return static_cast<bool>(out);
}

}  // namespace otelbox::conformance
