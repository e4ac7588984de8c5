#pragma once
// Builds, owns, starts and stops every part of otelbox (DESIGN.md: no global state; every
// part is an object made here and handed what it needs).

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "absl/status/status.h"
#include "appliance/config.h"
#include "common/self_metrics.h"

namespace grpc {
class Server;
class Service;
}  // namespace grpc

namespace otelbox::storage {
class Database;
class MetricStore;
class LogStore;
class TraceStore;
}  // namespace otelbox::storage
namespace otelbox::ingest {
class TracesIngest;
}
namespace otelbox::query::traceql {
class Engine;
}
namespace otelbox::web {
class TempoApi;
}
namespace otelbox::ingest {
class MetricsIngest;
class LogsIngest;
}
namespace otelbox::query::logql {
class Engine;
}
namespace otelbox::web {
class LokiApi;
}
namespace otelbox::query::promql {
class Engine;
}
namespace otelbox::web {
class Router;
class HttpServer;
class PrometheusApi;
}  // namespace otelbox::web

namespace otelbox::appliance {

class Appliance {
 public:
  explicit Appliance(Config config);
  ~Appliance();

  // Opens storage, starts every listener and prints the ready line on stdout.
  absl::Status Start();
  // Blocks until SIGINT or SIGTERM, then shuts down gracefully: listeners stop accepting,
  // in-flight requests finish, RocksDB is closed cleanly.
  void WaitForSignalAndShutdown();

 private:
  absl::Status OpenStorage();
  absl::Status StartGrpc(std::string* bound);
  void Shutdown();
  void HousekeepingLoop();

  Config config_;
  std::filesystem::path data_dir_;
  bool remove_data_dir_at_exit_ = false;
  std::atomic<bool> ready_{false};

  SelfMetrics self_metrics_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<storage::MetricStore> metric_store_;
  // LogAppender + LogQuerier + LogTailer for the Loki API and log ingest.
  std::unique_ptr<storage::LogStore> log_store_;
  // Logs: Loki push + OTLP logs ingest, LogQL, the Loki API (incl. live tail).
  std::unique_ptr<ingest::LogsIngest> logs_ingest_;
  std::unique_ptr<query::logql::Engine> logql_engine_;
  std::unique_ptr<web::LokiApi> loki_api_;
  std::unique_ptr<grpc::Service> grpc_logs_service_;
  std::unique_ptr<ingest::MetricsIngest> metrics_ingest_;
  std::unique_ptr<query::promql::Engine> promql_engine_;
  std::unique_ptr<web::Router> router_;
  std::unique_ptr<web::PrometheusApi> prometheus_api_;

  boost::asio::io_context io_context_;
  std::unique_ptr<web::HttpServer> http_server_;
  std::vector<std::thread> io_threads_;

  std::unique_ptr<grpc::Service> grpc_metrics_service_;
  // Traces: SpanAppender + TraceQuerier, OTLP/Zipkin ingest, TraceQL, the Tempo API.
  std::unique_ptr<storage::TraceStore> trace_store_;
  std::unique_ptr<ingest::TracesIngest> traces_ingest_;
  std::unique_ptr<query::traceql::Engine> traceql_engine_;
  std::unique_ptr<web::TempoApi> tempo_api_;
  std::unique_ptr<grpc::Service> grpc_traces_service_;
  std::unique_ptr<grpc::Server> grpc_server_;

  std::mutex housekeeping_mu_;
  std::condition_variable housekeeping_cv_;
  bool stopping_ = false;
  std::thread housekeeping_thread_;
};

}  // namespace otelbox::appliance
