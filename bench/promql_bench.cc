// Query benchmark + report. Starts a real otelbox on a fresh data dir, loads a
// dashboard-like service fleet (request counters, classic latency histograms, process
// gauges) scraped every 15 s for --hours ending at now over remote_write, then runs the
// queries a Grafana service dashboard sends (range queries over the last 1h and 24h at
// ~240 points, and instant queries) --repeat times each and prints median latencies.
// With --compare-prometheus it also starts that Prometheus binary on loopback with the
// remote-write receiver on, sends it the same bodies, and prints its medians alongside.
// It prints figures and never asserts on timing; it fails only when an answer is not a
// non-empty success.
//
//   promql_bench [--series 10000] [--hours 24] [--repeat 5] [--per-request 2000]
//                [--connections 4] [--samples-per-series 1] [--settle-seconds 10]
//                [--hold-seconds 0] [--windows 1h,24h,instant]
//                [--compare-prometheus /usr/bin/prometheus]

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <snappy.h>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "prometheus/remote.pb.h"
#include "tests/integration/http_client.h"
#include "tests/integration/otelbox_process.h"

namespace {
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = boost::asio::ip::tcp;

struct Options {
  int series = 10000;
  int hours = 24;
  int repeat = 5;
  int per_request = 2000;       // series per remote_write request
  int connections = 4;          // keep-alive connections sending in parallel
  int samples_per_series = 1;   // consecutive scrapes per series in one request
  int settle_seconds = 10;      // idle time between load and queries (background flushes)
  int hold_seconds = 0;         // keep both servers up after the table, to poke at by hand
  std::string prometheus;       // --compare-prometheus binary; empty: otelbox only
  std::string windows = "1h,24h,instant";  // which query windows to run
};

constexpr int64_t kScrapeMs = 15'000;

// ---------------------------------------------------------------------------------------
// The fleet. Every instance exposes one unit of 24 series:
//   up; http_requests_total{code=200|404|500, method=GET|POST} (6 integer counters);
//   http_request_duration_seconds_bucket{le=...} (10 buckets) + _sum + _count;
//   5 gauges (resident memory, goroutines, open fds, heap bytes, in-flight requests).
// The last instance takes the first --series % 24 series of a unit, with the histogram
// slots turned into extra gauges so that no histogram is left without its upper buckets.
constexpr int kUnit = 24;
constexpr int kBuckets = 10;
constexpr const char* kLe[kBuckets] = {"0.005", "0.01", "0.025", "0.05", "0.1",
                                       "0.25",  "0.5",  "1",     "2.5",  "+Inf"};
// Share of observations per bucket, per mille (sums to 1000); a latency for _sum each.
constexpr int kBucketPermille[kBuckets] = {50, 100, 200, 250, 200, 100, 50, 30, 15, 5};
constexpr double kBucketLatency[kBuckets] = {0.003, 0.008, 0.018, 0.04, 0.07,
                                             0.17,  0.35,  0.7,   1.6,  4.0};
constexpr const char* kJobs[8] = {"api",     "checkout", "search",  "auth",
                                  "cart",    "payments", "catalog", "frontend"};
constexpr const char* kCodes[3] = {"200", "404", "500"};
constexpr const char* kMethods[2] = {"GET", "POST"};
constexpr const char* kGauges[5] = {"process_resident_memory_bytes", "go_goroutines",
                                    "process_open_fds", "go_memstats_heap_alloc_bytes",
                                    "http_inflight_requests"};

enum class Kind { kUp, kCounter, kBucket, kSum, kCount, kGauge };

struct Slot {
  Kind kind;
  int index;  // counter: code*2+method; bucket: bucket; gauge: gauge number
};

Slot SlotOf(int s, bool partial) {
  if (s == 0) return {Kind::kUp, 0};
  if (s <= 6) return {Kind::kCounter, s - 1};
  if (s <= 18) {
    if (partial) return {Kind::kGauge, 5 + s - 7};  // extra gauges in the partial unit
    if (s <= 16) return {Kind::kBucket, s - 7};
    return {s == 17 ? Kind::kSum : Kind::kCount, 0};
  }
  return {Kind::kGauge, s - 19};
}

// Prometheus spreads its targets over the scrape interval (a fixed offset per target, from
// a hash), so real timestamps are never on 15 s boundaries. Aligned timestamps would also
// put samples exactly on the edges of Grafana's step-aligned windows, where Prometheus 2.x
// (left-closed windows) and 3.x (left-open, as otelbox) legitimately disagree.
int64_t ScrapeOffsetMs(int instance) { return (instance * 7919LL + 1234) % kScrapeMs; }

using LabelList = std::vector<std::pair<std::string, std::string>>;

LabelList LabelsOf(int instance, Slot slot) {
  LabelList l;
  auto add = [&](std::string n, std::string v) { l.emplace_back(std::move(n), std::move(v)); };
  std::string job = kJobs[instance % 8];
  std::string inst = "10.1." + std::to_string(instance / 200) + "." +
                     std::to_string(instance % 200) + ":8080";
  switch (slot.kind) {
    case Kind::kUp: add("__name__", "up"); break;
    case Kind::kCounter: add("__name__", "http_requests_total"); break;
    case Kind::kBucket: add("__name__", "http_request_duration_seconds_bucket"); break;
    case Kind::kSum: add("__name__", "http_request_duration_seconds_sum"); break;
    case Kind::kCount: add("__name__", "http_request_duration_seconds_count"); break;
    case Kind::kGauge:
      add("__name__", slot.index < 5 ? kGauges[slot.index] : "app_extra_gauge");
      break;
  }
  if (slot.kind == Kind::kCounter) add("code", kCodes[slot.index / 2]);
  add("instance", inst);
  add("job", job);
  if (slot.kind == Kind::kBucket) add("le", kLe[slot.index]);
  if (slot.kind == Kind::kCounter) add("method", kMethods[slot.index % 2]);
  if (slot.kind == Kind::kGauge && slot.index >= 5) add("slot", std::to_string(slot.index));
  return l;
}

// The series of a run of whole instances, one remote_write body per round (or per
// --samples-per-series rounds). Values come from an RNG seeded by the chunk number, so
// every target receives byte-identical bodies whichever connection sends them.
class Chunk {
 public:
  Chunk(int number, int first_instance, int last_instance, int total_series)
      : rng_(1000003ULL * (number + 1)) {
    for (int in = first_instance; in < last_instance; ++in) {
      const int in_unit = std::min(kUnit, total_series - in * kUnit);
      const bool partial = in_unit < kUnit;
      Instance inst;
      inst.first = static_cast<int>(slots_.size());
      inst.partial = partial;
      for (int s = 0; s < in_unit; ++s) {
        Slot slot = SlotOf(s, partial);
        slots_.push_back(slot);
        auto* ts = request_.add_timeseries();
        for (auto& [n, v] : LabelsOf(in, slot)) {
          auto* label = ts->add_labels();
          label->set_name(n);
          label->set_value(v);
        }
        values_.push_back(Initial(slot, in));
        offsets_.push_back(ScrapeOffsetMs(in));
      }
      instances_.push_back(inst);
    }
  }

  size_t series() const { return slots_.size(); }

  // Advances `rounds` scrapes, the first in the interval starting at `t0_ms`, and returns
  // the snappy body.
  std::string NextBody(int64_t t0_ms, int rounds) {
    for (auto& ts : *request_.mutable_timeseries()) {
      while (ts.samples_size() > rounds) ts.mutable_samples()->RemoveLast();
      while (ts.samples_size() < rounds) ts.add_samples();
    }
    for (int r = 0; r < rounds; ++r) {
      Advance();
      for (size_t i = 0; i < values_.size(); ++i) {
        auto* s = request_.mutable_timeseries(static_cast<int>(i))->mutable_samples(r);
        s->set_timestamp(t0_ms + r * kScrapeMs + offsets_[i]);
        s->set_value(values_[i]);
      }
    }
    request_.SerializeToString(&raw_);
    std::string body;
    snappy::Compress(raw_.data(), raw_.size(), &body);
    return body;
  }

 private:
  struct Instance {
    int first;
    bool partial;
  };

  static double Initial(Slot slot, int instance) {
    switch (slot.kind) {
      case Kind::kUp: return 1;
      case Kind::kGauge:
        return slot.index == 0 ? 150e6 + 4096.0 * (instance % 1000) : 10 + instance % 20;
      default: return 0;  // counters start at 0 (the process started with the replay)
    }
  }

  // One scrape interval: counters grow by integers, the histogram by a few dozen
  // observations spread over its buckets, gauges wander.
  void Advance() {
    for (const Instance& inst : instances_) {
      double* v = &values_[inst.first];
      const int n = std::min<int>(kUnit, static_cast<int>(values_.size()) - inst.first);
      static constexpr int kCounterMax[6] = {60, 20, 3, 2, 2, 1};  // per scrape, exclusive
      for (int c = 0; c < 6 && 1 + c < n; ++c) v[1 + c] += static_cast<double>(rng_() % kCounterMax[c]);
      if (!inst.partial) {
        int fresh[kBuckets] = {};
        const int observations = static_cast<int>(rng_() % 50);
        double sum = 0;
        for (int o = 0; o < observations; ++o) {
          int pick = static_cast<int>(rng_() % 1000), b = 0;
          while (pick >= kBucketPermille[b]) pick -= kBucketPermille[b++];
          ++fresh[b];
          sum += kBucketLatency[b];
        }
        int cumulative = 0;
        for (int b = 0; b < kBuckets; ++b) {
          cumulative += fresh[b];
          v[7 + b] += cumulative;
        }
        v[17] += sum;
        v[18] += observations;
      }
      for (int s = inst.partial ? 7 : 19; s < n; ++s) {
        const int g = slots_[inst.first + s].index;
        switch (g) {
          case 0: v[s] += 4096.0 * (static_cast<int>(rng_() % 9) - 4); break;
          case 1: v[s] = 50 + static_cast<double>(rng_() % 100); break;
          case 2: v[s] = 20 + static_cast<double>(rng_() % 30); break;
          case 3: v[s] = 8e6 + static_cast<double>(rng_() % 4000000); break;
          default: v[s] = static_cast<double>(rng_() % 10); break;
        }
      }
    }
  }

  std::mt19937_64 rng_;
  prometheus::WriteRequest request_;
  std::string raw_;
  std::vector<Slot> slots_;
  std::vector<double> values_;
  std::vector<int64_t> offsets_;
  std::vector<Instance> instances_;
};

// ---------------------------------------------------------------------------------------
// One blocking keep-alive HTTP/1.1 connection; reconnects once if the peer closed it.
class Connection {
 public:
  struct Reply {
    int status = 0;  // 0: transport failure (body holds the error)
    std::string body;
  };

  explicit Connection(std::string host_port) : host_port_(std::move(host_port)), stream_(ioc_) {}

  Reply Do(http::verb verb, const std::string& target, const std::string& body,
           const std::vector<std::pair<std::string, std::string>>& headers) {
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, host_port_);
    for (auto& [k, v] : headers) req.set(k, v);
    req.keep_alive(true);
    if (verb == http::verb::post) {
      req.body() = body;
      req.prepare_payload();
    }
    for (int attempt = 0;; ++attempt) {
      try {
        if (!connected_) Connect();
        http::write(stream_, req);
        http::response_parser<http::string_body> parser;
        parser.body_limit(std::uint64_t{1} << 34);  // 24 h matrices run to tens of MB
        http::read(stream_, buffer_, parser);
        auto res = parser.release();
        if (!res.keep_alive()) Close();
        return {static_cast<int>(res.result_int()), std::move(res.body())};
      } catch (const std::exception& e) {
        Close();
        if (attempt == 1) return {0, e.what()};
      }
    }
  }

 private:
  void Connect() {
    auto colon = host_port_.rfind(':');
    tcp::resolver resolver(ioc_);
    stream_.connect(resolver.resolve(host_port_.substr(0, colon), host_port_.substr(colon + 1)));
    stream_.socket().set_option(tcp::no_delay(true));
    connected_ = true;
  }
  void Close() {
    beast::error_code ec;
    stream_.socket().close(ec);
    buffer_.clear();
    connected_ = false;
  }

  std::string host_port_;
  boost::asio::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  bool connected_ = false;
};

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
}

struct LoadResult {
  size_t samples = 0;
  size_t requests = 0;
  double body_mb = 0;
  double seconds = 0;
  double encode_cpu_seconds = 0;  // our own share of the wall time: building bodies
  size_t failures = 0;
};

// Sends every round, oldest first, to `host_port`. Connection c owns chunks c, c+C, ...
// and sends each of them round after round, so a series' samples always arrive in time
// order; a barrier every 40 rounds (10 minutes of data) keeps connections within that
// much of each other, well inside Prometheus' head append window (1 h).
LoadResult Load(const Options& opt, const std::string& host_port, int64_t first_ms, int rounds) {
  const int instances = (opt.series + kUnit - 1) / kUnit;
  const int per_chunk = std::max(1, opt.per_request / kUnit);
  const int chunks = (instances + per_chunk - 1) / per_chunk;
  const int conns = std::max(1, std::min(opt.connections, chunks));
  std::barrier sync(conns);
  std::atomic<size_t> samples{0}, requests{0}, bytes{0}, failures{0};
  std::atomic<int64_t> encode_ns{0};
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < conns; ++c) {
    threads.emplace_back([&, c] {
      std::vector<Chunk> mine;
      for (int k = c; k < chunks; k += conns) {
        mine.emplace_back(k, k * per_chunk, std::min(instances, (k + 1) * per_chunk), opt.series);
      }
      Connection conn(host_port);
      const std::vector<std::pair<std::string, std::string>> headers = {
          {"Content-Type", "application/x-protobuf"},
          {"Content-Encoding", "snappy"},
          {"X-Prometheus-Remote-Write-Version", "0.1.0"}};
      double cpu = 0;
      int since_sync = 0;
      for (int r = 0; r < rounds; r += opt.samples_per_series) {
        const int n = std::min(opt.samples_per_series, rounds - r);
        for (Chunk& chunk : mine) {
          double c0 = ThreadCpuSeconds();
          std::string body = chunk.NextBody(first_ms + r * kScrapeMs, n);
          cpu += ThreadCpuSeconds() - c0;
          auto reply = conn.Do(http::verb::post, "/api/v1/write", body, headers);
          if (reply.status / 100 != 2 && failures.fetch_add(1) < 3) {
            std::fprintf(stderr, "  %s remote_write failed: %d %.300s\n", host_port.c_str(),
                         reply.status, reply.body.c_str());
          }
          samples += chunk.series() * n;
          bytes += body.size();
          ++requests;
        }
        since_sync += n;
        if (since_sync >= 40) {
          since_sync = 0;
          sync.arrive_and_wait();
        }
      }
      sync.arrive_and_drop();
      encode_ns += static_cast<int64_t>(cpu * 1e9);
    });
  }
  for (auto& t : threads) t.join();
  LoadResult out;
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  out.samples = samples;
  out.requests = requests;
  out.body_mb = bytes / 1e6;
  out.failures = failures;
  out.encode_cpu_seconds = encode_ns / 1e9;
  return out;
}

// ---------------------------------------------------------------------------------------
// A Prometheus on a free loopback port with an empty scrape config, receiving remote_write.
class PrometheusProcess {
 public:
  PrometheusProcess(const std::string& binary, const std::string& dir) {
    {
      boost::asio::io_context ioc;
      tcp::acceptor probe(ioc, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
      http_ = "127.0.0.1:" + std::to_string(probe.local_endpoint().port());
    }
    const std::string config = dir + "/prometheus.yml";
    std::ofstream(config) << "global:\n  scrape_interval: 15s\nscrape_configs: []\n";
    log_ = dir + "/prometheus.log";
    std::vector<std::string> args = {binary,
                                     "--config.file=" + config,
                                     "--storage.tsdb.path=" + dir + "/data",
                                     "--web.listen-address=" + http_,
                                     "--web.enable-remote-write-receiver",
                                     "--log.level=warn"};
    pid_ = fork();
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      FILE* f = std::fopen(log_.c_str(), "w");
      if (f) {
        dup2(fileno(f), STDOUT_FILENO);
        dup2(fileno(f), STDERR_FILENO);
      }
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(binary.c_str(), argv.data());
      _exit(127);
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        error_ = "prometheus exited: " + Log();
        return;
      }
      if (otelbox::testing::HttpGet(http_, "/-/ready").status == 200) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    error_ = "prometheus not ready within 60 s: " + Log();
  }
  ~PrometheusProcess() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    for (int i = 0; i < 300; ++i) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  const std::string& http() const { return http_; }
  pid_t pid() const { return pid_; }
  std::string Log() const {
    std::ifstream in(log_);
    std::stringstream s;
    s << in.rdbuf();
    std::string text = s.str();
    return text.size() > 2000 ? text.substr(text.size() - 2000) : text;
  }

 private:
  pid_t pid_ = -1;
  std::string http_, log_, error_;
};

long RssBytes(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6)) * 1024;
  }
  return 0;
}

// ---------------------------------------------------------------------------------------
// The dashboard.
struct Call {
  std::string name;   // what the table prints
  std::string query;  // PromQL, or empty for a metadata endpoint
  std::string path;   // metadata endpoint path + fixed parameters
};

struct Window {
  std::string name;  // "1h", "24h", "instant"
  int64_t range_ms;  // 0 for instant
};

// An answer reduced to what two servers must agree on: each series (its labels, sorted)
// or metadata value, with its points (instant vectors: one point).
using Canonical = std::map<std::string, std::vector<std::pair<double, double>>>;

struct Measure {
  double median_ms = -1;
  size_t items = 0;   // series in the result, or values for metadata endpoints
  std::string error;  // non-empty: the answer was not a non-empty success
  Canonical answer;
};

std::string LabelsKey(const json::value& metric) {
  std::map<std::string, std::string> sorted;
  for (auto& [k, v] : metric.as_object()) sorted[std::string(k)] = json::serialize(v);
  std::string key;
  for (auto& [k, v] : sorted) key += k + "=" + v + ",";
  return key;
}

std::pair<double, double> Point(const json::value& pair) {
  return {pair.at(0).to_number<double>(), std::stod(std::string(pair.at(1).as_string()))};
}

Canonical Canonicalize(const json::value& data) {
  Canonical out;
  if (data.is_array()) {  // label values (strings) or series (label sets)
    for (auto& item : data.as_array()) {
      out[item.is_string() ? std::string(item.as_string()) : LabelsKey(item)];
    }
    return out;
  }
  for (auto& series : data.at("result").as_array()) {
    auto& points = out[LabelsKey(series.at("metric"))];
    if (auto* values = series.as_object().if_contains("values")) {
      for (auto& p : values->as_array()) points.push_back(Point(p));
    } else {
      points.push_back(Point(series.at("value")));
    }
  }
  return out;
}

// "same", or what differs first. Values agree within 1e-6 relative: both engines sum in
// float64 but not necessarily in the same order.
std::string Compare(const Canonical& a, const Canonical& b) {
  size_t only_a = 0, only_b = 0, value_diffs = 0;
  std::string example;
  for (auto& [key, points] : a) {
    auto it = b.find(key);
    if (it == b.end()) {
      if (only_a++ == 0 && example.empty()) example = "only otelbox: " + key;
      continue;
    }
    if (points.size() != it->second.size()) {
      if (value_diffs++ == 0 && example.empty()) {
        example = key + " has " + std::to_string(points.size()) + " vs " +
                  std::to_string(it->second.size()) + " points";
      }
      continue;
    }
    for (size_t i = 0; i < points.size(); ++i) {
      auto [ta, va] = points[i];
      auto [tb, vb] = it->second[i];
      bool same = ta == tb && (va == vb || (std::isnan(va) && std::isnan(vb)) ||
                               std::fabs(va - vb) <= 1e-6 * std::max(std::fabs(va), std::fabs(vb)));
      if (!same) {
        if (value_diffs++ == 0 && example.empty()) {
          char buf[128];
          std::snprintf(buf, sizeof buf, " at %.3f: %.17g vs %.17g", ta, va, vb);
          example = key + buf;
        }
        break;
      }
    }
  }
  for (auto& [key, points] : b) {
    if (!a.contains(key) && only_b++ == 0 && example.empty()) example = "only prometheus: " + key;
  }
  if (only_a + only_b + value_diffs == 0) return "same";
  return "DIFFER (" + std::to_string(only_a) + " series only in otelbox, " + std::to_string(only_b) +
         " only in prometheus, " + std::to_string(value_diffs) + " with other values; e.g. " +
         example.substr(0, 200) + ")";
}

std::string Seconds(int64_t ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", ms / 1000.0);
  return buf;
}

// Grafana asks for ~240 points on a typical panel, and never finer than the scrape interval.
int64_t StepMs(int64_t range_ms) { return std::max<int64_t>(kScrapeMs, range_ms / 240); }

struct Request {
  http::verb verb = http::verb::get;
  std::string target, body;
  std::vector<std::pair<std::string, std::string>> headers;
};

Request MakeRequest(const Call& call, const Window& w, int64_t end_ms) {
  const std::string start = Seconds(end_ms - w.range_ms), end = Seconds(end_ms);
  Request r;
  if (!call.query.empty()) {
    // Grafana POSTs its Prometheus queries as a form.
    r.verb = http::verb::post;
    r.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
    r.body = "query=" + otelbox::testing::UrlEncode(call.query);
    if (w.range_ms == 0) {
      r.target = "/api/v1/query";
      r.body += "&time=" + end;
    } else {
      r.target = "/api/v1/query_range";
      r.body += "&start=" + start + "&end=" + end + "&step=" + Seconds(StepMs(w.range_ms));
    }
  } else {
    r.target = call.path + (call.path.find('?') == std::string::npos ? "?" : "&");
    r.target += w.range_ms == 0 ? "start=" + Seconds(end_ms - 3'600'000) + "&end=" + end
                                : "start=" + start + "&end=" + end;
  }
  return r;
}

// One timed call; the first answer (`check`) is validated and kept for the comparison.
void Once(Connection& conn, const Request& req, bool check, Measure* m, std::vector<double>* ms) {
  if (!m->error.empty()) return;
  auto t0 = std::chrono::steady_clock::now();
  auto reply = conn.Do(req.verb, req.target, req.body, req.headers);
  ms->push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  if (!check) return;
  if (reply.status != 200) {
    m->error = "HTTP " + std::to_string(reply.status) + ": " + reply.body.substr(0, 300);
    return;
  }
  boost::system::error_code ec;
  json::value v = json::parse(reply.body, ec);
  if (ec || !v.is_object() || v.as_object().if_contains("status") == nullptr ||
      v.at("status") != "success") {
    m->error = "not a success: " + reply.body.substr(0, 300);
    return;
  }
  const json::value& data = v.at("data");
  if (data.is_array()) {
    m->items = data.as_array().size();
  } else if (data.is_object() && data.as_object().if_contains("result") &&
             data.at("result").is_array()) {
    m->items = data.at("result").as_array().size();
  }
  if (m->items == 0) {
    m->error = "empty result";
    return;
  }
  m->answer = Canonicalize(data);
}

double Median(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

// Runs the call `repeat` times on otelbox and, when given, on Prometheus, alternating
// (and alternating which goes first) so that both see the same load on a shared machine.
void RunBoth(Connection& otelbox, Connection* prometheus, const Call& call, const Window& w,
             int64_t end_ms, int repeat, Measure* o, Measure* p) {
  const Request req = MakeRequest(call, w, end_ms);
  std::vector<double> o_ms, p_ms;
  for (int i = 0; i < repeat; ++i) {
    if (prometheus != nullptr && i % 2 == 1) Once(*prometheus, req, false, p, &p_ms);
    Once(otelbox, req, i == 0, o, &o_ms);
    if (prometheus != nullptr && i % 2 == 0) Once(*prometheus, req, i == 0, p, &p_ms);
  }
  if (o->error.empty()) o->median_ms = Median(o_ms);
  if (prometheus != nullptr && p->error.empty()) p->median_ms = Median(p_ms);
}

std::string Cell(const Measure& m) {
  if (!m.error.empty()) return "FAIL";
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.1f", m.median_ms);
  return buf;
}

void PrintLoad(const char* who, const LoadResult& r, long rss) {
  std::printf("  %-10s %zu samples in %zu requests (%.1f MB bodies) in %.1f s: %.0f samples/s "
              "(bench encode CPU %.1f s), failed requests %zu, RSS after load %.0f MB\n",
              who, r.samples, r.requests, r.body_mb, r.seconds, r.samples / r.seconds,
              r.encode_cpu_seconds, r.failures, rss / 1048576.0);
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--series") opt.series = std::stoi(v);
    else if (k == "--hours") opt.hours = std::stoi(v);
    else if (k == "--repeat") opt.repeat = std::stoi(v);
    else if (k == "--per-request") opt.per_request = std::stoi(v);
    else if (k == "--connections") opt.connections = std::stoi(v);
    else if (k == "--samples-per-series") opt.samples_per_series = std::stoi(v);
    else if (k == "--settle-seconds") opt.settle_seconds = std::stoi(v);
    else if (k == "--hold-seconds") opt.hold_seconds = std::stoi(v);
    else if (k == "--compare-prometheus") opt.prometheus = v;
    else if (k == "--windows") opt.windows = v;
    else { std::fprintf(stderr, "unknown flag %s\n", k.c_str()); return 2; }
  }
  if (argc % 2 == 0) {
    std::fprintf(stderr, "flags take a value: %s\n", argv[argc - 1]);
    return 2;
  }
  if (opt.series < 1 || opt.hours < 1 || opt.repeat < 1 || opt.per_request < 1 ||
      opt.connections < 1 || opt.samples_per_series < 1) {
    std::fprintf(stderr, "sizes must be positive\n");
    return 2;
  }

  // Minute-aligned like Grafana's time picker; the last scrape of each target lands in the
  // 15 s before end_ms.
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch()).count();
  const int64_t end_ms = (now_ms / 60'000) * 60'000;
  const int rounds = opt.hours * 240;
  const int64_t first_ms = end_ms - rounds * kScrapeMs;
  std::printf("promql_bench series=%d hours=%d rounds=%d samples=%lld repeat=%d "
              "per_request=%d connections=%d samples_per_series=%d\n",
              opt.series, opt.hours, rounds, static_cast<long long>(opt.series) * rounds,
              opt.repeat, opt.per_request, opt.connections, opt.samples_per_series);
  std::fflush(stdout);

  otelbox::testing::TempDir otelbox_dir;
  otelbox::testing::OtelboxProcess otelbox({"--data-dir", otelbox_dir.path(), "--log-level", "warn"});
  if (!otelbox.ok()) {
    std::fprintf(stderr, "otelbox did not start: %s\n", otelbox.error().c_str());
    return 1;
  }
  std::printf("load (remote_write, %d keep-alive connections):\n", opt.connections);
  LoadResult otelbox_load = Load(opt, otelbox.http(), first_ms, rounds);
  PrintLoad("otelbox", otelbox_load, otelbox.RssBytes());
  std::fflush(stdout);

  otelbox::testing::TempDir prometheus_dir;
  std::optional<PrometheusProcess> prometheus;
  LoadResult prometheus_load;
  if (!opt.prometheus.empty()) {
    prometheus.emplace(opt.prometheus, prometheus_dir.path());
    if (!prometheus->ok()) {
      std::fprintf(stderr, "%s\n", prometheus->error().c_str());
      return 1;
    }
    prometheus_load = Load(opt, prometheus->http(), first_ms, rounds);
    PrintLoad("prometheus", prometheus_load, RssBytes(prometheus->pid()));
  }
  std::printf("otelbox pid %d http %s", static_cast<int>(otelbox.pid()), otelbox.http().c_str());
  if (prometheus) std::printf("; prometheus pid %d http %s", prometheus->pid(), prometheus->http().c_str());
  std::printf("\n");
  std::fflush(stdout);
  std::this_thread::sleep_for(std::chrono::seconds(opt.settle_seconds));

  const std::vector<Call> calls = {
      {"rate(http_requests_total[5m])", "rate(http_requests_total[5m])", ""},
      {"sum by (job) (rate(http_requests_total[5m]))",
       "sum by (job) (rate(http_requests_total[5m]))", ""},
      {"histogram_quantile(0.99, sum by (le) (rate(..._bucket[5m])))",
       "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))", ""},
      {"topk(5, sum by (instance) (rate(http_requests_total[5m])))",
       "topk(5, sum by (instance) (rate(http_requests_total[5m])))", ""},
      {"max_over_time(rate(http_requests_total[1m])[30m:1m])",
       "max_over_time(rate(http_requests_total[1m])[30m:1m])", ""},
      {"GET /api/v1/label/instance/values", "", "/api/v1/label/instance/values"},
      {"GET /api/v1/series?match[]=up", "", "/api/v1/series?match%5B%5D=up"},
  };
  std::vector<Window> windows;
  for (const Window& w : {Window{"1h", 3'600'000}, Window{"24h", 86'400'000}, Window{"instant", 0}}) {
    if (("," + opt.windows + ",").find("," + w.name + ",") != std::string::npos) windows.push_back(w);
  }

  Connection otelbox_conn(otelbox.http());
  std::optional<Connection> prometheus_conn;
  if (prometheus) prometheus_conn.emplace(prometheus->http());

  std::printf("\nqueries: median of %d (otelbox and prometheus called alternately), end=%s (range steps: 1h→%llds, 24h→%llds; metadata "
              "calls take start/end of the range, the last 1h when instant)\n",
              opt.repeat, Seconds(end_ms).c_str(),
              static_cast<long long>(StepMs(3'600'000) / 1000),
              static_cast<long long>(StepMs(86'400'000) / 1000));
  std::printf("%-62s | %-7s | %17s | %20s | %s\n", "query", "range", "otelbox median ms",
              "prometheus median ms", prometheus ? "series otelbox/prometheus" : "series");
  std::printf("%s\n", std::string(140, '-').c_str());
  std::vector<std::string> failures, differences;
  for (const Call& call : calls) {
    for (const Window& w : windows) {
      Measure o, p;
      RunBoth(otelbox_conn, prometheus_conn ? &*prometheus_conn : nullptr, call, w, end_ms,
              opt.repeat, &o, &p);
      std::string counts = std::to_string(o.items);
      if (prometheus_conn) {
        counts += "/" + std::to_string(p.items);
        if (o.error.empty() && p.error.empty()) {
          std::string verdict = Compare(o.answer, p.answer);
          counts += verdict == "same" ? "  same answer" : "  answers differ";
          if (verdict != "same") differences.push_back(call.name + " [" + w.name + "]: " + verdict);
        }
      }
      std::printf("%-62s | %-7s | %17s | %20s | %s\n", call.name.c_str(), w.name.c_str(),
                  Cell(o).c_str(), prometheus_conn ? Cell(p).c_str() : "-", counts.c_str());
      std::fflush(stdout);
      if (!o.error.empty()) failures.push_back("otelbox " + call.name + " [" + w.name + "]: " + o.error);
      if (!p.error.empty()) failures.push_back("prometheus " + call.name + " [" + w.name + "]: " + p.error);
    }
  }
  std::printf("\notelbox RSS after queries: %.0f MB", otelbox.RssBytes() / 1048576.0);
  if (prometheus) std::printf("; prometheus RSS: %.0f MB", RssBytes(prometheus->pid()) / 1048576.0);
  std::printf("\n");
  // Differences are reported, not failed on: they may be Prometheus 2.x semantics.
  for (auto& d : differences) std::printf("differs from prometheus: %s\n", d.c_str());
  for (auto& f : failures) std::printf("FAILED %s\n", f.c_str());
  const bool load_failed = otelbox_load.failures > 0 || prometheus_load.failures > 0;
  if (load_failed) std::printf("FAILED: some remote_write requests were rejected (see stderr)\n");
  std::fflush(stdout);
  std::this_thread::sleep_for(std::chrono::seconds(opt.hold_seconds));
  otelbox.StopWith(SIGTERM);
  return failures.empty() && !load_failed ? 0 : 1;
}
