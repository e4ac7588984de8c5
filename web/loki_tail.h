#pragma once
// Loki's live tail (/loki/api/v1/tail, contracts/loki.md §4.5) over a WebSocket: on open,
// up to `limit` lines from [start, now) are sent oldest first (Loki replays history the
// same way); then every appended entry that passes the query is sent as it arrives (held
// back `delay_for` seconds and sorted when asked). Frames are
//   {"streams":[{"stream":{…},"values":[["<ns>","line"],…]}],"dropped_entries":null}
// with plain [ts, line] values (browsers cannot ask for categorized labels). Entries the
// subscription had to drop (slow reader) are listed in dropped_entries as Loki does.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "query/logql/engine.h"
#include "storage/log_querier.h"
#include "web/websocket.h"

namespace otelbox::web {

struct LokiTailRequest {
  std::string tenant;
  std::string query;
  int64_t start_ns = 0;
  int64_t limit = 100;
  int64_t delay_ns = 0;
  size_t max_frame_lines = 1000;
};

class LokiTailSession final : public WebSocketHandler {
 public:
  // `engine` (history) and `tailer` must outlive the session. `open_tails` is decremented
  // when the session ends.
  LokiTailSession(LokiTailRequest request, std::unique_ptr<query::logql::TailQuery> tail_query,
                  query::logql::Engine* engine, storage::LogTailer* tailer,
                  std::shared_ptr<std::atomic<int>> open_tails);
  ~LokiTailSession() override;

  void OnOpen(std::shared_ptr<WebSocketConnection> connection) override;
  void OnClose() override;

 private:
  void Run();
  void SendHistory();
  // Sends `entries` (already filtered) as one or more frames; false when the peer is gone.
  bool SendEntries(std::vector<query::logql::TailedEntry>* entries,
                   const std::vector<storage::TailedEntry>& dropped);

  LokiTailRequest request_;
  std::unique_ptr<query::logql::TailQuery> tail_query_;
  query::logql::Engine* engine_;
  storage::LogTailer* tailer_;
  std::shared_ptr<std::atomic<int>> open_tails_;
  std::shared_ptr<WebSocketConnection> connection_;
  std::shared_ptr<storage::LogTailSubscription> subscription_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// One tail frame (exposed for tests).
std::string RenderTailFrame(const std::vector<query::logql::TailedEntry>& entries,
                            const std::vector<storage::TailedEntry>& dropped);

}  // namespace otelbox::web
