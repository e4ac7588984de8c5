// A real Prometheus (Debian's 2.42) scrapes otelbox's own /metrics and remote_writes the
// samples, with metadata, back into otelbox: the remote_write client users actually run.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/integration/http_client.h"
#include "tests/integration/otelbox_process.h"

namespace otelbox::testing {
namespace {

int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

TEST(PrometheusSender, RemoteWriteFromRealPrometheus) {
  const std::string prometheus = "/usr/bin/prometheus";
  if (!std::filesystem::exists(prometheus)) {
    GTEST_SKIP() << "prometheus not installed (scripts/install-deps.sh --test installs it)";
  }
  OtelboxProcess otelbox({"--ephemeral"});
  ASSERT_TRUE(otelbox.ok()) << otelbox.error();
  TempDir dir;
  {
    std::ofstream cfg(dir.path() + "/prometheus.yml");
    cfg << "global:\n  scrape_interval: 1s\n"
        << "scrape_configs:\n  - job_name: otelbox-self\n    static_configs:\n"
        << "      - targets: ['" << otelbox.http() << "']\n"
        << "remote_write:\n  - url: http://" << otelbox.http() << "/api/v1/write\n"
        << "    queue_config: {batch_send_deadline: 1s, min_backoff: 100ms}\n"
        << "    metadata_config: {send_interval: 1s}\n";
  }
  const std::string web = "127.0.0.1:" + std::to_string(FreeLoopbackPort());
  pid_t pid = fork();
  if (pid == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, STDOUT_FILENO);
    dup2(devnull, STDERR_FILENO);
    execl(prometheus.c_str(), "prometheus", ("--config.file=" + dir.path() + "/prometheus.yml").c_str(),
          ("--storage.tsdb.path=" + dir.path() + "/data").c_str(),
          ("--web.listen-address=" + web).c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  bool found = false;
  std::string last;
  for (int i = 0; i < 120 && !found; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    auto res = HttpGet(otelbox.http(), "/api/v1/series?match[]=" +
                                           UrlEncode("{job=\"otelbox-self\",__name__=~\"up|otelbox_http_requests_total\"}"));
    last = res.body;
    if (res.status != 200) continue;
    std::set<std::string> names;
    const boost::json::value parsed = boost::json::parse(res.body);
    for (auto& s : parsed.at("data").as_array()) {
      names.insert(std::string(s.at("__name__").as_string()));
    }
    found = names.count("up") && names.count("otelbox_http_requests_total");
  }
  EXPECT_TRUE(found) << "series from Prometheus' remote_write never arrived; last answer: " << last;

  auto up = HttpGet(otelbox.http(), "/api/v1/query?query=" + UrlEncode("up{job=\"otelbox-self\"}"));
  EXPECT_NE(up.body.find("\"1\""), std::string::npos) << up.body;
  bool metadata = false;
  for (int i = 0; i < 20 && !metadata; ++i) {
    auto md = HttpGet(otelbox.http(), "/api/v1/metadata?metric=otelbox_http_requests_total");
    metadata = md.body.find("\"counter\"") != std::string::npos;
    if (!metadata) std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  EXPECT_TRUE(metadata) << "remote_write metadata stored";

  kill(pid, SIGTERM);
  int status;
  waitpid(pid, &status, 0);
}

}  // namespace
}  // namespace otelbox::testing
