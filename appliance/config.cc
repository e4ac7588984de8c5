#include "appliance/config.h"

#include <boost/program_options.hpp>
#include <charconv>
#include <iostream>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "query/common/duration.h"

namespace otelbox::appliance {
namespace po = boost::program_options;

absl::StatusOr<ListenAddress> ParseListenAddress(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size()) {
    return absl::InvalidArgumentError("invalid listen address \"" + text +
                                      "\": want HOST:PORT (or off)");
  }
  ListenAddress out;
  out.host = text.substr(0, colon);
  if (out.host.size() >= 2 && out.host.front() == '[' && out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  if (out.host.empty()) out.host = "0.0.0.0";
  unsigned port = 0;
  const char* begin = text.data() + colon + 1;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(begin, end, port);
  if (ec != std::errc() || ptr != end || port > 65535) {
    return absl::InvalidArgumentError("invalid port in listen address \"" + text + "\"");
  }
  out.port = static_cast<uint16_t>(port);
  return out;
}

absl::StatusOr<Config> ParseCommandLine(int argc, char** argv, int* exit_code) {
  Config cfg;
  *exit_code = -1;
  std::string http, grpc, otlp_http, retention = "15d", log_level = "info";
  std::string log_retention;  // empty: same as --retention
  std::string trace_retention;  // empty: same as --retention
  std::string query_timeout = "2m";
  std::string query_lookback_delta = "5m";
  std::vector<std::string> features;
  po::options_description desc(
      "otelbox: OpenTelemetry Collector + Prometheus + Loki + Tempo in one binary.\n\n"
      "Usage: otelbox [flags]\n\nFlags");
  // clang-format off
  desc.add_options()
      ("help,h", "Print this help and exit.")
      ("data-dir", po::value(&cfg.data_dir)->default_value(cfg.data_dir),
       "Directory of the RocksDB database (created if missing).")
      ("ephemeral", po::bool_switch(&cfg.ephemeral),
       "Use a fresh temporary data directory, removed at exit (for CI). Overrides --data-dir.")
      ("listen", po::value(&http)->default_value("127.0.0.1:9090"),
       "HOST:PORT of the HTTP port serving every query API (Prometheus, Loki, Tempo), /ready, "
       "/metrics, remote_write, Loki push and the OTLP/HTTP paths. Port 0 picks a free port.")
      ("otlp-grpc-listen", po::value(&grpc)->default_value("127.0.0.1:4317"),
       "HOST:PORT of the OTLP/gRPC receiver, or 'off'. Port 0 picks a free port.")
      ("otlp-http-listen", po::value(&otlp_http)->default_value("127.0.0.1:4318"),
       "HOST:PORT of the OTLP/HTTP receiver (/v1/metrics, ...), or 'off'. Port 0 picks a free port.")
      ("retention", po::value(&retention)->default_value(retention),
       "How long data is kept (Prometheus duration: 15d, 12h, 2w, 1y). Older samples are rejected.")
      ("log-retention", po::value(&log_retention),
       "How long log entries are kept (default: --retention). Older entries are rejected.")
      ("trace-retention", po::value(&trace_retention),
       "How long spans are kept (default: --retention). Older spans are rejected.")
      ("log-level", po::value(&log_level)->default_value(log_level),
       "Log level: debug, info, warn or error.")
      ("wal-sync", po::bool_switch(&cfg.wal_sync),
       "fsync the write-ahead log before acknowledging each write. Without it an acknowledged "
       "write survives a crash of otelbox (kill -9) but not of the machine.")
      ("http-threads", po::value(&cfg.http_threads)->default_value(0),
       "Threads serving HTTP; 0 means one per core.")
      ("max-body-bytes", po::value(&cfg.max_body_bytes)->default_value(cfg.max_body_bytes),
       "Largest accepted request body, before and after decompression (413 above).")
      ("query.timeout", po::value(&query_timeout)->default_value(query_timeout),
       "Longest a PromQL query may run (a request's own `timeout` can only lower it).")
      ("query.max-samples", po::value(&cfg.query_max_samples)->default_value(cfg.query_max_samples),
       "Most samples a PromQL query may hold in memory at once.")
      ("query.lookback-delta", po::value(&query_lookback_delta)->default_value(query_lookback_delta),
       "How far back an instant vector selector looks for the newest sample.")
      ("enable-feature", po::value(&features)->composing(),
       "Comma-separated Prometheus feature flags: promql-experimental-functions (experimental "
       "functions and aggregations such as limitk, limit_ratio, sort_by_label, "
       "mad_over_time, double_exponential_smoothing), promql-delayed-name-removal.");
  // clang-format on
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(desc).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return absl::InvalidArgumentError(std::string(e.what()) + " (see otelbox --help)");
  }
  if (vm.count("help")) {
    std::cout << desc << "\nOnce ready, otelbox prints one line on stdout:\n"
              << "  otelbox ready http=HOST:PORT otlp-grpc=HOST:PORT|off otlp-http=HOST:PORT|off\n";
    *exit_code = 0;
    return cfg;
  }
  auto http_addr = ParseListenAddress(http);
  if (!http_addr.ok()) return http_addr.status();
  cfg.http = *http_addr;
  for (auto [text, slot] : {std::pair{&grpc, &cfg.otlp_grpc}, std::pair{&otlp_http, &cfg.otlp_http}}) {
    if (*text == "off") {
      slot->reset();
      continue;
    }
    auto addr = ParseListenAddress(*text);
    if (!addr.ok()) return addr.status();
    *slot = *addr;
  }
  auto retention_ms = query::ParseDuration(retention);
  if (!retention_ms.ok()) return retention_ms.status();
  if (*retention_ms <= 0) return absl::InvalidArgumentError("--retention must be positive");
  cfg.retention_ms = *retention_ms;
  cfg.log_retention_ms = cfg.retention_ms;
  if (!log_retention.empty()) {
    auto log_retention_ms = query::ParseDuration(log_retention);
    if (!log_retention_ms.ok()) return log_retention_ms.status();
    if (*log_retention_ms <= 0) return absl::InvalidArgumentError("--log-retention must be positive");
    cfg.log_retention_ms = *log_retention_ms;
  }
  cfg.trace_retention_ms = cfg.retention_ms;
  if (!trace_retention.empty()) {
    auto trace_retention_ms = query::ParseDuration(trace_retention);
    if (!trace_retention_ms.ok()) return trace_retention_ms.status();
    if (*trace_retention_ms <= 0) return absl::InvalidArgumentError("--trace-retention must be positive");
    cfg.trace_retention_ms = *trace_retention_ms;
  }
  for (auto [text, slot, name] :
       {std::tuple{&query_timeout, &cfg.query_timeout_ms, "--query.timeout"},
        std::tuple{&query_lookback_delta, &cfg.query_lookback_delta_ms, "--query.lookback-delta"}}) {
    auto ms = query::ParseDuration(*text);
    if (!ms.ok()) return ms.status();
    if (*ms <= 0) return absl::InvalidArgumentError(std::string(name) + " must be positive");
    *slot = *ms;
  }
  if (cfg.query_max_samples <= 0) return absl::InvalidArgumentError("--query.max-samples must be positive");
  for (const std::string& list : features) {
    for (absl::string_view part : absl::StrSplit(list, ',', absl::SkipWhitespace())) {
      std::string feature(absl::StripAsciiWhitespace(part));
      if (feature == "promql-experimental-functions") {
        cfg.promql_experimental_functions = true;
      } else if (feature == "promql-delayed-name-removal") {
        cfg.promql_delayed_name_removal = true;
      } else {
        return absl::InvalidArgumentError(
            "unknown --enable-feature \"" + feature +
            "\": want promql-experimental-functions or promql-delayed-name-removal");
      }
    }
  }
  if (!ParseLogLevel(log_level, &cfg.log_level)) {
    return absl::InvalidArgumentError("invalid --log-level \"" + log_level +
                                      "\": want debug, info, warn or error");
  }
  return cfg;
}

}  // namespace otelbox::appliance
