#include "core/delivery/shaping.hpp"
#include "core/util/ascii.hpp"

#include <algorithm>
#include <cctype>

namespace volley::delivery {
namespace {

std::string canonical(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return util::ascii_lower(name);
}

// On a label boundary, so ".google.com" matches mx.google.com but not evilgoogle.com.
bool has_suffix(std::string_view host, std::string_view suffix) {
  suffix = suffix.substr(suffix.starts_with('.') ? 1 : 0);
  if (host.size() == suffix.size()) return host == suffix;
  return host.size() > suffix.size() && host.ends_with(suffix) && host[host.size() - suffix.size() - 1] == '.';
}

const ProviderRule* matching_provider(const ShapingPolicy& policy, std::span<const std::string> mx_hosts) {
  if (mx_hosts.empty()) return nullptr;
  for (const auto& provider : policy.providers) {
    auto covered = [&](const std::string& host) {
      const auto name = canonical(host);
      return std::any_of(provider.mx_suffixes.begin(), provider.mx_suffixes.end(),
                         [&](const std::string& suffix) { return has_suffix(name, canonical(suffix)); });
    };
    if (std::all_of(mx_hosts.begin(), mx_hosts.end(), covered)) return &provider;
  }
  return nullptr;
}

template <typename T>
void set(const std::optional<T>& layer, T& field) {
  if (layer) field = *layer;
}

}  // namespace

void LimitsOverride::apply_to(Limits& limits) const {
  set(max_connections, limits.max_connections);
  set(max_connection_rate, limits.max_connection_rate);
  set(max_message_rate, limits.max_message_rate);
  set(max_messages_per_connection, limits.max_messages_per_connection);
  set(max_recipients_per_transaction, limits.max_recipients_per_transaction);
  set(idle_timeout, limits.idle_timeout);
  set(retry_first, limits.retry.first);
  set(retry_max_interval, limits.retry.max_interval);
  set(max_age, limits.retry.max_age);
  set(greylist_retry, limits.retry.greylist);
  set(rate_limit_cooldown, limits.backoff.cooldown);
  set(rate_limit_recovery_step, limits.backoff.recovery_step);
  set(tls, limits.tls);
}

Shaping resolve_shaping(const ShapingPolicy& policy, std::string_view domain, std::span<const std::string> mx_hosts,
                        std::string_view source) {
  const auto name = canonical(domain);
  Shaping out{policy.defaults, name, {}};
  if (const auto* provider = matching_provider(policy, mx_hosts)) {
    provider->limits.apply_to(out.limits);
    out.rollup_key = out.provider = provider->name;
  }
  for (const auto& rule : policy.domains) {
    if (canonical(rule.domain) == name) rule.limits.apply_to(out.limits);
  }
  if (source.empty()) return out;
  // From the widest source rules to the narrowest, so the most specific one has the last word.
  auto source_layer = [&](auto applies) {
    for (const auto& rule : policy.sources) {
      if (rule.source == source && applies(rule)) rule.limits.apply_to(out.limits);
    }
  };
  source_layer([](const SourceRule& r) { return r.provider.empty() && r.domain.empty(); });
  source_layer([&](const SourceRule& r) { return !r.provider.empty() && r.provider == out.provider; });
  source_layer([&](const SourceRule& r) { return !r.domain.empty() && canonical(r.domain) == name; });
  return out;
}

}  // namespace volley::delivery
