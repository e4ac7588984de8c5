#include "storage/index/day_labels_cache.h"

#include <mutex>

namespace otelbox::storage {

void DayLabelsCache::AddPair(Day* d, std::string_view name, std::string_view value) {
  if (d->state == State::kTooBig) return;
  auto n = d->names.find(name);
  if (n == d->names.end()) n = d->names.emplace(std::string(name), std::set<std::string, std::less<>>()).first;
  if (n->second.contains(value)) return;
  n->second.emplace(value);
  if (++d->pairs > max_pairs_) {
    d->state = State::kTooBig;
    d->names.clear();
  }
}

void DayLabelsCache::Added(std::string_view tenant, const Labels& labels,
                           std::span<const int64_t> days) {
  if (days.empty()) return;
  std::unique_lock lock(mu_);
  if (days_.empty()) return;  // nothing loaded yet (the common case while ingesting)
  for (int64_t day : days) {
    auto it = days_.find(Key(std::string(tenant), day));
    if (it == days_.end()) continue;
    for (const Label& l : labels) AddPair(&it->second, l.name, l.value);
  }
}

bool DayLabelsCache::Read(std::string_view tenant, int64_t day,
                          absl::FunctionRef<void(const NameValues&)> read) const {
  std::shared_lock lock(mu_);
  auto it = days_.find(Key(std::string(tenant), day));
  if (it == days_.end() || it->second.state != State::kLoaded) return false;
  read(it->second.names);
  return true;
}

bool DayLabelsCache::Load(std::string_view tenant, int64_t day,
                          absl::FunctionRef<bool(NameValues*)> scan) {
  const Key key(std::string(tenant), day);
  {
    std::unique_lock lock(mu_);
    if (!days_.try_emplace(key).second) return days_[key].state == State::kLoaded;
  }
  // Registered: writes from now on land in the entry; earlier ones are in the scan.
  NameValues scanned;
  const bool ok = scan(&scanned);
  std::unique_lock lock(mu_);
  auto it = days_.find(key);
  if (it == days_.end()) return false;  // dropped meanwhile (retention)
  if (!ok) {
    days_.erase(it);
    return false;
  }
  Day& d = it->second;
  for (const auto& [name, values] : scanned) {
    for (const std::string& v : values) AddPair(&d, name, v);
  }
  if (d.state == State::kLoading) d.state = State::kLoaded;
  return d.state == State::kLoaded;
}

void DayLabelsCache::DropBefore(int64_t day) {
  std::unique_lock lock(mu_);
  std::erase_if(days_, [&](const auto& entry) { return entry.first.second < day; });
}

}  // namespace otelbox::storage
