#include "common/self_metrics.h"

#include <charconv>

namespace otelbox {

Counter* SelfMetrics::GetCounter(const std::string& name, const std::string& help,
                                 const std::string& labels) {
  std::lock_guard lock(mu_);
  Family& f = families_[name];
  f.help = help;
  f.type = "counter";
  auto& c = f.counters[labels];
  if (!c) c = std::make_unique<Counter>();
  return c.get();
}

void SelfMetrics::AddGaugeFunc(const std::string& name, const std::string& help,
                               std::function<double()> read) {
  std::lock_guard lock(mu_);
  Family& f = families_[name];
  f.help = help;
  f.type = "gauge";
  f.gauge = std::move(read);
}

std::string SelfMetrics::RenderText() const {
  std::lock_guard lock(mu_);
  std::string out;
  char buf[64];
  for (const auto& [name, f] : families_) {
    out += "# HELP " + name + " " + f.help + "\n# TYPE " + name + " " + f.type + "\n";
    if (f.gauge) {
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, f.gauge());
      out += name + " " + std::string(buf, end) + "\n";
      continue;
    }
    for (const auto& [labels, c] : f.counters) {
      out += name;
      if (!labels.empty()) out += "{" + labels + "}";
      out += " " + std::to_string(c->value()) + "\n";
    }
  }
  return out;
}

}  // namespace otelbox
