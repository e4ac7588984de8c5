// Traces benchmark. Starts a real otelbox on a fresh data dir, sends realistic traces over
// OTLP/gRPC (several services, 5–50 spans per trace, attributes of every type, start times
// spread over the last hour) from several connections and prints spans/s. Then it stops
// otelbox, compacts the data dir and prints bytes/span on disk; restarts otelbox and prints
// latencies of trace-by-id and of TraceQL searches over that hour.
//
// The load generator shares the machine with otelbox, so it does as little as a sender can:
// it encodes `--templates` requests once, then sends copies whose trace ids it rewrites in
// the encoded bytes (every trace sent is a new one; otelbox parses each request in full).
//
//   traces_bench [--spans 5000000] [--connections 4] [--per-request 1000] [--queries 5]
//                [--templates 64] [--data-dir DIR (kept; default a temporary directory)]

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <future>
#include <random>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#include "storage/db.h"
#include "tests/integration/http_client.h"
#include "tests/integration/otelbox_process.h"

namespace {

namespace collector = opentelemetry::proto::collector::trace::v1;
namespace tracepb = opentelemetry::proto::trace::v1;
namespace common = opentelemetry::proto::common::v1;
using otelbox::testing::HttpGet;
using otelbox::testing::OtelboxProcess;
using otelbox::testing::TempDir;
using otelbox::testing::UrlEncode;
using Clock = std::chrono::steady_clock;

struct Options {
  int64_t spans = 5'000'000;
  int connections = 4;
  int per_request = 1000;
  int queries = 5;
  int templates = 64;
  std::string data_dir;  // empty: a fresh temporary directory
  bool disk = true;       // compact and report bytes/span
};

const char* kServices[] = {"frontend", "checkout", "cart", "payment", "shipping", "catalog", "auth", "email"};
const char* kRoutes[] = {"/api/cart", "/api/checkout", "/api/products", "/api/users/{id}", "/api/login",
                         "/api/orders", "/api/pay", "/api/ship"};
const char* kDbOps[] = {"SELECT orders", "INSERT orders", "SELECT products", "UPDATE users", "GET cache"};

uint64_t NowNs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

void Attr(google::protobuf::RepeatedPtrField<common::KeyValue>* attrs, const char* key,
          const std::string& v) {
  auto* kv = attrs->Add();
  kv->set_key(key);
  kv->mutable_value()->set_string_value(v);
}
void AttrInt(google::protobuf::RepeatedPtrField<common::KeyValue>* attrs, const char* key, int64_t v) {
  auto* kv = attrs->Add();
  kv->set_key(key);
  kv->mutable_value()->set_int_value(v);
}

std::string Bytes(uint64_t a, uint64_t b, int n) {
  std::string s(n, '\0');
  for (int i = 0; i < n; ++i) s[i] = static_cast<char>((i < 8 ? a >> (56 - 8 * i) : b >> (56 - 8 * (i - 8))));
  return s;
}

// The n-th trace id of a run.
std::string TraceIdOf(uint64_t n) { return Bytes(0x5eed000000000000ULL ^ (n * 0x9E3779B97F4A7C15ULL), n, 16); }

// Builds one request of about `target` spans (whole traces), start times in [t0, t0+1h).
// The trace ids it used are appended to `trace_ids`.
collector::ExportTraceServiceRequest MakeRequest(std::mt19937_64& rng, int target, uint64_t t0,
                                                 std::atomic<uint64_t>* trace_counter,
                                                 std::vector<std::string>* trace_ids, int* spans_out) {
  collector::ExportTraceServiceRequest req;
  std::vector<tracepb::ScopeSpans*> scopes;
  for (const char* svc : kServices) {
    auto* rs = req.add_resource_spans();
    Attr(rs->mutable_resource()->mutable_attributes(), "service.name", svc);
    Attr(rs->mutable_resource()->mutable_attributes(), "service.version", "1.4.2");
    Attr(rs->mutable_resource()->mutable_attributes(), "deployment.environment", "prod");
    Attr(rs->mutable_resource()->mutable_attributes(), "host.name", std::string("node-") + std::to_string(rng() % 20));
    auto* ss = rs->add_scope_spans();
    ss->mutable_scope()->set_name("io.opentelemetry.http");
    ss->mutable_scope()->set_version("2.8.0");
    scopes.push_back(ss);
  }
  int spans = 0;
  while (spans < target) {
    const uint64_t n = trace_counter->fetch_add(1);
    const std::string trace_id = TraceIdOf(n);
    trace_ids->push_back(trace_id);
    const int count = 5 + static_cast<int>(rng() % 46);
    const uint64_t start = t0 + rng() % (3600ULL * 1'000'000'000ULL - 10'000'000'000ULL);
    const int route = static_cast<int>(rng() % 8);
    const bool error = rng() % 20 == 0;
    const uint64_t root_dur = 5'000'000 + rng() % 2'000'000'000ULL;
    for (int i = 0; i < count; ++i) {
      const int svc = i == 0 ? 0 : static_cast<int>(1 + rng() % 7);
      auto* s = scopes[svc]->add_spans();
      s->set_trace_id(trace_id);
      s->set_span_id(Bytes(n * 64 + i + 1, 0, 8));
      if (i > 0) s->set_parent_span_id(Bytes(n * 64 + 1 + (i > 3 ? rng() % 3 : 0), 0, 8));
      const uint64_t st = start + (i == 0 ? 0 : rng() % (root_dur / 2 + 1));
      const uint64_t dur = i == 0 ? root_dur : 100'000 + rng() % (root_dur / 2 + 1);
      s->set_start_time_unix_nano(st);
      s->set_end_time_unix_nano(st + dur);
      auto* attrs = s->mutable_attributes();
      if (i == 0 || i % 4 == 1) {
        s->set_name(std::string(i == 0 ? "GET " : "POST ") + kRoutes[(route + i) % 8]);
        s->set_kind(i == 0 ? tracepb::Span::SPAN_KIND_SERVER : tracepb::Span::SPAN_KIND_CLIENT);
        Attr(attrs, "http.request.method", i == 0 ? "GET" : "POST");
        Attr(attrs, "http.route", kRoutes[(route + i) % 8]);
        AttrInt(attrs, "http.status_code", error && i == 0 ? 500 : 200);
        Attr(attrs, "user.id", "user-" + std::to_string(rng() % 100000));
        auto* kv = attrs->Add();
        kv->set_key("net.peer.port");
        kv->mutable_value()->set_int_value(static_cast<int64_t>(30000 + rng() % 30000));
      } else {
        s->set_name(kDbOps[(route + i) % 5]);
        s->set_kind(tracepb::Span::SPAN_KIND_INTERNAL);
        Attr(attrs, "db.system", "postgresql");
        Attr(attrs, "db.statement", std::string(kDbOps[(route + i) % 5]) + " WHERE id = ?");
        auto* d = attrs->Add();
        d->set_key("db.rows_ratio");
        d->mutable_value()->set_double_value(static_cast<double>(rng() % 1000) / 1000.0);
        auto* b = attrs->Add();
        b->set_key("cache.hit");
        b->mutable_value()->set_bool_value(rng() % 2 == 0);
        auto* arr = attrs->Add();
        arr->set_key("db.tables");
        arr->mutable_value()->mutable_array_value()->add_values()->set_string_value("orders");
        arr->mutable_value()->mutable_array_value()->add_values()->set_string_value("users");
      }
      if (error && i == 0) {
        s->mutable_status()->set_code(tracepb::Status::STATUS_CODE_ERROR);
        s->mutable_status()->set_message("upstream failed");
        auto* ev = s->add_events();
        ev->set_name("exception");
        ev->set_time_unix_nano(st + dur / 2);
        Attr(ev->mutable_attributes(), "exception.type", "TimeoutError");
      }
    }
    spans += count;
  }
  *spans_out = spans;
  return req;
}

// An encoded request and where each of its traces' ids sits in the bytes.
struct RequestTemplate {
  std::string bytes;
  int spans = 0;
  std::vector<std::vector<size_t>> id_offsets;  // per trace
};

RequestTemplate MakeTemplate(std::mt19937_64& rng, int target, uint64_t t0, std::atomic<uint64_t>* counter) {
  RequestTemplate t;
  std::vector<std::string> ids;
  auto req = MakeRequest(rng, target, t0, counter, &ids, &t.spans);
  t.bytes = req.SerializeAsString();
  for (const auto& id : ids) {
    auto& offsets = t.id_offsets.emplace_back();
    for (size_t p = t.bytes.find(id); p != std::string::npos; p = t.bytes.find(id, p + 16)) offsets.push_back(p);
  }
  return t;
}

// A copy of `t` whose traces are new ones (ids from `counter`); some ids go to `samples`.
std::string Instantiate(const RequestTemplate& t, std::atomic<uint64_t>* counter, std::vector<std::string>* samples) {
  std::string out = t.bytes;
  const uint64_t first = counter->fetch_add(t.id_offsets.size());
  for (size_t i = 0; i < t.id_offsets.size(); ++i) {
    const uint64_t n = first + i;
    const std::string id = TraceIdOf(n);
    for (size_t off : t.id_offsets[i]) std::memcpy(out.data() + off, id.data(), 16);
    if (n % 10007 == 0) samples->push_back(id);
  }
  return out;
}

// utime + stime of a process, from /proc.
double CpuSeconds(pid_t pid) {
  FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
  if (f == nullptr) return 0;
  char buf[4096];
  size_t n = std::fread(buf, 1, sizeof(buf) - 1, f);
  std::fclose(f);
  buf[n] = 0;
  const char* p = std::strrchr(buf, ')');
  if (p == nullptr) return 0;
  unsigned long long utime = 0, stime = 0;
  // Fields after the command: state(3) ... utime(14) stime(15).
  std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime);
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

struct Latencies {
  std::vector<double> ms;
  double Median() {
    std::sort(ms.begin(), ms.end());
    return ms.empty() ? 0 : ms[ms.size() / 2];
  }
  double Max() { return ms.empty() ? 0 : *std::max_element(ms.begin(), ms.end()); }
};

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // figures appear as they are measured
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string f = argv[i];
    if (f == "--spans") o.spans = std::atoll(argv[i + 1]);
    else if (f == "--connections") o.connections = std::atoi(argv[i + 1]);
    else if (f == "--per-request") o.per_request = std::atoi(argv[i + 1]);
    else if (f == "--queries") o.queries = std::atoi(argv[i + 1]);
    else if (f == "--templates") o.templates = std::max(1, std::atoi(argv[i + 1]));
    else if (f == "--data-dir") o.data_dir = argv[i + 1];
    else if (f == "--disk") o.disk = std::string(argv[i + 1]) != "0";
    else {
      std::fprintf(stderr, "unknown flag %s\n", f.c_str());
      return 2;
    }
  }
  TempDir tmp;
  const std::string data_dir = o.data_dir.empty() ? tmp.path() : o.data_dir;
  const uint64_t t0 = NowNs() - 3600ULL * 1'000'000'000ULL;
  std::vector<std::string> sample_ids;
  std::atomic<int64_t> sent{0};
  int64_t failed = 0;
  double ingest_s = 0;
  {
    OtelboxProcess otelbox({"--data-dir", data_dir});
    if (!otelbox.ok()) {
      std::fprintf(stderr, "otelbox: %s\n", otelbox.error().c_str());
      return 1;
    }
    // Templates use trace numbers from 2^62 on, out of the way of the ones sent.
    std::atomic<uint64_t> template_counter{1ULL << 62};
    std::vector<RequestTemplate> templates;
    {
      std::mt19937_64 rng(1234);
      for (int i = 0; i < o.templates; ++i) templates.push_back(MakeTemplate(rng, o.per_request, t0, &template_counter));
    }
    const double cpu_before = CpuSeconds(otelbox.pid());
    rusage ru_before{};
    getrusage(RUSAGE_SELF, &ru_before);
    std::atomic<uint64_t> trace_counter{1};
    std::atomic<size_t> next_template{0};
    std::atomic<int64_t> errors{0};
    std::vector<std::thread> threads;
    std::mutex ids_mu;
    const auto start = Clock::now();
    for (int c = 0; c < o.connections; ++c) {
      threads.emplace_back([&, c] {
        grpc::ChannelArguments args;
        args.SetInt("grpc.channel_id", c);  // one connection per thread
        args.SetMaxSendMessageSize(64 << 20);
        grpc::GenericStub stub(
            grpc::CreateCustomChannel(otelbox.otlp_grpc(), grpc::InsecureChannelCredentials(), args));
        std::vector<std::string> ids;
        while (sent.load() < o.spans) {
          const RequestTemplate& t = templates[next_template++ % templates.size()];
          const int n = t.spans;
          grpc::Slice slice(Instantiate(t, &trace_counter, &ids));
          const grpc::ByteBuffer req(&slice, 1);
          for (int attempt = 0; attempt < 20; ++attempt) {
            grpc::ClientContext ctx;
            grpc::ByteBuffer resp;
            std::promise<grpc::Status> done;
            stub.UnaryCall(&ctx, "/opentelemetry.proto.collector.trace.v1.TraceService/Export", grpc::StubOptions(),
                           &req, &resp, [&](grpc::Status s) { done.set_value(std::move(s)); });
            auto st = done.get_future().get();
            if (st.ok()) break;
            if (st.error_code() != grpc::StatusCode::UNAVAILABLE) {
              ++errors;
              std::fprintf(stderr, "export: %s\n", st.error_message().c_str());
              break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
          }
          sent += n;
        }
        std::lock_guard l(ids_mu);
        sample_ids.insert(sample_ids.end(), ids.begin(), ids.end());
      });
    }
    for (auto& t : threads) t.join();
    ingest_s = std::chrono::duration<double>(Clock::now() - start).count();
    failed = errors.load();
    // Spans still in the trace head are cut into search blocks in the background: wait for
    // that (up to 30 s) so the CPU figure includes it.
    double drain_s = 0;
    for (const auto drain_start = Clock::now(); drain_s < 30;
         drain_s = std::chrono::duration<double>(Clock::now() - drain_start).count()) {
      auto m = HttpGet(otelbox.http(), "/metrics");
      if (m.body.find("\notelbox_trace_head_spans 0\n") != std::string::npos) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    std::printf("ingest: %lld spans over OTLP/gRPC in %.1f s = %.0f spans/s (%d connections, ~%d spans/request, %lld failed requests)\n",
                static_cast<long long>(sent.load()), ingest_s, sent.load() / ingest_s, o.connections,
                o.per_request, static_cast<long long>(failed));
    const double cpu = CpuSeconds(otelbox.pid()) - cpu_before;
    std::printf("ingest: otelbox used %.1f CPU-seconds = %.0f spans per CPU-second (the machine is shared; "
                "includes %.1f s waiting for the head to be cut into blocks)\n",
                cpu, cpu > 0 ? sent.load() / cpu : 0.0, drain_s);
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    auto secs = [](const rusage& r) {
      return r.ru_utime.tv_sec + r.ru_stime.tv_sec + (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
    };
    std::printf("ingest: the load generator (this process) used %.1f CPU-seconds while sending\n",
                secs(ru) - secs(ru_before));
    auto m = HttpGet(otelbox.http(), "/metrics");
    for (size_t p = m.body.find("\notelbox_trace"); p != std::string::npos; p = m.body.find("\notelbox_trace", p + 1)) {
      std::printf("  %s\n", m.body.substr(p + 1, m.body.find('\n', p + 1) - p - 1).c_str());
    }
    std::fflush(stdout);
    otelbox.StopWith(SIGTERM);
  }
  if (o.disk) {
    otelbox::storage::DatabaseOptions dbo;
    auto db = otelbox::storage::Database::Open(data_dir, dbo);
    if (db.ok()) {
      (void)(*db)->FlushAll();
      (void)(*db)->CompactAll();
      using CF = otelbox::storage::ColumnFamily;
      const uint64_t traces = (*db)->LiveSstBytes(CF::kTraces);
      const uint64_t search = (*db)->LiveSstBytes(CF::kSpanSearch);
      const uint64_t tags = (*db)->LiveSstBytes(CF::kTraceTags);
      const double n = static_cast<double>(sent.load());
      std::printf("disk: %.1f bytes/span (traces %.1f, span_search %.1f, trace_tags %.2f)\n",
                  (traces + search + tags) / n, traces / n, search / n, tags / n);
    }
  }
  OtelboxProcess otelbox({"--data-dir", data_dir});
  if (!otelbox.ok()) {
    std::fprintf(stderr, "restart: %s\n", otelbox.error().c_str());
    return 1;
  }
  auto hex = [](const std::string& b) {
    static const char* k = "0123456789abcdef";
    std::string out;
    for (unsigned char c : b) {
      out.push_back(k[c >> 4]);
      out.push_back(k[c & 15]);
    }
    return out;
  };
  Latencies by_id;
  for (size_t i = 0; i < sample_ids.size() && i < 200; ++i) {
    auto t = Clock::now();
    auto res = HttpGet(otelbox.http(), "/api/v2/traces/" + hex(sample_ids[i]));
    by_id.ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
    if (res.status != 200) std::fprintf(stderr, "trace by id: HTTP %d\n", res.status);
  }
  std::printf("trace by id (/api/v2/traces, JSON): median %.2f ms, max %.2f ms over %zu traces\n",
              by_id.Median(), by_id.Max(), by_id.ms.size());
  const std::string range = "&start=" + std::to_string(t0 / 1'000'000'000) + "&end=" +
                            std::to_string(t0 / 1'000'000'000 + 3600);
  // A user id some spans carry (the templates hold a few thousand of the 100,000).
  std::string user_id;
  {
    std::mt19937_64 rng(1234);
    std::atomic<uint64_t> counter{1};
    std::vector<std::string> ids;
    int n = 0;
    auto req = MakeRequest(rng, 10, t0, &counter, &ids, &n);
    for (const auto& rs : req.resource_spans()) {
      for (const auto& ss : rs.scope_spans()) {
        for (const auto& sp : ss.spans()) {
          for (const auto& kv : sp.attributes()) {
            if (kv.key() == "user.id" && user_id.empty()) user_id = kv.value().string_value();
          }
        }
      }
    }
  }
  const std::string queries[] = {
      R"({ resource.service.name = "frontend" && span.http.status_code = 500 })",
      R"({ name = "GET /api/cart" && duration > 1500ms })",
      R"({ span.user.id = ")" + user_id + R"(" && span.http.request.method = "GET" })",
      R"({ resource.service.name = "frontend" && status = error } >> { span.db.system = "postgresql" })",
      // Matches nothing (500s are frontend's): every block of the hour is scanned.
      R"({ resource.service.name = "checkout" && span.http.status_code = 500 })",
      // most_recent: the newest matches of the whole hour, so every block is scanned.
      R"({ resource.service.name = "frontend" && span.http.status_code = 500 } with (most_recent=true))",
  };
  for (const std::string& q : queries) {
    Latencies l;
    size_t found = 0;
    for (int i = 0; i < o.queries; ++i) {
      auto t = Clock::now();
      auto res = HttpGet(otelbox.http(), "/api/search?q=" + UrlEncode(q) + "&limit=20" + range);
      l.ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
      if (res.status != 200) std::fprintf(stderr, "search: HTTP %d %s\n", res.status, res.body.c_str());
      if (i == 0) {
        size_t mp = res.body.find("\"metrics\"");
        if (mp != std::string::npos) std::printf("  %s\n", res.body.substr(mp).c_str());
      }
      found = 0;
      for (size_t p = res.body.find("\"traceID\""); p != std::string::npos; p = res.body.find("\"traceID\"", p + 1)) ++found;
    }
    std::printf("search %s (limit 20, 1 h): median %.0f ms, max %.0f ms, %zu traces\n", q.c_str(), l.Median(), l.Max(),
                found);
  }
  {
    Latencies l;
    for (int i = 0; i < o.queries; ++i) {
      auto t = Clock::now();
      auto res = HttpGet(otelbox.http(), "/api/metrics/query_range?q=" +
                                             UrlEncode("{ } | rate() by (resource.service.name)") + range + "&step=60s");
      l.ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
      if (res.status != 200) std::fprintf(stderr, "metrics: HTTP %d %s\n", res.status, res.body.substr(0, 200).c_str());
    }
    std::printf("metrics { } | rate() by (resource.service.name) over 1 h: median %.0f ms\n", l.Median());
  }
  otelbox.StopWith(SIGTERM);
  return failed == 0 ? 0 : 1;
}
