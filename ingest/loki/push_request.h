#pragma once
// Loki push bodies (POST /loki/api/v1/push) decoded into a neutral form, before the
// distributor-style validation in push_validator.h. Two encodings, as Loki accepts them:
//   JSON      {"streams":[{"stream":{"app":"api"},"values":[["<ns>","line",{"k":"v"}]]}]}
//             (timestamps are strings of integer nanoseconds; the optional third element
//             holds structured metadata)
//   protobuf  snappy-compressed logproto.PushRequest (ingest/proto/loki/push.proto), labels
//             as the selector string {app="api"}
// Errors are InvalidArgument with a message naming the problem.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/model/labels.h"
#include "storage/model/log_entry.h"

namespace otelbox::ingest::loki {

// One stream as sent: labels in the order written (may hold duplicates or too many names;
// validation reports those), entries in push order.
struct PushStream {
  std::vector<storage::Label> labels;
  std::vector<storage::LogEntry> entries;
};

// JSON push body (already decompressed).
absl::StatusOr<std::vector<PushStream>> DecodePushJson(std::string_view body);

// Protobuf push body; `snappy_compressed` as Loki's default (raw snappy block format).
// `max_bytes` bounds the decompressed size (ResourceExhausted over it).
absl::StatusOr<std::vector<PushStream>> DecodePushProtobuf(std::string_view body,
                                                           bool snappy_compressed,
                                                           size_t max_bytes);

// Loki's labels.String() form of a label list: {a="b", c="d"} (Go %q escaping).
std::string LabelsString(const std::vector<storage::Label>& labels);

}  // namespace otelbox::ingest::loki
