#include "appliance/appliance.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/service_type.h>
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <cstdio>

#include "common/log.h"
#include "ingest/logs_ingest.h"
#include "ingest/metrics_ingest.h"
#include "ingest/traces_ingest.h"
#include "query/logql/engine.h"
#include "query/promql/engine.h"
#include "query/traceql/engine.h"
#include "storage/db.h"
#include "storage/logs/log_store.h"
#include "storage/metrics/metric_store.h"
#include "storage/traces/trace_store.h"
#include "web/http_server.h"
#include "web/ingest_routes.h"
#include "web/loki_api.h"
#include "web/loki_push_routes.h"
#include "web/ops_routes.h"
#include "web/prometheus_api.h"
#include "web/router.h"
#include "web/tempo_api.h"
#include "web/tempo_ingest_routes.h"

namespace otelbox::appliance {
namespace {

int64_t WallClockMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string HostPort(const std::string& host, uint16_t port) {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

// Retention is enforced hourly; the store also hides expired data from reads at once.
constexpr auto kHousekeepingInterval = std::chrono::hours(1);

}  // namespace

Appliance::Appliance(Config config) : config_(std::move(config)) {}

Appliance::~Appliance() {
  Shutdown();
  if (remove_data_dir_at_exit_) {
    std::error_code ec;
    std::filesystem::remove_all(data_dir_, ec);
  }
}

absl::Status Appliance::OpenStorage() {
  if (config_.ephemeral) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "otelbox-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) {
      return absl::InternalError("cannot create a temporary data directory in " + tmpl);
    }
    data_dir_ = tmpl;
    remove_data_dir_at_exit_ = true;
  } else {
    data_dir_ = config_.data_dir;
  }
  storage::DatabaseOptions db_options;
  db_options.now_ms = WallClockMs;
  db_options.metric_retention_ms = config_.retention_ms;
  db_options.log_retention_ms = config_.log_retention_ms;
  db_options.trace_retention_ms = config_.trace_retention_ms;
  auto db = storage::Database::Open(data_dir_.string(), db_options);
  if (!db.ok()) return db.status();
  db_ = *std::move(db);

  storage::MetricStoreOptions store_options;
  store_options.retention_ms = config_.retention_ms;
  store_options.now_ms = WallClockMs;
  store_options.sync_wal = config_.wal_sync;
  auto store = storage::MetricStore::Open(db_.get(), store_options, &self_metrics_);
  if (!store.ok()) return store.status();
  metric_store_ = *std::move(store);

  storage::LogStoreOptions log_options;
  log_options.retention_ms = config_.log_retention_ms;
  log_options.now_ms = WallClockMs;
  log_options.sync_wal = config_.wal_sync;
  auto log_store = storage::LogStore::Open(db_.get(), log_options, &self_metrics_);
  if (!log_store.ok()) return log_store.status();
  log_store_ = *std::move(log_store);

  storage::TraceStoreOptions trace_options;
  trace_options.retention_ms = config_.trace_retention_ms;
  trace_options.now_ms = WallClockMs;
  trace_options.sync_wal = config_.wal_sync;
  auto trace_store = storage::TraceStore::Open(db_.get(), trace_options, &self_metrics_);
  if (!trace_store.ok()) return trace_store.status();
  trace_store_ = *std::move(trace_store);
  return absl::OkStatus();
}

absl::Status Appliance::StartGrpc(std::string* bound) {
  if (!config_.otlp_grpc) {
    *bound = "off";
    return absl::OkStatus();
  }
  grpc_metrics_service_ = metrics_ingest_->MakeGrpcService();
  grpc::ServerBuilder builder;
  int selected_port = 0;
  builder.AddListeningPort(HostPort(config_.otlp_grpc->host, config_.otlp_grpc->port),
                           grpc::InsecureServerCredentials(), &selected_port);
  builder.SetMaxReceiveMessageSize(static_cast<int>(config_.max_body_bytes));
  // gRPC binds with SO_REUSEPORT by default: a second otelbox would then share the port
  // silently instead of failing to start.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.RegisterService(grpc_metrics_service_.get());
  grpc_logs_service_ = logs_ingest_->MakeGrpcService();
  builder.RegisterService(grpc_logs_service_.get());
  grpc_traces_service_ = traces_ingest_->MakeGrpcService();
  builder.RegisterService(grpc_traces_service_.get());
  grpc_server_ = builder.BuildAndStart();
  if (!grpc_server_ || selected_port == 0) {
    return absl::UnavailableError("cannot listen for OTLP/gRPC on " +
                                  HostPort(config_.otlp_grpc->host, config_.otlp_grpc->port));
  }
  *bound = HostPort(config_.otlp_grpc->host, static_cast<uint16_t>(selected_port));
  return absl::OkStatus();
}

absl::Status Appliance::Start() {
  if (auto s = OpenStorage(); !s.ok()) return s;

  ingest::IngestLimits limits;
  limits.max_body_bytes = config_.max_body_bytes;
  metrics_ingest_ = std::make_unique<ingest::MetricsIngest>(metric_store_.get(), &self_metrics_, limits);
  query::promql::EngineOptions promql_options;
  promql_options.timeout_ms = config_.query_timeout_ms;
  promql_options.max_samples = config_.query_max_samples;
  promql_options.lookback_delta_ms = config_.query_lookback_delta_ms;
  promql_options.enable_experimental = config_.promql_experimental_functions;
  promql_options.enable_delayed_name_removal = config_.promql_delayed_name_removal;
  promql_engine_ = std::make_unique<query::promql::Engine>(metric_store_.get(), promql_options);

  router_ = std::make_unique<web::Router>();
  web::BuildInfo build_info;
  prometheus_api_ = std::make_unique<web::PrometheusApi>(metric_store_.get(), promql_engine_.get(),
                                                         build_info, WallClockMs, promql_options);
  prometheus_api_->Register(router_.get());
  web::RegisterIngestRoutes(router_.get(), metrics_ingest_.get());
  traces_ingest_ = std::make_unique<ingest::TracesIngest>(trace_store_.get(), &self_metrics_, limits);
  web::RegisterTraceIngestRoutes(router_.get(), traces_ingest_.get());
  traceql_engine_ = std::make_unique<query::traceql::Engine>(trace_store_.get());
  tempo_api_ = std::make_unique<web::TempoApi>(trace_store_.get(), traceql_engine_.get(),
                                               web::TempoBuildInfo{}, WallClockMs);
  tempo_api_->Register(router_.get());
  logs_ingest_ = std::make_unique<ingest::LogsIngest>(log_store_.get(), &self_metrics_, limits);
  web::RegisterLogIngestRoutes(router_.get(), logs_ingest_.get());
  logql_engine_ = std::make_unique<query::logql::Engine>(log_store_.get());
  loki_api_ = std::make_unique<web::LokiApi>(log_store_.get(), logql_engine_.get(),
                                             log_store_.get(), nullptr);
  loki_api_->Register(router_.get());
  web::RegisterOpsRoutes(router_.get(), [this] { return ready_.load(); }, &self_metrics_);

  web::ServerLimits server_limits;
  server_limits.body_limit_bytes = config_.max_body_bytes + 1024;
  http_server_ = std::make_unique<web::HttpServer>(io_context_, router_.get(), server_limits,
                                                   &self_metrics_);
  http_server_->HandleWebSocket("/loki/api/v1/tail", loki_api_->TailRoute());
  auto http_ep = http_server_->Listen(config_.http.host, config_.http.port);
  if (!http_ep.ok()) return http_ep.status();
  std::string otlp_http = "off";
  if (config_.otlp_http) {
    auto ep = http_server_->Listen(config_.otlp_http->host, config_.otlp_http->port);
    if (!ep.ok()) return ep.status();
    otlp_http = HostPort(config_.otlp_http->host, ep->port());
  }
  std::string otlp_grpc;
  if (auto s = StartGrpc(&otlp_grpc); !s.ok()) return s;

  int threads = config_.http_threads > 0 ? config_.http_threads
                                         : static_cast<int>(std::thread::hardware_concurrency());
  if (threads < 2) threads = 2;
  for (int i = 0; i < threads; ++i) {
    io_threads_.emplace_back([this] { io_context_.run(); });
  }
  housekeeping_thread_ = std::thread([this] { HousekeepingLoop(); });

  self_metrics_.AddGaugeFunc("otelbox_ready", "1 once otelbox serves requests.",
                             [this] { return ready_.load() ? 1.0 : 0.0; });
  ready_ = true;
  LogInfo("data dir " + data_dir_.string());
  std::printf("otelbox ready http=%s otlp-grpc=%s otlp-http=%s\n",
              HostPort(config_.http.host, http_ep->port()).c_str(), otlp_grpc.c_str(),
              otlp_http.c_str());
  std::fflush(stdout);
  return absl::OkStatus();
}

void Appliance::WaitForSignalAndShutdown() {
  // main() blocked these signals in every thread; wait for them synchronously so that no
  // handler runs on an io thread that shutdown has to join.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
  LogInfo(std::string("received ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") + ", shutting down");
  Shutdown();
}

void Appliance::HousekeepingLoop() {
  std::unique_lock lock(housekeeping_mu_);
  while (!housekeeping_cv_.wait_for(lock, kHousekeepingInterval, [this] { return stopping_; })) {
    lock.unlock();
    metric_store_->EnforceRetention();
    log_store_->EnforceRetention();
    trace_store_->EnforceRetention();
    lock.lock();
  }
}

void Appliance::Shutdown() {
  {
    std::lock_guard lock(housekeeping_mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  housekeeping_cv_.notify_all();
  ready_ = false;
  if (http_server_) http_server_->Stop();
  if (grpc_server_) grpc_server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(10));
  // Connections finish their in-flight request first; whatever is left after that (or
  // after 15 s) is abandoned with the io_context.
  if (http_server_ && !http_server_->WaitForConnections(std::chrono::seconds(15))) {
    LogWarn("in-flight requests did not finish in 15s; closing them");
  }
  io_context_.stop();
  for (auto& t : io_threads_) t.join();
  if (housekeeping_thread_.joinable()) housekeeping_thread_.join();
  grpc_server_.reset();
  log_store_.reset();
  trace_store_.reset();
  metric_store_.reset();
  if (db_) {
    if (auto s = db_->Close(); !s.ok()) LogError("closing RocksDB: " + std::string(s.message()));
  }
  db_.reset();
  LogInfo("shutdown complete");
}

}  // namespace otelbox::appliance
