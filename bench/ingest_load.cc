// Ingest load generator + report. Starts a real otelbox on a fresh data dir, replays
// node_exporter-like scrapes of 10k active series over remote_write or OTLP/HTTP protobuf
// on several keep-alive connections, and prints samples/s. Then it stops otelbox, opens
// the data dir, flushes and compacts, and prints bytes/sample on disk.
//
//   ingest_load [--protocol remote_write|otlp] [--series 10000] [--rounds 600]
//               [--per-request 2000] [--connections 4]

#include <signal.h>
#include <snappy.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "prometheus/remote.pb.h"
#include "storage/db.h"
#include "tests/integration/otelbox_process.h"

namespace {
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;
namespace otlp = opentelemetry::proto;

struct Options {
  std::string protocol = "remote_write";
  int series = 10000;
  int rounds = 600;  // scrapes per series, 15 s apart: 600 rounds = 2.5 h of data
  int per_request = 2000;
  int connections = 4;
};

// node_exporter-like values, scraped every 15 s. A node_exporter's series are mostly
// constant or rarely changing (filesystem sizes, info metrics, error/drop counters that stay
// 0, unused CPU modes), a fifth are integer counters and byte gauges moving every scrape,
// and the rest are floats: CPU seconds and load averages with two decimals, and scrape
// durations that are noise. The 20 profiles below keep those proportions (55% / 5% / 20% /
// 20%); Name() gives each a node_exporter metric name of that kind.
class NodeExporterLike {
 public:
  static constexpr int kProfiles = 20;
  explicit NodeExporterLike(int series) : values_(series), ticks_(series, 100000000), rng_(42) {
    for (int i = 0; i < series; ++i) values_[i] = Initial(i);
  }
  static std::string Name(int i) {
    static const char* kNames[kProfiles] = {
        "node_filesystem_size_bytes", "node_filesystem_files", "node_network_receive_errs_total",
        "node_network_transmit_drop_total", "node_cpu_guest_seconds_total", "node_uname_info",
        "node_memory_MemTotal_bytes", "node_scrape_collector_success", "node_disk_info",
        "node_network_mtu_bytes", "node_vmstat_oom_kill", "node_filesystem_avail_bytes",
        "node_network_receive_packets_total", "node_disk_reads_completed_total",
        "node_network_transmit_bytes_total", "node_memory_MemAvailable_bytes",
        "node_cpu_seconds_total", "node_disk_io_time_seconds_total", "node_load1",
        "node_scrape_collector_duration_seconds"};
    return kNames[i % kProfiles];
  }
  double Next(int i) {
    double& v = values_[i];
    switch (i % kProfiles) {
      case 11: if (rng_() % 20 == 0) v -= 4096.0 * (rng_() % 16); break;  // rarely changes
      case 12: case 13: v += static_cast<double>(rng_() % 200); break;      // packet/IO counters
      case 14: v += 1500.0 * static_cast<double>(rng_() % 200); break;      // byte counter
      case 15: v += 4096.0 * (static_cast<int>(rng_() % 9) - 4); break;     // memory gauge
      // node_exporter divides kernel clock ticks by 100 and durations in ns by 1e9, so its
      // floats are the doubles nearest to short decimals.
      case 16: case 17: ticks_[i] += rng_() % 1500; v = static_cast<double>(ticks_[i]) / 100; break;
      case 18: v = static_cast<double>(rng_() % 400) / 100; break;           // load average
      case 19: v = static_cast<double>(1000000 + rng_() % 1000000) / 1e9; break;  // duration
      default: break;                                                          // constants
    }
    return v;
  }

 private:
  static double Initial(int i) { return (i % kProfiles) < 11 ? double((i % 7) * 1024) : 1e9 + i * 4096.0; }
  std::vector<double> values_;
  std::vector<uint64_t> ticks_;  // CPU profiles: clock ticks so far
  std::mt19937_64 rng_;
};

std::vector<std::pair<std::string, std::string>> LabelsOf(int i) {
  return {{"__name__", NodeExporterLike::Name(i)},
          {"instance", "host-" + std::to_string(i / 100) + ":9100"},
          {"job", "node"},
          {"series", std::to_string(i % 100)}};  // 100 series per host, 100 hosts at 10k
}

// Pre-encodes every request body so that the timed phase measures otelbox, not us.
std::vector<std::string> BuildBodies(const Options& opt, int64_t start_ms, size_t* samples) {
  NodeExporterLike gen(opt.series);
  std::vector<std::string> bodies;
  *samples = 0;
  for (int r = 0; r < opt.rounds; ++r) {
    const int64_t t = start_ms + r * 15000LL;
    for (int first = 0; first < opt.series; first += opt.per_request) {
      const int last = std::min(opt.series, first + opt.per_request);
      std::string raw;
      if (opt.protocol == "remote_write") {
        prometheus::WriteRequest req;
        for (int i = first; i < last; ++i) {
          auto* ts = req.add_timeseries();
          for (auto& [n, v] : LabelsOf(i)) {
            auto* l = ts->add_labels();
            l->set_name(n);
            l->set_value(v);
          }
          auto* s = ts->add_samples();
          s->set_timestamp(t);
          s->set_value(gen.Next(i));
        }
        req.SerializeToString(&raw);
        std::string compressed;
        snappy::Compress(raw.data(), raw.size(), &compressed);
        bodies.push_back(std::move(compressed));
      } else {
        otlp::collector::metrics::v1::ExportMetricsServiceRequest req;
        otlp::metrics::v1::ScopeMetrics* scope = nullptr;
        int host = -1;
        for (int i = first; i < last; ++i) {
          if (i / 100 != host) {
            host = i / 100;
            auto* rm = req.add_resource_metrics();
            auto* attr = rm->mutable_resource()->add_attributes();
            attr->set_key("service.name");
            attr->mutable_value()->set_string_value("node");
            attr = rm->mutable_resource()->add_attributes();
            attr->set_key("service.instance.id");
            attr->mutable_value()->set_string_value("host-" + std::to_string(host) + ":9100");
            scope = rm->add_scope_metrics();
          }
          auto* m = scope->add_metrics();
          m->set_name("node.metric." + std::to_string(i % 100));
          auto* dp = m->mutable_gauge()->add_data_points();
          dp->set_time_unix_nano(static_cast<uint64_t>(t) * 1000000);
          dp->set_as_double(gen.Next(i));
        }
        req.SerializeToString(&raw);
        bodies.push_back(std::move(raw));
      }
      *samples += last - first;
    }
  }
  return bodies;
}

// One keep-alive connection posting bodies [index, index + step, ...].
void Sender(const std::string& host_port, const std::string& path, const Options& opt,
            const std::vector<std::string>& bodies, size_t index, std::atomic<size_t>* failures) {
  auto colon = host_port.rfind(':');
  boost::asio::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::tcp_stream stream(ioc);
  stream.connect(resolver.resolve(host_port.substr(0, colon), host_port.substr(colon + 1)));
  beast::flat_buffer buffer;
  for (size_t i = index; i < bodies.size(); i += opt.connections) {
    http::request<http::string_body> req{http::verb::post, path, 11};
    req.set(http::field::host, host_port);
    req.set(http::field::content_type, "application/x-protobuf");
    if (opt.protocol == "remote_write") {
      req.set(http::field::content_encoding, "snappy");
      req.set("X-Prometheus-Remote-Write-Version", "0.1.0");
    }
    req.keep_alive(true);
    req.body() = bodies[i];
    req.prepare_payload();
    http::write(stream, req);
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    if (res.result_int() / 100 != 2) {
      if (failures->fetch_add(1) < 3) {
        std::fprintf(stderr, "request failed: %d %s\n", res.result_int(), res.body().c_str());
      }
    }
  }
}

uint64_t DirBytes(const std::string& dir, const std::string& suffix) {
  uint64_t total = 0;
  for (auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().string().ends_with(suffix)) total += e.file_size();
  }
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--protocol") opt.protocol = v;
    else if (k == "--series") opt.series = std::stoi(v);
    else if (k == "--rounds") opt.rounds = std::stoi(v);
    else if (k == "--per-request") opt.per_request = std::stoi(v);
    else if (k == "--connections") opt.connections = std::stoi(v);
    else { std::fprintf(stderr, "unknown flag %s\n", k.c_str()); return 2; }
  }
  if (opt.protocol != "remote_write" && opt.protocol != "otlp") {
    std::fprintf(stderr, "--protocol remote_write|otlp\n");
    return 2;
  }
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch()).count();
  const int64_t start_ms = now_ms - opt.rounds * 15000LL;  // replay ends at "now"
  size_t samples = 0;
  auto bodies = BuildBodies(opt, start_ms, &samples);
  size_t body_bytes = 0;
  for (auto& b : bodies) body_bytes += b.size();

  otelbox::testing::TempDir dir;
  otelbox::testing::OtelboxProcess otelbox({"--data-dir", dir.path(), "--log-level", "warn"});
  if (!otelbox.ok()) {
    std::fprintf(stderr, "otelbox did not start: %s\n", otelbox.error().c_str());
    return 1;
  }
  const std::string target = opt.protocol == "remote_write" ? otelbox.http() : otelbox.otlp_http();
  const std::string path = opt.protocol == "remote_write" ? "/api/v1/write" : "/v1/metrics";
  std::atomic<size_t> failures{0};
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> senders;
  for (int c = 0; c < opt.connections; ++c) {
    senders.emplace_back(Sender, target, path, std::cref(opt), std::cref(bodies), c, &failures);
  }
  for (auto& t : senders) t.join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  long rss = otelbox.RssBytes();
  otelbox.StopWith(SIGTERM);

  // "After flush": memtables flushed and merge operands compacted into whole chunks.
  otelbox::storage::DatabaseOptions db_options;
  db_options.now_ms = [now_ms] { return now_ms; };
  auto db = otelbox::storage::Database::Open(dir.path(), db_options);
  if (!db.ok()) {
    std::fprintf(stderr, "reopen failed: %s\n", std::string(db.status().message()).c_str());
    return 1;
  }
  (void)(*db)->FlushAll();
  (void)(*db)->CompactAll();
  uint64_t sst = (*db)->LiveSstBytes();
  std::string by_family;
  for (int f = 0; f < otelbox::storage::kNumColumnFamilies; ++f) {
    auto family = static_cast<otelbox::storage::ColumnFamily>(f);
    char part[96];
    std::snprintf(part, sizeof part, " %s=%.3f", otelbox::storage::Database::FamilyName(family),
                  static_cast<double>((*db)->LiveSstBytes(family)) / samples);
    by_family += part;
  }
  (void)(*db)->Close();

  std::printf("ingest_load protocol=%s series=%d samples=%zu requests=%zu per_request=%d connections=%d\n",
              opt.protocol.c_str(), opt.series, samples, bodies.size(), opt.per_request, opt.connections);
  std::printf("  throughput: %.0f samples/s (%.2f s, %.1f MB request bodies, failed requests %zu)\n",
              samples / seconds, seconds, body_bytes / 1e6, failures.load());
  std::printf("  disk after flush+compaction: %.3f bytes/sample (live SST %.2f MB; all *.sst files %.2f MB)\n",
              static_cast<double>(sst) / samples, sst / 1e6, DirBytes(dir.path(), ".sst") / 1e6);
  std::printf("  bytes/sample by column family:%s\n", by_family.c_str());
  std::printf("  otelbox RSS at end of load: %.1f MB\n", rss / 1048576.0);
  return failures.load() == 0 ? 0 : 1;
}
