// otelbox: one binary that replaces an OpenTelemetry Collector + Prometheus + Loki + Tempo.

#include <signal.h>

#include <iostream>

#include "appliance/appliance.h"
#include "appliance/config.h"
#include "common/log.h"

int main(int argc, char** argv) {
  int exit_code = -1;
  auto config = otelbox::appliance::ParseCommandLine(argc, argv, &exit_code);
  if (!config.ok()) {
    std::cerr << "otelbox: " << config.status().message() << "\n";
    return 2;
  }
  if (exit_code >= 0) return exit_code;
  otelbox::SetLogLevel(config->log_level);

  // Block SIGINT/SIGTERM before any thread starts so every thread inherits the mask and
  // only WaitForSignalAndShutdown() receives them (via sigwait).
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  otelbox::appliance::Appliance appliance(*std::move(config));
  if (auto status = appliance.Start(); !status.ok()) {
    otelbox::LogError("startup failed: " + std::string(status.message()));
    return 1;
  }
  appliance.WaitForSignalAndShutdown();
  return 0;
}
