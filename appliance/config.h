#pragma once
// Command-line configuration of the otelbox binary. Flag names are fixed: scripts and CI
// pipelines call them.

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "common/log.h"

namespace otelbox::appliance {

struct ListenAddress {
  std::string host;
  uint16_t port = 0;  // 0 = pick a free port
};

struct Config {
  std::string data_dir = "./otelbox-data";
  bool ephemeral = false;  // fresh temporary data dir, removed at exit
  ListenAddress http{"127.0.0.1", 9090};
  std::optional<ListenAddress> otlp_grpc = ListenAddress{"127.0.0.1", 4317};  // nullopt = off
  std::optional<ListenAddress> otlp_http = ListenAddress{"127.0.0.1", 4318};
  int64_t retention_ms = 15LL * 24 * 3600 * 1000;
  int64_t log_retention_ms = 15LL * 24 * 3600 * 1000;  // --log-retention, default --retention
  int64_t trace_retention_ms = 15LL * 24 * 3600 * 1000;  // --trace-retention, default --retention
  LogLevel log_level = LogLevel::kInfo;
  bool wal_sync = false;
  int http_threads = 0;  // 0 = one per core
  size_t max_body_bytes = 64 << 20;
  // PromQL, as Prometheus' --query.* flags and --enable-feature=promql-*.
  int64_t query_timeout_ms = 120'000;
  int64_t query_max_samples = 50'000'000;
  int64_t query_lookback_delta_ms = 300'000;
  bool promql_experimental_functions = false;
  bool promql_delayed_name_removal = false;
};

// Parses argv. Returns std::nullopt-like "exit now" through `exit_code` for --help/--version
// (usage already printed); InvalidArgument with a message for bad flags.
absl::StatusOr<Config> ParseCommandLine(int argc, char** argv, int* exit_code);

// "HOST:PORT" or "[v6]:PORT"; the literal "off" is handled by the caller.
absl::StatusOr<ListenAddress> ParseListenAddress(const std::string& text);

}  // namespace otelbox::appliance
