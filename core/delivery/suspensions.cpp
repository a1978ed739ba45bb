#include "core/delivery/suspensions.hpp"

namespace volley::delivery {

const Suspension* EgressControl::find(QueueScope::Kind kind, const std::string& name, std::int64_t now_ms) const {
  const auto& scopes = kind == QueueScope::Kind::domain ? domains : kind == QueueScope::Kind::pool ? pools : sources;
  auto it = scopes.find(name);
  return it != scopes.end() && it->second.active(now_ms) ? &it->second : nullptr;
}

std::int64_t EgressControl::next_end(std::int64_t now_ms) const {
  std::int64_t first = 0;
  for (const auto* scopes : {&domains, &pools, &sources})
    for (const auto& [name, sus] : *scopes)
      if (sus.until_ms > now_ms && (first == 0 || sus.until_ms < first)) first = sus.until_ms;
  return first;
}

}  // namespace volley::delivery
