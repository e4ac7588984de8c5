#include "ingest/ingest_counters.h"

#include "ingest/string_util.h"

namespace otelbox::ingest {

void IngestCounters::CountRequest(std::string_view protocol, std::string_view code) {
  if (metrics_ == nullptr) return;
  metrics_
      ->GetCounter("otelbox_ingest_requests_total", "Ingest requests by protocol and result.",
                   absl::StrCat("protocol=\"", AbslView(protocol), "\",code=\"", AbslView(code), "\""))
      ->Add();
}

void IngestCounters::CountItems(std::string_view protocol, int64_t n) {
  if (metrics_ == nullptr || n <= 0) return;
  metrics_->GetCounter(items_, items_help_, absl::StrCat("protocol=\"", AbslView(protocol), "\""))->Add(n);
}

}  // namespace otelbox::ingest
