#include "tests/integration/test_payloads.h"

#include <snappy.h>
#include <zlib.h>

#include <chrono>

namespace otelbox::testing {
namespace otlp_metrics = opentelemetry::proto::metrics::v1;

void AddSeries(prometheus::WriteRequest* request, const LabelPairs& labels,
               const std::vector<std::pair<int64_t, double>>& samples) {
  auto* ts = request->add_timeseries();
  for (const auto& [name, value] : labels) {
    auto* l = ts->add_labels();
    l->set_name(name);
    l->set_value(value);
  }
  for (const auto& [t, v] : samples) {
    auto* s = ts->add_samples();
    s->set_timestamp(t);
    s->set_value(v);
  }
}

std::string Snappy(const std::string& raw) {
  std::string out;
  snappy::Compress(raw.data(), raw.size(), &out);
  return out;
}

std::string SnappyBody(const prometheus::WriteRequest& request) {
  return Snappy(request.SerializeAsString());
}

std::vector<std::pair<std::string, std::string>> RemoteWriteHeaders() {
  return {{"Content-Type", "application/x-protobuf"},
          {"Content-Encoding", "snappy"},
          {"X-Prometheus-Remote-Write-Version", "0.1.0"}};
}

opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest OtlpRequest(
    const std::string& service, int64_t t_ms) {
  opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest req;
  auto* rm = req.add_resource_metrics();
  auto add_attr = [](auto* attrs, const std::string& k, const std::string& v) {
    auto* kv = attrs->Add();
    kv->set_key(k);
    kv->mutable_value()->set_string_value(v);
  };
  add_attr(rm->mutable_resource()->mutable_attributes(), "service.name", service);
  add_attr(rm->mutable_resource()->mutable_attributes(), "service.instance.id", "i-1");
  add_attr(rm->mutable_resource()->mutable_attributes(), "host.name", "box");
  auto* sm = rm->add_scope_metrics();
  sm->mutable_scope()->set_name("integration-test");
  const uint64_t t_ns = static_cast<uint64_t>(t_ms) * 1000000;

  auto* counter = sm->add_metrics();
  counter->set_name("requests");
  counter->set_unit("1");
  counter->set_description("Requests served.");
  auto* sum = counter->mutable_sum();
  sum->set_is_monotonic(true);
  sum->set_aggregation_temporality(otlp_metrics::AGGREGATION_TEMPORALITY_CUMULATIVE);
  auto* dp = sum->add_data_points();
  dp->set_time_unix_nano(t_ns);
  dp->set_as_int(42);
  add_attr(dp->mutable_attributes(), "http.method", "GET");

  auto* hist = sm->add_metrics();
  hist->set_name("http.server.request.duration");
  hist->set_unit("s");
  auto* h = hist->mutable_histogram();
  h->set_aggregation_temporality(otlp_metrics::AGGREGATION_TEMPORALITY_CUMULATIVE);
  auto* hp = h->add_data_points();
  hp->set_time_unix_nano(t_ns);
  hp->set_count(6);
  hp->set_sum(3.5);
  hp->add_explicit_bounds(0.1);
  hp->add_explicit_bounds(1);
  hp->add_bucket_counts(1);
  hp->add_bucket_counts(2);
  hp->add_bucket_counts(3);
  return req;
}

std::string Gzip(const std::string& raw) {
  z_stream zs{};
  deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, raw.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  zs.avail_in = static_cast<uInt>(raw.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace otelbox::testing
