// Starts `otelbox --ephemeral` repeatedly and prints how fast it is ready and how much
// memory it holds while idle (targets: ready < 100 ms, RSS < 50 MB).

#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <thread>
#include <vector>

#include "tests/integration/http_client.h"
#include "tests/integration/otelbox_process.h"

int main(int argc, char** argv) {
  using otelbox::testing::OtelboxProcess;
  const int runs = argc > 1 ? std::atoi(argv[1]) : 10;
  std::vector<double> ready_ms;
  std::vector<double> rss_mb;
  for (int i = 0; i < runs; ++i) {
    OtelboxProcess otelbox({"--ephemeral"});
    if (!otelbox.ok()) {
      std::fprintf(stderr, "start failed: %s\n", otelbox.error().c_str());
      return 1;
    }
    ready_ms.push_back(otelbox.time_to_ready().count() / 1000.0);
    if (otelbox::testing::HttpGet(otelbox.http(), "/ready").status != 200) return 1;
    std::this_thread::sleep_for(std::chrono::seconds(1));  // idle
    rss_mb.push_back(otelbox.RssBytes() / 1048576.0);
    otelbox.StopWith(SIGTERM);
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::printf("startup_probe: runs=%d ready_ms median=%.1f max=%.1f  idle_rss_mb median=%.1f max=%.1f\n",
              runs, median(ready_ms), *std::max_element(ready_ms.begin(), ready_ms.end()),
              median(rss_mb), *std::max_element(rss_mb.begin(), rss_mb.end()));
  return 0;
}
