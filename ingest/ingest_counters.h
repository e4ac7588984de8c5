#pragma once
// The self-metrics every receiver reports on /metrics: requests by protocol and result, and
// the items (samples, log entries, spans) received by protocol before storage.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/self_metrics.h"
#include "ingest/otlp/grpc_export.h"
#include "ingest/otlp/otlp_http.h"

namespace otelbox::ingest {

class IngestCounters {
 public:
  // `metrics` may be null (nothing is counted). `items` names the item counter, e.g.
  // "otelbox_ingest_received_spans_total".
  IngestCounters(SelfMetrics* metrics, std::string items, std::string items_help)
      : metrics_(metrics), items_(std::move(items)), items_help_(std::move(items_help)) {}

  void CountRequest(std::string_view protocol, std::string_view code);
  void CountItems(std::string_view protocol, int64_t n);

  // Runs an HTTP ingest handler under otlp::GuardedReply and counts it by HTTP status.
  template <typename Handler>
  IngestReply CountedReply(std::string_view what, std::string_view protocol, Handler&& handler) {
    IngestReply reply = otlp::GuardedReply(what, std::forward<Handler>(handler));
    CountRequest(protocol, absl::StrCat(reply.status));
    return reply;
  }

  // An OTLP gRPC export: admission by the request's size, `export_fn`, and the request
  // counted by gRPC status code.
  template <typename Request, typename ExportFn>
  absl::StatusOr<otlp::ExportOutcome> CountedExport(std::string_view what, std::string_view protocol,
                                                    Admission& admission, const Request& request,
                                                    ExportFn&& export_fn) {
    absl::StatusOr<otlp::ExportOutcome> out =
        otlp::AdmitAndExport(what, admission, request.ByteSizeLong(), std::forward<ExportFn>(export_fn));
    CountRequest(protocol, absl::StatusCodeToString(out.status().code()));
    return out;
  }

 private:
  SelfMetrics* metrics_;
  std::string items_;
  std::string items_help_;
};

}  // namespace otelbox::ingest
