#include "web/loki_json.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <variant>

#include "web/json_writer.h"

namespace otelbox::web {
namespace {

using query::logql::LabelList;
using query::logql::StreamEntry;

// A float as Go's encoding/json writes it (fixed notation between 1e-6 and 1e21).
void AppendNumber(std::string* out, double v) {
  char buf[512];
  const double a = v < 0 ? -v : v;
  const auto fmt = (a != 0 && (a < 1e-6 || a >= 1e21)) ? std::chars_format::scientific
                                                       : std::chars_format::fixed;
  auto res = std::to_chars(buf, buf + sizeof buf, v, fmt);
  out->append(buf, res.ptr);
}

void AppendEntry(std::string* out, const StreamEntry& e, bool categorize) {
  out->append("[\"");
  out->append(std::to_string(e.t_ns));
  out->append("\",");
  AppendJsonString(out, e.line);
  if (categorize) {
    out->append(",{");
    bool any = false;
    if (!e.structured_metadata.empty()) {
      out->append("\"structuredMetadata\":");
      AppendLabelMap(out, e.structured_metadata);
      any = true;
    }
    if (!e.parsed.empty()) {
      if (any) out->push_back(',');
      out->append("\"parsed\":");
      AppendLabelMap(out, e.parsed);
    }
    out->push_back('}');
  }
  out->push_back(']');
}

void AppendPlainStreams(std::string* out, const query::logql::Streams& streams) {
  out->push_back('[');
  for (size_t i = 0; i < streams.size(); ++i) {
    if (i) out->push_back(',');
    out->append("{\"stream\":");
    AppendLabelMap(out, streams[i].labels);
    out->append(",\"values\":[");
    for (size_t j = 0; j < streams[i].entries.size(); ++j) {
      if (j) out->push_back(',');
      AppendEntry(out, streams[i].entries[j], false);
    }
    out->append("]}");
  }
  out->push_back(']');
}

// Categorized: one stream per stored label set; entries of engine streams sharing it are
// merged in query order (each engine stream is already in that order).
void AppendCategorizedStreams(std::string* out, const query::logql::Streams& streams,
                              bool forward) {
  std::map<LabelList, std::vector<const StreamEntry*>> by_stream;
  std::vector<const LabelList*> order;
  for (const auto& s : streams) {
    auto [it, inserted] = by_stream.try_emplace(s.stream_labels);
    if (inserted) order.push_back(&it->first);
    for (const auto& e : s.entries) it->second.push_back(&e);
  }
  out->push_back('[');
  bool first_stream = true;
  for (const LabelList* labels : order) {
    auto& entries = by_stream[*labels];
    std::stable_sort(entries.begin(), entries.end(),
                     [forward](const StreamEntry* a, const StreamEntry* b) {
                       return forward ? a->t_ns < b->t_ns : a->t_ns > b->t_ns;
                     });
    if (!first_stream) out->push_back(',');
    first_stream = false;
    out->append("{\"stream\":");
    AppendLabelMap(out, *labels);
    out->append(",\"values\":[");
    for (size_t j = 0; j < entries.size(); ++j) {
      if (j) out->push_back(',');
      AppendEntry(out, *entries[j], true);
    }
    out->append("]}");
  }
  out->push_back(']');
}

void AppendSample(std::string* out, int64_t t_ns, double v) {
  out->push_back('[');
  AppendLokiSampleTime(out, t_ns);
  out->push_back(',');
  AppendSampleValue(out, v);
  out->push_back(']');
}

void AppendChunkStats(std::string* out, const query::logql::QueryStats& s) {
  out->append("{\"headChunkBytes\":0,\"headChunkLines\":0,\"decompressedBytes\":");
  out->append(std::to_string(s.bytes_processed));
  out->append(",\"decompressedLines\":");
  out->append(std::to_string(s.lines_processed));
  out->append(",\"compressedBytes\":0,\"totalDuplicates\":0,\"postFilterLines\":");
  out->append(std::to_string(s.post_filter_lines));
  out->append(",\"headChunkStructuredMetadataBytes\":0,\"decompressedStructuredMetadataBytes\":");
  out->append(std::to_string(s.structured_metadata_bytes));
  out->push_back('}');
}

}  // namespace

void AppendLabelMap(std::string* out, const LabelList& labels) {
  out->push_back('{');
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i) out->push_back(',');
    AppendJsonString(out, labels[i].name);
    out->push_back(':');
    AppendJsonString(out, labels[i].value);
  }
  out->push_back('}');
}

void AppendLokiSampleTime(std::string* out, int64_t t_ns) {
  // Floor to milliseconds, as Prometheus' model.Time has millisecond resolution.
  int64_t ms = t_ns / 1000000;
  if (t_ns < 0 && t_ns % 1000000 != 0) --ms;
  AppendTimestamp(out, ms);
}

std::string RenderLokiStats(const query::logql::QueryStats& s) {
  const double exec_s = static_cast<double>(s.exec_time_ns) / 1e9;
  const double per_s = exec_s > 0 ? 1 / exec_s : 0;
  std::string out = "{\"summary\":{\"bytesProcessedPerSecond\":";
  out.append(std::to_string(static_cast<int64_t>(static_cast<double>(s.bytes_processed) * per_s)));
  out.append(",\"linesProcessedPerSecond\":");
  out.append(std::to_string(static_cast<int64_t>(static_cast<double>(s.lines_processed) * per_s)));
  out.append(",\"totalBytesProcessed\":");
  out.append(std::to_string(s.bytes_processed));
  out.append(",\"totalLinesProcessed\":");
  out.append(std::to_string(s.lines_processed));
  out.append(",\"execTime\":");
  AppendNumber(&out, exec_s);
  out.append(",\"queueTime\":");
  AppendNumber(&out, static_cast<double>(s.queue_time_ns) / 1e9);
  out.append(",\"subqueries\":0,\"totalEntriesReturned\":");
  out.append(std::to_string(s.total_entries_returned));
  out.append(",\"splits\":0,\"shards\":0,\"totalPostFilterLines\":");
  out.append(std::to_string(s.post_filter_lines));
  out.append(",\"totalStructuredMetadataBytesProcessed\":");
  out.append(std::to_string(s.structured_metadata_bytes));
  out.append("},\"querier\":{\"store\":{\"totalChunksRef\":0,\"totalChunksDownloaded\":0,"
             "\"chunksDownloadTime\":0,\"queryReferencedStructuredMetadata\":false,\"chunk\":");
  AppendChunkStats(&out, s);
  out.append(",\"chunkRefsFetchTime\":0,\"congestionControlLatency\":0,"
             "\"pipelineWrapperFilteredLines\":0}},");
  out.append("\"ingester\":{\"totalReached\":0,\"totalChunksMatched\":0,\"totalBatches\":0,"
             "\"totalLinesSent\":0,\"store\":{\"totalChunksRef\":0,\"totalChunksDownloaded\":0,"
             "\"chunksDownloadTime\":0,\"queryReferencedStructuredMetadata\":false,\"chunk\":"
             "{\"headChunkBytes\":0,\"headChunkLines\":0,\"decompressedBytes\":0,"
             "\"decompressedLines\":0,\"compressedBytes\":0,\"totalDuplicates\":0,"
             "\"postFilterLines\":0,\"headChunkStructuredMetadataBytes\":0,"
             "\"decompressedStructuredMetadataBytes\":0},\"chunkRefsFetchTime\":0,"
             "\"congestionControlLatency\":0,\"pipelineWrapperFilteredLines\":0}}}");
  return out;
}

std::string RenderLokiQueryData(const query::logql::QueryResult& result, bool categorize,
                                bool forward) {
  std::string out = "{\"resultType\":\"";
  out.append(query::logql::ResultTypeName(result.value));
  out.append("\",");
  if (categorize) out.append("\"encodingFlags\":[\"categorize-labels\"],");
  out.append("\"result\":");
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, query::logql::Streams>) {
          if (categorize) {
            AppendCategorizedStreams(&out, v, forward);
          } else {
            AppendPlainStreams(&out, v);
          }
        } else if constexpr (std::is_same_v<T, query::logql::Vector>) {
          out.push_back('[');
          for (size_t i = 0; i < v.size(); ++i) {
            if (i) out.push_back(',');
            out.append("{\"metric\":");
            AppendLabelMap(&out, v[i].labels);
            out.append(",\"value\":");
            AppendSample(&out, v[i].t_ns, v[i].v);
            out.push_back('}');
          }
          out.push_back(']');
        } else if constexpr (std::is_same_v<T, query::logql::Matrix>) {
          out.push_back('[');
          for (size_t i = 0; i < v.size(); ++i) {
            if (i) out.push_back(',');
            out.append("{\"metric\":");
            AppendLabelMap(&out, v[i].labels);
            out.append(",\"values\":[");
            for (size_t j = 0; j < v[i].points.size(); ++j) {
              if (j) out.push_back(',');
              AppendSample(&out, v[i].points[j].t_ns, v[i].points[j].v);
            }
            out.append("]}");
          }
          out.push_back(']');
        } else {
          AppendSample(&out, v.t_ns, v.v);
        }
      },
      result.value);
  out.append(",\"stats\":");
  out.append(RenderLokiStats(result.stats));
  out.push_back('}');
  return out;
}

}  // namespace otelbox::web
