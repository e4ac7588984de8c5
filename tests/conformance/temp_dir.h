#pragma once
// A fresh directory for one runner's store, removed with its contents on destruction.
// path() is empty when the directory could not be created (the runner reports that).

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace otelbox::conformance {

class TempDir {
 public:
  // `prefix` names the directory in the temp folder, e.g. "otelbox-promql".
  explicit TempDir(std::string_view prefix) {
    std::string tmpl = (std::filesystem::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
    if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace otelbox::conformance
