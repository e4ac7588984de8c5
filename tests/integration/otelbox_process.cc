#include "tests/integration/otelbox_process.h"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace otelbox::testing {
namespace {

std::string FieldAfter(const std::string& line, const std::string& key) {
  auto pos = line.find(key + "=");
  if (pos == std::string::npos) return "";
  pos += key.size() + 1;
  auto end = line.find(' ', pos);
  return line.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
}

}  // namespace

std::string OtelboxProcess::BinaryPath() { return OTELBOX_BINARY; }

OtelboxProcess::OtelboxProcess(std::vector<std::string> args,
                               std::chrono::milliseconds ready_timeout) {
  auto has = [&](const std::string& flag) {
    return std::find(args.begin(), args.end(), flag) != args.end();
  };
  for (const char* flag : {"--listen", "--otlp-grpc-listen", "--otlp-http-listen"}) {
    if (!has(flag)) {
      args.push_back(flag);
      args.push_back("127.0.0.1:0");
    }
  }
  int fds[2];
  if (pipe(fds) != 0) {
    error_ = "pipe failed";
    return;
  }
  auto start = std::chrono::steady_clock::now();
  pid_ = fork();
  if (pid_ == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a test that crashed or timed out
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> argv;
    std::string binary = BinaryPath();
    argv.push_back(binary.data());
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  close(fds[1]);
  stdout_fd_ = fds[0];

  std::string out;
  auto deadline = start + ready_timeout;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      error_ = "otelbox not ready within timeout; stdout so far: " + out;
      return;
    }
    pollfd p{stdout_fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[4096];
    ssize_t n = read(stdout_fd_, buf, sizeof buf);
    if (n <= 0) {
      int status = 0;
      waitpid(pid_, &status, 0);
      pid_ = -1;
      error_ = "otelbox exited before ready (status " + std::to_string(status) + "); stdout: " + out;
      return;
    }
    out.append(buf, n);
    auto nl = out.find('\n');
    if (nl == std::string::npos) continue;
    std::string line = out.substr(0, nl);
    time_to_ready_ = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - start);
    if (line.rfind("otelbox ready ", 0) != 0) {
      error_ = "unexpected first stdout line: " + line;
      return;
    }
    http_ = FieldAfter(line, "http");
    otlp_grpc_ = FieldAfter(line, "otlp-grpc");
    otlp_http_ = FieldAfter(line, "otlp-http");
    return;
  }
}

OtelboxProcess::~OtelboxProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    int status;
    waitpid(pid_, &status, 0);
  }
  if (stdout_fd_ >= 0) close(stdout_fd_);
}

int OtelboxProcess::StopWith(int signal, std::chrono::seconds timeout) {
  if (pid_ <= 0) return -1;
  kill(pid_, signal);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return -2;  // did not stop in time
}

long OtelboxProcess::RssBytes() const {
  std::ifstream statm("/proc/" + std::to_string(pid_) + "/statm");
  long size = 0, resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "otelbox-test-XXXXXX").string();
  path_ = mkdtemp(tmpl.data()) ? tmpl : "";
}

TempDir::~TempDir() {
  std::error_code ec;
  if (!path_.empty()) std::filesystem::remove_all(path_, ec);
}

}  // namespace otelbox::testing
