#include "ingest/admission.h"

#include <gtest/gtest.h>
#include <snappy.h>

#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "ingest/metrics_ingest.h"
#include "prometheus/remote.pb.h"

namespace otelbox::ingest {
namespace {

TEST(AdmissionTest, BudgetIsSharedAndReturned) {
  Admission admission(100);
  auto a = admission.TryAcquire(60);
  ASSERT_TRUE(a);
  EXPECT_FALSE(admission.TryAcquire(50)) << "60 + 50 > 100";
  auto b = admission.TryAcquire(40);
  ASSERT_TRUE(b);
  EXPECT_EQ(admission.in_flight(), 100u);
  { auto moved = std::move(*a); }  // released by the moved-to ticket
  EXPECT_EQ(admission.in_flight(), 40u);
  EXPECT_TRUE(admission.TryAcquire(60));
}

TEST(AdmissionTest, OneOversizedRequestPassesAlone) {
  Admission admission(100);
  auto big = admission.TryAcquire(1000);
  ASSERT_TRUE(big) << "nothing else in flight";
  EXPECT_FALSE(admission.TryAcquire(1));
}

// Blocks every Append until released, to hold a request in flight.
class BlockingAppender : public storage::MetricAppender {
 public:
  absl::StatusOr<storage::AppendStats> Append(std::string_view, const storage::MetricBatch& batch,
                                              storage::RejectPolicy) override {
    std::unique_lock lock(mu_);
    ++entered_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return released_; });
    storage::AppendStats stats;
    stats.samples_written = static_cast<int64_t>(batch.SampleCount());
    return stats;
  }
  void WaitEntered() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return entered_ > 0; });
  }
  void Release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int entered_ = 0;
  bool released_ = false;
};

TEST(AdmissionTest, OverloadedRemoteWriteIsAnswered429WithRetryAfter) {
  prometheus::WriteRequest req;
  auto* ts = req.add_timeseries();
  auto* l = ts->add_labels();
  l->set_name("__name__");
  l->set_value("up");
  auto* s = ts->add_samples();
  s->set_timestamp(1700000000000);
  s->set_value(1);
  std::string raw = req.SerializeAsString(), body;
  snappy::Compress(raw.data(), raw.size(), &body);

  BlockingAppender appender;
  IngestLimits limits;
  limits.max_inflight_bytes = 1;  // anything beyond one request in flight is too much
  MetricsIngest ingest(&appender, nullptr, limits);
  IngestRequest request{"", "application/x-protobuf", "snappy", body};
  auto first = std::async(std::launch::async, [&] { return ingest.HandleRemoteWrite(request); });
  appender.WaitEntered();
  IngestReply second = ingest.HandleRemoteWrite(request);
  EXPECT_EQ(second.status, 429) << second.body;
  ASSERT_EQ(second.headers.size(), 1u);
  EXPECT_EQ(second.headers[0].first, "Retry-After");
  IngestReply otlp = ingest.HandleOtlpHttp({"", "application/json", "", "{}"});
  EXPECT_EQ(otlp.status, 429) << otlp.body;
  appender.Release();
  EXPECT_EQ(first.get().status, 204);
  EXPECT_EQ(ingest.HandleRemoteWrite(request).status, 204) << "budget returned";
}

}  // namespace
}  // namespace otelbox::ingest
