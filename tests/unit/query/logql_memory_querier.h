#pragma once
// An in-memory storage::LogQuerier for LogQL engine unit tests (a fake at the seam, as
// STYLE.md 3.4 allows in unit tests). Streams keep entries sorted by time, push order kept
// among equal timestamps. Not thread-safe.

#include <algorithm>
#include <map>
#include <vector>

#include "storage/log_querier.h"

namespace otelbox::query::logql::testing {

class MemoryLogQuerier : public storage::LogQuerier {
 public:
  void Push(const storage::Labels& labels, storage::LogEntry entry) {
    auto [it, inserted] = ids_.emplace(labels, streams_.size());
    if (inserted) streams_.push_back(Stream{labels, {}});
    auto& entries = streams_[it->second].entries;
    auto pos = std::upper_bound(entries.begin(), entries.end(), entry.t_ns,
                                [](int64_t t, const storage::LogEntry& e) { return t < e.t_ns; });
    entries.insert(pos, std::move(entry));
  }

  absl::StatusOr<std::vector<storage::LogStreamRef>> SelectStreams(std::string_view, const storage::LogMatcherSet& matchers,
                                                                   int64_t, int64_t) override {
    std::vector<storage::LogStreamRef> out;
    for (size_t i = 0; i < streams_.size(); ++i) {
      bool ok = true;
      for (const auto& m : matchers) ok = ok && m.Matches(streams_[i].labels.Get(m.name()));
      if (ok) out.push_back(storage::LogStreamRef{i, streams_[i].labels});
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.labels < b.labels; });
    return out;
  }

  absl::Status ScanStream(std::string_view, uint64_t id, int64_t start_ns, int64_t end_ns,
                          storage::LogDirection dir, const storage::LogScanOptions& options,
                          storage::LogEntryVisitor visit) override {
    const auto& entries = streams_[id].entries;
    std::vector<storage::LabelView> md;
    auto one = [&](const storage::LogEntry& e) {
      if (options.stats) {
        options.stats->head_lines++;
        options.stats->head_bytes += static_cast<int64_t>(e.line.size());
      }
      md.clear();
      for (const auto& l : e.metadata) md.push_back({l.name, l.value});
      return visit(storage::LogEntryView{e.t_ns, e.line, md});
    };
    if (dir == storage::LogDirection::kForward) {
      for (const auto& e : entries) {
        if (e.t_ns < start_ns || e.t_ns >= end_ns) continue;
        if (!one(e)) break;
      }
    } else {
      for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
        if (it->t_ns < start_ns || it->t_ns >= end_ns) continue;
        if (!one(*it)) break;
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<std::string>> LabelNames(std::string_view, const storage::LogMatcherSet&, int64_t,
                                                      int64_t) override {
    return std::vector<std::string>{};
  }
  absl::StatusOr<std::vector<std::string>> LabelValues(std::string_view, std::string_view,
                                                       const storage::LogMatcherSet&, int64_t, int64_t) override {
    return std::vector<std::string>{};
  }
  absl::StatusOr<std::vector<storage::Labels>> Series(std::string_view, const std::vector<storage::LogMatcherSet>&,
                                                      int64_t, int64_t) override {
    return std::vector<storage::Labels>{};
  }
  absl::StatusOr<storage::LogIndexStats> IndexStats(std::string_view, const storage::LogMatcherSet&, int64_t,
                                                    int64_t) override {
    return storage::LogIndexStats{};
  }
  absl::StatusOr<std::vector<storage::LogVolume>> Volume(std::string_view, const storage::LogMatcherSet&, int64_t,
                                                         int64_t, const std::vector<std::string>&, int64_t,
                                                         size_t) override {
    return std::vector<storage::LogVolume>{};
  }

 private:
  struct Stream {
    storage::Labels labels;
    std::vector<storage::LogEntry> entries;
  };
  std::map<storage::Labels, size_t> ids_;
  std::vector<Stream> streams_;
};

}  // namespace otelbox::query::logql::testing
