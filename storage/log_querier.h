#pragma once
// The read seam for logs between query/ or web/ and storage/ (STYLE.md 3.6), beside
// SeriesQuerier in querier.h. Times are int64 nanoseconds since the Unix epoch; ranges are
// [start_ns, end_ns): end is exclusive, as Loki's log queries are.

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "storage/model/labels.h"
#include "storage/model/log_entry.h"
#include "storage/model/matcher.h"

namespace otelbox::storage {

inline constexpr int64_t kMinTimeNs = std::numeric_limits<int64_t>::min() / 2;
inline constexpr int64_t kMaxTimeNs = std::numeric_limits<int64_t>::max() / 2;

// A stream selected by matchers. `id` is an opaque handle for ScanStream, valid for the
// life of the store (ids are never reused), unique per tenant.
struct LogStreamRef {
  uint64_t id = 0;
  Labels labels;
};

enum class LogDirection { kForward, kBackward };

struct LabelView {
  std::string_view name;
  std::string_view value;
};

// One entry as a scan sees it. The views point into the store's buffers and are valid
// only during the visitor call: copy what you keep.
struct LogEntryView {
  int64_t t_ns = 0;
  std::string_view line;
  std::span<const LabelView> metadata;  // push order; empty unless ScanOptions::metadata
};

// Return false to stop the scan (ScanStream then returns OK).
using LogEntryVisitor = absl::FunctionRef<bool(const LogEntryView&)>;

// Counters for Loki's `stats` object; ScanStream adds to them.
struct LogScanStats {
  int64_t blocks_read = 0;          // compressed blocks decoded
  int64_t blocks_skipped = 0;       // decoded blocks where no line held the line_contains literal
  int64_t compressed_bytes = 0;     // of the blocks read
  int64_t decompressed_bytes = 0;   // raw line + metadata bytes of in-range entries of blocks read
  int64_t decompressed_lines = 0;   // in-range entries of the blocks read (visited or not)
  int64_t head_bytes = 0;           // raw bytes of entries visited from the in-memory head
  int64_t head_lines = 0;           // entries visited from the head

  LogScanStats& operator+=(const LogScanStats& o) {
    blocks_read += o.blocks_read;
    blocks_skipped += o.blocks_skipped;
    compressed_bytes += o.compressed_bytes;
    decompressed_bytes += o.decompressed_bytes;
    decompressed_lines += o.decompressed_lines;
    head_bytes += o.head_bytes;
    head_lines += o.head_lines;
    return *this;
  }
};

struct LogScanOptions {
  // Decode structured metadata (false: LogEntryView::metadata is empty; scans that don't
  // need it touch less).
  bool metadata = true;
  // Hint from `|= "literal"` line filters: the store may skip blocks and entries whose
  // lines cannot contain every one of these byte strings (case-sensitive). It may still
  // return entries that don't contain them: the engine applies its filters regardless.
  std::vector<std::string> line_contains;
  LogScanStats* stats = nullptr;  // optional
};

// Totals for /loki/api/v1/index/stats.
struct LogIndexStats {
  int64_t streams = 0;
  int64_t chunks = 0;   // stored blocks overlapping the range (+1 per stream with head data)
  int64_t entries = 0;
  int64_t bytes = 0;    // raw line + metadata bytes
};

// One row of /loki/api/v1/index/volume(_range).
struct LogVolume {
  Labels labels;       // the grouping labels (see LogQuerier::Volume)
  int64_t t_ns = 0;    // bucket start when step_ns > 0, else the range start
  int64_t bytes = 0;   // raw line + metadata bytes
  int64_t entries = 0;
};

// Matchers a stream must all satisfy; several sets are OR-ed (repeated match[]).
using LogMatcherSet = std::vector<Matcher>;

class LogQuerier {
 public:
  virtual ~LogQuerier() = default;

  // Streams matching every matcher that have entries in [start_ns, end_ns) (the index is
  // partitioned by UTC day, so a stream may be returned that has no entry in the exact
  // range: its scan then visits nothing). At least one matcher must not match the empty
  // string (Loki: "queries require at least one regexp or equality matcher that does not
  // have an empty-compatible value"), else InvalidArgument. Sorted by labels.
  virtual absl::StatusOr<std::vector<LogStreamRef>> SelectStreams(
      std::string_view tenant, const LogMatcherSet& matchers, int64_t start_ns,
      int64_t end_ns) = 0;

  // Visits the entries of one stream with start_ns <= t < end_ns in time order: forward
  // ascending, backward descending. Entries with equal timestamps are visited in push
  // order forward and in reverse push order backward. Entries appended before the call
  // are all seen; entries appended during it may or may not be.
  virtual absl::Status ScanStream(std::string_view tenant, uint64_t stream_id,
                                  int64_t start_ns, int64_t end_ns, LogDirection direction,
                                  const LogScanOptions& options, LogEntryVisitor visit) = 0;

  // Label names of streams matching `matchers` (empty: all streams) in the range. Sorted.
  virtual absl::StatusOr<std::vector<std::string>> LabelNames(std::string_view tenant,
                                                              const LogMatcherSet& matchers,
                                                              int64_t start_ns,
                                                              int64_t end_ns) = 0;

  // Values of label `name` over streams matching `matchers` (empty: all). Sorted.
  virtual absl::StatusOr<std::vector<std::string>> LabelValues(std::string_view tenant,
                                                               std::string_view name,
                                                               const LogMatcherSet& matchers,
                                                               int64_t start_ns,
                                                               int64_t end_ns) = 0;

  // Label sets of streams matching any of `sets` (empty `sets`: all streams). Sorted,
  // unique.
  virtual absl::StatusOr<std::vector<Labels>> Series(std::string_view tenant,
                                                     const std::vector<LogMatcherSet>& sets,
                                                     int64_t start_ns, int64_t end_ns) = 0;

  virtual absl::StatusOr<LogIndexStats> IndexStats(std::string_view tenant,
                                                   const LogMatcherSet& matchers,
                                                   int64_t start_ns, int64_t end_ns) = 0;

  // Bytes per group of streams matching `matchers` in the range. `by_labels` empty: one
  // group per stream (its full label set); otherwise groups by those label names (a
  // stream lacking all of them is not counted). step_ns > 0 buckets by time (bucket =
  // floor(t / step) * step, block granularity for stored blocks); 0 gives one bucket.
  // Sorted by bytes descending, then labels; at most `limit` groups (0 = all), counted per
  // bucket-less total.
  virtual absl::StatusOr<std::vector<LogVolume>> Volume(std::string_view tenant,
                                                        const LogMatcherSet& matchers,
                                                        int64_t start_ns, int64_t end_ns,
                                                        const std::vector<std::string>& by_labels,
                                                        int64_t step_ns, size_t limit) = 0;
};

// --- Live tail (/loki/api/v1/tail) --------------------------------------------------

struct TailedEntry {
  Labels labels;   // stream labels
  LogEntry entry;  // copy
};

// One subscriber's bounded queue. Appends never block on it: when the queue is full new
// entries are dropped and counted. Thread-safe.
class LogTailSubscription {
 public:
  virtual ~LogTailSubscription() = default;
  // Moves out up to `max` queued entries (in append order), waiting at most `timeout`
  // for the first one. Returns empty on timeout or after Close().
  virtual std::vector<TailedEntry> Take(size_t max, absl::Duration timeout) = 0;
  // Entries dropped (queue full) since the previous call; resets the count. `dropped`
  // receives up to a few of them (labels and timestamp only, as Loki's dropped_entries).
  virtual int64_t TakeDropped(std::vector<TailedEntry>* dropped) = 0;
  // Stops delivery; Take returns at once. Also done by destroying the last reference.
  virtual void Close() = 0;
};

class LogTailer {
 public:
  virtual ~LogTailer() = default;
  // Every entry of `tenant` appended after this call (after it is durable) is queued, up
  // to `max_queued` entries. `on_ready`, if set, is called (from the appending thread:
  // must be quick and must not block or call back into the store) whenever the queue goes
  // from empty to non-empty, e.g. to post a read onto a websocket strand. Dropping the
  // returned pointer unsubscribes.
  virtual std::shared_ptr<LogTailSubscription> Subscribe(std::string_view tenant,
                                                         size_t max_queued,
                                                         std::function<void()> on_ready) = 0;
};

}  // namespace otelbox::storage
