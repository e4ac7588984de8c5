#pragma once
// Shared helpers of the storage unit tests: a temp directory and a settable clock.

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "storage/db.h"
#include "storage/model/matcher.h"
#include "storage/model/sample.h"
#include <ostream>

namespace otelbox::storage {
// Readable gtest failure output.
inline void PrintTo(const Labels& l, std::ostream* os) { *os << l.ToString(); }
inline void PrintTo(const Sample& s, std::ostream* os) { *os << "(" << s.t_ms << ", " << s.value << ")"; }
}  // namespace otelbox::storage

namespace otelbox::storage::testing {

// A fresh directory, removed with its contents on destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "otelbox-storage-XXXXXX").string();
    char* p = mkdtemp(tmpl.data());
    EXPECT_NE(p, nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// 2024-01-15T00:00:00Z: a fixed "now" so retention is deterministic.
inline constexpr int64_t kNowMs = 1'705'276'800'000;

inline Matcher M(MatchType type, std::string name, std::string value) {
  auto m = Matcher::Create(type, std::move(name), std::move(value));
  EXPECT_TRUE(m.ok()) << m.status();
  return *m;
}
inline Matcher Eq(std::string n, std::string v) { return M(MatchType::kEqual, n, v); }
inline Matcher Neq(std::string n, std::string v) { return M(MatchType::kNotEqual, n, v); }
inline Matcher Re(std::string n, std::string v) { return M(MatchType::kRegexMatch, n, v); }
inline Matcher Nre(std::string n, std::string v) { return M(MatchType::kRegexNoMatch, n, v); }

}  // namespace otelbox::storage::testing
