// kill -9 while a writer is sending: every acknowledged sample survives the restart.

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <boost/json.hpp>
#include <thread>

#include "tests/integration/http_client.h"
#include "tests/integration/otelbox_process.h"
#include "tests/integration/test_payloads.h"

namespace otelbox::testing {
namespace {

constexpr int kSeries = 50;
constexpr int kMaxRequests = 100000;  // far more than fit before the kill

TEST(CrashRecovery, AcknowledgedSamplesSurviveKill9) {
  TempDir dir;
  const int64_t base = NowMs() - 7'200'000;  // request k writes timestamp base + 10k ms
  std::vector<int> acked;
  {
    OtelboxProcess otelbox({"--data-dir", dir.path()});
    ASSERT_TRUE(otelbox.ok()) << otelbox.error();
    std::atomic<bool> stop{false};
    std::thread writer([&] {
      for (int k = 0; !stop && k < kMaxRequests; ++k) {
        prometheus::WriteRequest req;
        for (int s = 0; s < kSeries; ++s) {
          AddSeries(&req, {{"__name__", "crash_test"}, {"series", std::to_string(s)}},
                    {{base + k * 10LL, static_cast<double>(k)}});
        }
        auto res = HttpRequest(otelbox.http(), "POST", "/api/v1/write", SnappyBody(req),
                               RemoteWriteHeaders());
        if (res.status == 204) acked.push_back(k);
        if (res.status == 0) return;  // the server is gone
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    kill(otelbox.pid(), SIGKILL);
    stop = true;
    writer.join();
    otelbox.StopWith(SIGKILL);
  }
  ASSERT_GT(acked.size(), 10u) << "the writer got some requests acknowledged before the kill";
  ASSERT_LT(acked.size(), static_cast<size_t>(kMaxRequests)) << "the kill came while writing";

  OtelboxProcess restarted({"--data-dir", dir.path()});
  ASSERT_TRUE(restarted.ok()) << "the store opens cleanly after kill -9: " << restarted.error();
  EXPECT_EQ(HttpGet(restarted.http(), "/ready").status, 200);

  const int64_t end_ms = base + 3'000'000;  // the left-open [1h] window starts before base
  auto res = HttpGet(restarted.http(), "/api/v1/query?query=" + UrlEncode("crash_test[1h]") +
                                           "&time=" + std::to_string(end_ms / 1000.0));
  ASSERT_EQ(res.status, 200) << res.body;
  auto result = boost::json::parse(res.body).at("data").at("result").as_array();
  ASSERT_EQ(result.size(), static_cast<size_t>(kSeries));
  for (auto& series : result) {
    std::set<int> present;
    for (auto& point : series.at("values").as_array()) {
      present.insert(std::stoi(std::string(point.at(1).as_string())));
    }
    for (int k : acked) {
      ASSERT_TRUE(present.count(k)) << "acknowledged sample " << k << " lost in "
                                    << boost::json::serialize(series.at("metric"));
    }
  }
  std::cout << "[ figures  ] acknowledged requests before kill -9: " << acked.size() << " ("
            << acked.size() * kSeries << " samples), all present after restart\n";
}

}  // namespace
}  // namespace otelbox::testing
