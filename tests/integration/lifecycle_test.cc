// Start-up, probes, flags and graceful shutdown of the real binary.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>

#include "tests/integration/http_client.h"
#include "tests/integration/otelbox_process.h"

namespace otelbox::testing {
namespace {

std::string RunAndCapture(const std::string& args, int* exit_status) {
  std::string cmd = OtelboxProcess::BinaryPath() + " " + args + " 2>&1";
  FILE* f = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  *exit_status = pclose(f);
  return out;
}

TEST(Lifecycle, HelpDocumentsEveryFlag) {
  int status = 0;
  std::string help = RunAndCapture("--help", &status);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  for (const char* flag : {"--data-dir", "--ephemeral", "--listen", "--otlp-grpc-listen",
                           "--otlp-http-listen", "--retention", "--log-level", "--wal-sync"}) {
    EXPECT_NE(help.find(flag), std::string::npos) << flag;
  }
}

TEST(Lifecycle, BadFlagsFailWithAMessage) {
  int status = 0;
  std::string out = RunAndCapture("--retention banana --ephemeral", &status);
  EXPECT_EQ(WEXITSTATUS(status), 2);
  EXPECT_NE(out.find("banana"), std::string::npos) << out;
  out = RunAndCapture("--no-such-flag", &status);
  EXPECT_EQ(WEXITSTATUS(status), 2);
}

TEST(Lifecycle, ReadyLineProbesAndGracefulShutdown) {
  OtelboxProcess otelbox({"--ephemeral"});
  ASSERT_TRUE(otelbox.ok()) << otelbox.error();
  EXPECT_NE(otelbox.http().find("127.0.0.1:"), std::string::npos);
  EXPECT_NE(otelbox.otlp_grpc().find("127.0.0.1:"), std::string::npos);
  EXPECT_NE(otelbox.otlp_http().find("127.0.0.1:"), std::string::npos);

  auto ready = HttpGet(otelbox.http(), "/ready");
  EXPECT_EQ(ready.status, 200) << ready.body;
  auto metrics = HttpGet(otelbox.http(), "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("# TYPE otelbox_http_requests_total counter"), std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("otelbox_storage_sst_bytes"), std::string::npos);
  EXPECT_NE(metrics.body.find("otelbox_ingested_samples_total"), std::string::npos);

  auto build = HttpGet(otelbox.http(), "/api/v1/status/buildinfo");
  ASSERT_EQ(build.status, 200);
  auto json = boost::json::parse(build.body);
  EXPECT_EQ(json.at("status"), "success");
  EXPECT_FALSE(json.at("data").as_object().contains("features"));

  EXPECT_EQ(HttpGet(otelbox.http(), "/no/such/path").status, 404);
  EXPECT_EQ(otelbox.StopWith(SIGTERM), 0) << "graceful shutdown exits 0";
}

TEST(Lifecycle, ListenersCanBeTurnedOff) {
  OtelboxProcess otelbox(
      {"--ephemeral", "--otlp-grpc-listen", "off", "--otlp-http-listen", "off"});
  ASSERT_TRUE(otelbox.ok()) << otelbox.error();
  EXPECT_EQ(otelbox.otlp_grpc(), "off");
  EXPECT_EQ(otelbox.otlp_http(), "off");
  EXPECT_EQ(HttpGet(otelbox.http(), "/ready").status, 200);
  EXPECT_EQ(otelbox.StopWith(SIGINT), 0);
}

TEST(Lifecycle, DataDirSurvivesRestart) {
  TempDir dir;
  {
    OtelboxProcess otelbox({"--data-dir", dir.path()});
    ASSERT_TRUE(otelbox.ok()) << otelbox.error();
    EXPECT_EQ(otelbox.StopWith(SIGTERM), 0);
  }
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/CURRENT")) << "RocksDB files in data dir";
  OtelboxProcess again({"--data-dir", dir.path()});
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_EQ(again.StopWith(SIGTERM), 0);
}

}  // namespace
}  // namespace otelbox::testing
