#pragma once
// Starts the real otelbox binary on loopback ports, as a CI job would, and reads the ready
// line to learn where it listens.

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace otelbox::testing {

class OtelboxProcess {
 public:
  // Starts `binary` with `args` plus "--listen 127.0.0.1:0 --otlp-grpc-listen 127.0.0.1:0
  // --otlp-http-listen 127.0.0.1:0" unless `args` already name those flags.
  // Waits for the ready line; on failure `ok()` is false and `error()` says why.
  explicit OtelboxProcess(std::vector<std::string> args,
                          std::chrono::milliseconds ready_timeout = std::chrono::seconds(20));
  ~OtelboxProcess();  // SIGKILL if still running

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  const std::string& http() const { return http_; }            // "127.0.0.1:PORT"
  const std::string& otlp_grpc() const { return otlp_grpc_; }
  const std::string& otlp_http() const { return otlp_http_; }
  std::chrono::microseconds time_to_ready() const { return time_to_ready_; }
  pid_t pid() const { return pid_; }

  // Sends `signal` and waits for exit; returns the exit status as from waitpid.
  int StopWith(int signal, std::chrono::seconds timeout = std::chrono::seconds(30));
  // Resident set size from /proc, in bytes.
  long RssBytes() const;

  static std::string BinaryPath();

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string error_;
  std::string http_, otlp_grpc_, otlp_http_;
  std::chrono::microseconds time_to_ready_{0};
};

// A fresh directory under TMPDIR, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace otelbox::testing
