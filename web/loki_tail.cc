#include "web/loki_tail.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <variant>

#include "common/log.h"
#include "web/json_writer.h"
#include "web/loki_json.h"

namespace otelbox::web {
namespace {

using query::logql::LabelList;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

LabelList ToLabelList(const storage::Labels& labels) {
  return LabelList(labels.items().begin(), labels.items().end());
}

// How long one Take waits: short enough to notice stop_ and release delayed entries.
constexpr auto kPollInterval = absl::Milliseconds(250);

}  // namespace

std::string RenderTailFrame(const std::vector<query::logql::TailedEntry>& entries,
                            const std::vector<storage::TailedEntry>& dropped) {
  // Group by final label set, keeping first-seen stream order and entry order.
  std::map<LabelList, size_t> index;
  std::vector<std::pair<const LabelList*, std::vector<const query::logql::TailedEntry*>>> streams;
  for (const auto& e : entries) {
    auto [it, inserted] = index.emplace(e.labels, streams.size());
    if (inserted) streams.push_back({&it->first, {}});
    streams[it->second].second.push_back(&e);
  }
  std::string out = "{\"streams\":[";
  for (size_t i = 0; i < streams.size(); ++i) {
    if (i) out.push_back(',');
    out.append("{\"stream\":");
    AppendLabelMap(&out, *streams[i].first);
    out.append(",\"values\":[");
    for (size_t j = 0; j < streams[i].second.size(); ++j) {
      if (j) out.push_back(',');
      const auto& entry = streams[i].second[j]->entry;
      out.append("[\"");
      out.append(std::to_string(entry.t_ns));
      out.append("\",");
      AppendJsonString(&out, entry.line);
      out.push_back(']');
    }
    out.append("]}");
  }
  out.append("],\"dropped_entries\":");
  if (dropped.empty()) {
    out.append("null");
  } else {
    out.push_back('[');
    for (size_t i = 0; i < dropped.size(); ++i) {
      if (i) out.push_back(',');
      out.append("{\"labels\":");
      AppendLabelMap(&out, ToLabelList(dropped[i].labels));
      out.append(",\"timestamp\":\"");
      out.append(std::to_string(dropped[i].entry.t_ns));
      out.append("\"}");
    }
    out.push_back(']');
  }
  out.push_back('}');
  return out;
}

LokiTailSession::LokiTailSession(LokiTailRequest request,
                                 std::unique_ptr<query::logql::TailQuery> tail_query,
                                 query::logql::Engine* engine, storage::LogTailer* tailer,
                                 std::shared_ptr<std::atomic<int>> open_tails)
    : request_(std::move(request)),
      tail_query_(std::move(tail_query)),
      engine_(engine),
      tailer_(tailer),
      open_tails_(std::move(open_tails)) {}

LokiTailSession::~LokiTailSession() {
  stop_ = true;
  if (subscription_) subscription_->Close();
  if (thread_.joinable()) {
    if (thread_.get_id() == std::this_thread::get_id()) {
      thread_.detach();
    } else {
      thread_.join();
    }
  }
  if (open_tails_) open_tails_->fetch_sub(1);
}

void LokiTailSession::OnOpen(std::shared_ptr<WebSocketConnection> connection) {
  connection_ = std::move(connection);
  // Subscribe before reading history so that nothing appended in between is missed.
  subscription_ = tailer_->Subscribe(request_.tenant, 10 * request_.max_frame_lines, nullptr);
  thread_ = std::thread([this] { Run(); });
}

void LokiTailSession::OnClose() {
  stop_ = true;
  if (subscription_) subscription_->Close();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
  connection_.reset();
}

void LokiTailSession::SendHistory() {
  query::logql::QueryParams params;
  params.tenant = request_.tenant;
  params.query = request_.query;
  params.start_ns = request_.start_ns;
  params.end_ns = NowNs();
  params.step_ns = 1000000000;  // a range query; the step does not matter for log queries
  params.direction = query::logql::Direction::kBackward;
  params.limit = request_.limit;
  if (params.end_ns <= params.start_ns) return;
  auto result = engine_->Query(params);
  if (!result.ok()) {
    connection_->Close(kWsCloseInternalError, std::string(result.status().message()));
    stop_ = true;
    return;
  }
  const auto* streams = std::get_if<query::logql::Streams>(&result->value);
  if (streams == nullptr) return;
  std::vector<query::logql::TailedEntry> history;
  for (const auto& s : *streams) {
    for (const auto& e : s.entries) history.push_back({s.labels, s.stream_labels, e});
  }
  // Loki replays history oldest first (a reversed backward query): newest first across
  // streams, then reversed, so equal timestamps come out in push order.
  std::stable_sort(history.begin(), history.end(),
                   [](const auto& a, const auto& b) { return a.entry.t_ns > b.entry.t_ns; });
  std::reverse(history.begin(), history.end());
  if (!history.empty() && !SendEntries(&history, {})) stop_ = true;
}

bool LokiTailSession::SendEntries(std::vector<query::logql::TailedEntry>* entries,
                                  const std::vector<storage::TailedEntry>& dropped) {
  if (entries->empty() && dropped.empty()) return true;
  size_t pos = 0;
  do {
    const size_t n = std::min(request_.max_frame_lines, entries->size() - pos);
    std::vector<query::logql::TailedEntry> frame(
        std::make_move_iterator(entries->begin() + static_cast<ptrdiff_t>(pos)),
        std::make_move_iterator(entries->begin() + static_cast<ptrdiff_t>(pos + n)));
    if (!connection_->SendText(RenderTailFrame(frame, pos == 0 ? dropped : std::vector<storage::TailedEntry>{}))) {
      return false;
    }
    pos += n;
  } while (pos < entries->size());
  entries->clear();
  return true;
}

void LokiTailSession::Run() {
  try {
    SendHistory();
    // Entries held back by delay_for, with the time they arrived.
    std::vector<std::pair<int64_t, query::logql::TailedEntry>> delayed;
    while (!stop_) {
      std::vector<storage::TailedEntry> got =
          subscription_->Take(request_.max_frame_lines, kPollInterval);
      std::vector<storage::TailedEntry> dropped;
      subscription_->TakeDropped(&dropped);
      std::vector<query::logql::TailedEntry> ready;
      for (const auto& t : got) {
        if (!tail_query_->MatchesStream(t.labels)) continue;
        if (auto passed = tail_query_->Process(t.labels, t.entry)) {
          ready.push_back(*std::move(passed));
        }
      }
      if (request_.delay_ns > 0) {
        const int64_t now = NowNs();
        for (auto& e : ready) delayed.emplace_back(now, std::move(e));
        ready.clear();
        auto due = std::stable_partition(delayed.begin(), delayed.end(), [&](const auto& d) {
          return d.first + request_.delay_ns <= now;
        });
        for (auto it = delayed.begin(); it != due; ++it) ready.push_back(std::move(it->second));
        delayed.erase(delayed.begin(), due);
        std::stable_sort(ready.begin(), ready.end(),
                         [](const auto& a, const auto& b) { return a.entry.t_ns < b.entry.t_ns; });
      }
      if (!SendEntries(&ready, dropped)) break;
    }
  } catch (const std::exception& e) {
    LogError(std::string("live tail failed: ") + e.what());
    if (connection_) connection_->Close(kWsCloseInternalError, "internal error");
  }
}

}  // namespace otelbox::web
