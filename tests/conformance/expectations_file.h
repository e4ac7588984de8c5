#pragma once
// The checked-in list of known conformance failures (STYLE.md 3.4): one case per line,
// "<key>  <reason>", grouped under "# == group (N) ==" lines. Other comment lines directly
// above an entry belong to it (a note on a compatibility choice) and survive
// --update-expectations while the case still fails. The list only shrinks.
//
// The PromQL and LogQL runners key a case by "file:line"; the TraceQL runner reads a
// hand-written list keyed by "<category>\t<query as written>" (KeyUpToSecondTab).

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace otelbox::conformance {

struct Expectation {
  std::string reason;
  std::vector<std::string> notes;  // comment lines kept with the entry
};

// How a listed case is named and grouped when the file is rewritten.
struct ExpectationsLayout {
  std::string header;  // comment lines at the top, each ending in '\n'
  // Groups in this order first, the rest alphabetically.
  std::vector<std::string> group_order;
  // The group of a reason; nullptr = the text before the first ':'.
  std::string (*group_of)(const std::string& reason) = nullptr;

  std::string GroupOf(const std::string& reason) const;
};

// "functions.test:12" < "functions.test:100": by file, then numerically by line.
bool CaseKeyLess(const std::string& a, const std::string& b);

// The length of the key at the start of a (trimmed, non-comment) line; 0: not an entry.
// "<key> <reason>": up to the first space or tab.
size_t KeyUpToSpace(std::string_view line);
// "<category>\t<query>\t# reason": up to the second tab (or the whole line); a line
// without a tab is not an entry.
size_t KeyUpToSecondTab(std::string_view line);

class Expectations {
 public:
  using KeyEnd = size_t (*)(std::string_view line);

  // Reads `path`; a missing file reads as empty (exists() tells).
  static Expectations Read(const std::string& path, KeyEnd key_end = KeyUpToSpace);

  bool exists() const { return exists_; }
  const std::map<std::string, Expectation>& entries() const { return entries_; }
  bool contains(const std::string& key) const { return entries_.contains(key); }
  // nullptr when not listed.
  const Expectation* Find(const std::string& key) const;

  void Set(const std::string& key, Expectation e) { entries_[key] = std::move(e); }

  // Writes the header, then the entries grouped by layout.GroupOf(reason), each group
  // sorted by CaseKeyLess. False when the file cannot be written.
  bool Write(const std::string& path, const ExpectationsLayout& layout) const;

 private:
  bool exists_ = false;
  std::map<std::string, Expectation> entries_;
};

}  // namespace otelbox::conformance
