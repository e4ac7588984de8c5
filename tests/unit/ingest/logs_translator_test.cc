// OTLP logs → Loki streams (contracts/otlp-to-prometheus.md §B).

#include "ingest/otlp/logs_translator.h"

#include "gtest/gtest.h"

namespace otelbox::ingest::otlp {
namespace {

namespace collector = opentelemetry::proto::collector::logs::v1;
namespace pbc = opentelemetry::proto::common::v1;
namespace pbl = opentelemetry::proto::logs::v1;
using storage::Label;

void Attr(google::protobuf::RepeatedPtrField<pbc::KeyValue>* attrs, const std::string& k,
          const std::string& v) {
  auto* kv = attrs->Add();
  kv->set_key(k);
  kv->mutable_value()->set_string_value(v);
}

const std::string* Find(const std::vector<Label>& labels, std::string_view name) {
  for (const auto& l : labels) {
    if (l.name == name) return &l.value;
  }
  return nullptr;
}

TEST(LogsTranslatorTest, MapsResourceScopeAndRecordAsLoki) {
  collector::ExportLogsServiceRequest req;
  auto* rl = req.add_resource_logs();
  auto* ra = rl->mutable_resource()->mutable_attributes();
  Attr(ra, "service.name", "checkout");
  Attr(ra, "k8s.namespace.name", "prod");
  Attr(ra, "host.name", "node-1");
  auto* nested = ra->Add();
  nested->set_key("cloud");
  auto* inner = nested->mutable_value()->mutable_kvlist_value()->add_values();
  inner->set_key("provider");
  inner->mutable_value()->set_string_value("gcp");
  auto* sl = rl->add_scope_logs();
  sl->mutable_scope()->set_name("my.lib");
  sl->mutable_scope()->set_version("1.2");
  auto* r = sl->add_log_records();
  r->set_time_unix_nano(1700000000000000001);
  r->set_observed_time_unix_nano(1700000000000000002);
  r->set_severity_number(pbl::SEVERITY_NUMBER_WARN);
  r->set_severity_text("WARN");
  r->mutable_body()->set_string_value("payment slow");
  Attr(r->mutable_attributes(), "http.route", "/pay");
  r->set_trace_id(std::string("\x4b\xf9\x2f\x35\x77\xb3\x4d\xa6\xa3\xce\x92\x9d\x0e\x0e\x47\x36", 16));
  r->set_span_id(std::string("\x00\xf0\x67\xaa\x0b\xa9\x02\xb7", 8));
  auto* r2 = sl->add_log_records();
  r2->set_observed_time_unix_nano(5);
  auto* body = r2->mutable_body()->mutable_kvlist_value();
  auto* b1 = body->add_values();
  b1->set_key("z");
  b1->mutable_value()->set_double_value(1e-7);
  auto* b2 = body->add_values();
  b2->set_key("a");
  b2->mutable_value()->set_string_value("<x>");

  auto streams = TranslateLogs(req, 99);
  ASSERT_EQ(streams.size(), 1u);
  EXPECT_EQ(streams[0].labels,
            (std::vector<Label>{{"k8s_namespace_name", "prod"}, {"service_name", "checkout"}}));
  ASSERT_EQ(streams[0].entries.size(), 2u);
  const auto& e = streams[0].entries[0];
  EXPECT_EQ(e.t_ns, 1700000000000000001);
  EXPECT_EQ(e.line, "payment slow");
  const std::vector<Label> want = {
      {"http_route", "/pay"},
      {"observed_timestamp", "1700000000000000002"},
      {"severity_number", "13"},
      {"severity_text", "WARN"},
      {"trace_id", "4bf92f3577b34da6a3ce929d0e0e4736"},
      {"span_id", "00f067aa0ba902b7"},
      {"host_name", "node-1"},
      {"cloud_provider", "gcp"},
      {"scope_name", "my.lib"},
      {"scope_version", "1.2"},
  };
  EXPECT_EQ(e.metadata, want);
  const auto& e2 = streams[0].entries[1];
  EXPECT_EQ(e2.t_ns, 5) << "observed time when time is unset";
  EXPECT_EQ(e2.line, R"({"a":"\u003cx\u003e","z":1e-7})") << "sorted keys, Go escaping";
  EXPECT_EQ(Find(e2.metadata, "observed_timestamp"), nullptr);
}

TEST(LogsTranslatorTest, ServiceNameFallbackAndGrouping) {
  collector::ExportLogsServiceRequest req;
  for (const char* container : {"c1", "c1", "c2"}) {
    auto* rl = req.add_resource_logs();
    Attr(rl->mutable_resource()->mutable_attributes(), "k8s.container.name", container);
    rl->add_scope_logs()->add_log_records()->mutable_body()->set_int_value(7);
  }
  req.add_resource_logs()->add_scope_logs()->add_log_records();  // no attributes, no time
  auto streams = TranslateLogs(req, 1234);
  ASSERT_EQ(streams.size(), 3u);
  EXPECT_EQ(streams[0].labels,
            (std::vector<Label>{{"k8s_container_name", "c1"}, {"service_name", "c1"}}));
  EXPECT_EQ(streams[0].entries.size(), 2u);
  EXPECT_EQ(streams[0].entries[0].line, "7");
  EXPECT_EQ(streams[2].labels, (std::vector<Label>{{"service_name", "unknown_service"}}));
  EXPECT_EQ(streams[2].entries[0].t_ns, 1234) << "receive time when both times are unset";
  EXPECT_EQ(streams[2].entries[0].line, "");
}

TEST(LogsTranslatorTest, AnyValueAsString) {
  pbc::AnyValue v;
  v.set_double_value(0.5);
  EXPECT_EQ(AnyValueAsString(v), "0.5");
  v.set_double_value(3);
  EXPECT_EQ(AnyValueAsString(v), "3");
  v.set_double_value(1e21);
  EXPECT_EQ(AnyValueAsString(v), "1e+21");
  v.set_bool_value(true);
  EXPECT_EQ(AnyValueAsString(v), "true");
  v.set_bytes_value("hi");
  EXPECT_EQ(AnyValueAsString(v), "aGk=");
  auto* arr = v.mutable_array_value();
  arr->add_values()->set_int_value(1);
  arr->add_values()->set_string_value("x");
  EXPECT_EQ(AnyValueAsString(v), R"([1,"x"])");
}

}  // namespace
}  // namespace otelbox::ingest::otlp
