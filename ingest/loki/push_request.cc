#include "ingest/loki/push_request.h"

#include <google/protobuf/arena.h>

#include <charconv>

#include <boost/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/go_quote.h"
#include "ingest/compression.h"
#include "ingest/loki/stream_labels.h"
#include "ingest/string_util.h"
#include "loki/push.pb.h"

namespace otelbox::ingest::loki {
namespace {

namespace json = boost::json;

std::string_view View(const json::string& s) { return {s.data(), s.size()}; }

absl::Status JsonError(std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("invalid push request: ", AbslView(what)));
}

absl::StatusOr<int64_t> ParseNanos(std::string_view text) {
  int64_t ns = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), ns);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    return JsonError(absl::StrCat("timestamp \"", AbslView(text),
                                  "\" is not a string of integer nanoseconds"));
  }
  return ns;
}

// A metadata value: Loki takes strings, and numbers by their literal text.
absl::StatusOr<std::string> MetadataValue(const json::value& v) {
  if (v.is_string()) return std::string(View(v.get_string()));
  if (v.is_number()) return json::serialize(v);
  return JsonError("structured metadata values must be strings");
}

absl::Status AppendMetadataObject(const json::object& obj, std::vector<storage::Label>* out) {
  for (const auto& kv : obj) {
    auto value = MetadataValue(kv.value());
    if (!value.ok()) return value.status();
    out->push_back({std::string(View(json::string(kv.key()))), *std::move(value)});
  }
  return absl::OkStatus();
}

// The third element of a value: either the metadata map itself (push form) or
// {"structuredMetadata":{…},"parsed":{…}} (query-response form, which Loki also accepts).
absl::Status DecodeMetadata(const json::value& v, std::vector<storage::Label>* out) {
  if (!v.is_object()) return JsonError("the third element of a value must be an object");
  const json::object& obj = v.get_object();
  for (const auto& kv : obj) {
    if (kv.value().is_object()) {
      if (kv.key() == "structuredMetadata") {
        if (auto st = AppendMetadataObject(kv.value().get_object(), out); !st.ok()) return st;
      }
      continue;  // "parsed" and other nested objects carry no push data
    }
    auto value = MetadataValue(kv.value());
    if (!value.ok()) return value.status();
    out->push_back({std::string(kv.key()), *std::move(value)});
  }
  return absl::OkStatus();
}

absl::Status DecodeJsonStream(const json::value& v, PushStream* out) {
  if (!v.is_object()) return JsonError("each stream must be an object");
  const json::object& obj = v.get_object();
  if (const json::value* labels = obj.if_contains("stream")) {
    if (!labels->is_object() && !labels->is_null()) {
      return JsonError("\"stream\" must be an object of label names to values");
    }
    if (labels->is_object()) {
      for (const auto& kv : labels->get_object()) {
        if (!kv.value().is_string()) {
          return JsonError(absl::StrCat("the value of label \"", AbslView(std::string_view(kv.key())),
                                        "\" must be a string"));
        }
        out->labels.push_back({std::string(kv.key()), std::string(View(kv.value().get_string()))});
      }
    }
  }
  const json::value* values = obj.if_contains("values");
  if (values == nullptr || values->is_null()) return absl::OkStatus();
  if (!values->is_array()) return JsonError("\"values\" must be an array");
  out->entries.reserve(values->get_array().size());
  for (const json::value& e : values->get_array()) {
    if (!e.is_array() || e.get_array().size() < 2 || e.get_array().size() > 3) {
      return JsonError("each value must be [\"<timestamp ns>\", \"<line>\"] with optional "
                       "structured metadata object");
    }
    const json::array& a = e.get_array();
    if (!a[0].is_string()) return JsonError("timestamps must be strings of integer nanoseconds");
    if (!a[1].is_string()) return JsonError("log lines must be strings");
    storage::LogEntry entry;
    auto ns = ParseNanos(View(a[0].get_string()));
    if (!ns.ok()) return ns.status();
    entry.t_ns = *ns;
    entry.line.assign(View(a[1].get_string()));
    if (a.size() == 3) {
      if (auto st = DecodeMetadata(a[2], &entry.metadata); !st.ok()) return st;
    }
    out->entries.push_back(std::move(entry));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<PushStream>> DecodePushJson(std::string_view body) {
  json::monotonic_resource mr;
  json::parse_options opts;
  opts.max_depth = 64;
  boost::system::error_code ec;
  json::value root = json::parse(json::string_view(body.data(), body.size()), ec, &mr, opts);
  if (ec) return JsonError(absl::StrCat("malformed JSON: ", ec.message()));
  if (!root.is_object()) return JsonError("expected a JSON object with \"streams\"");
  std::vector<PushStream> out;
  const json::value* streams = root.get_object().if_contains("streams");
  if (streams == nullptr || streams->is_null()) return out;
  if (!streams->is_array()) return JsonError("\"streams\" must be an array");
  out.reserve(streams->get_array().size());
  for (const json::value& s : streams->get_array()) {
    PushStream stream;
    if (auto st = DecodeJsonStream(s, &stream); !st.ok()) return st;
    out.push_back(std::move(stream));
  }
  return out;
}

absl::StatusOr<std::vector<PushStream>> DecodePushProtobuf(std::string_view body,
                                                           bool snappy_compressed,
                                                           size_t max_bytes) {
  std::string raw_storage;
  std::string_view raw = body;
  if (snappy_compressed) {
    auto decompressed = SnappyUncompress(body, max_bytes);
    if (!decompressed.ok()) return decompressed.status();
    raw_storage = *std::move(decompressed);
    raw = raw_storage;
  }
  google::protobuf::Arena arena;
  auto* req = google::protobuf::Arena::CreateMessage<logproto::PushRequest>(&arena);
  if (!req->ParseFromArray(raw.data(), static_cast<int>(raw.size()))) {
    return absl::InvalidArgumentError("cannot decode the protobuf push request (logproto.PushRequest)");
  }
  std::vector<PushStream> out;
  out.reserve(req->streams_size());
  for (const auto& s : req->streams()) {
    PushStream stream;
    auto labels = ParseStreamLabels(s.labels());
    if (!labels.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("couldn't parse labels: ", labels.status().message()));
    }
    stream.labels = *std::move(labels);
    stream.entries.reserve(s.entries_size());
    for (const auto& e : s.entries()) {
      storage::LogEntry entry;
      entry.t_ns = e.timestamp().seconds() * 1000000000 + e.timestamp().nanos();
      entry.line = e.line();
      entry.metadata.reserve(e.structuredmetadata_size());
      for (const auto& kv : e.structuredmetadata()) entry.metadata.push_back({kv.name(), kv.value()});
      stream.entries.push_back(std::move(entry));
    }
    out.push_back(std::move(stream));
  }
  return out;
}

std::string LabelsString(const std::vector<storage::Label>& labels) {
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i) out += ", ";
    out += labels[i].name;
    out += '=';
    AppendGoQuoted(&out, labels[i].value);
  }
  out += '}';
  return out;
}

}  // namespace otelbox::ingest::loki
