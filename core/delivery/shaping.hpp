#pragma once
// How hard one destination may be fed, in layers: the defaults, then the rule of the provider
// whose MX hosts the domain uses, then the domain's own rule, then rules for the source address
// sending (for all destinations, then for the provider, then for the domain). Each layer sets
// only the fields it names; the rest come from the layers below.
//
// Domains whose MX hosts all belong to one provider share that provider's name as their rollup
// key (gmail.com and googlemail.com both become "google"), so one queue can pace the provider
// as a whole; any other domain is its own key.
#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/delivery/backoff.hpp"
#include "core/delivery/rate.hpp"
#include "core/delivery/retry.hpp"
#include "core/tls/inputs.hpp"

namespace volley::delivery {

struct Limits {
  std::size_t max_connections = 8;
  Rate max_connection_rate;  // new connections; unlimited by default
  Rate max_message_rate;     // unlimited by default
  std::size_t max_messages_per_connection = 1000;
  std::size_t max_recipients_per_transaction = 100;  // RFC 5321 §4.5.3.1.8: servers take at least 100
  std::chrono::seconds idle_timeout{10};
  RetryPolicy retry;
  BackoffPolicy backoff;
  tls::Mode tls = tls::Mode::opportunistic;  // how connections are protected (core/tls/policy.hpp)
  friend bool operator==(const Limits&, const Limits&) = default;
};

// One layer: the fields it sets.
struct LimitsOverride {
  std::optional<std::size_t> max_connections;
  std::optional<Rate> max_connection_rate;
  std::optional<Rate> max_message_rate;
  std::optional<std::size_t> max_messages_per_connection;
  std::optional<std::size_t> max_recipients_per_transaction;
  std::optional<std::chrono::seconds> idle_timeout;
  std::optional<std::chrono::seconds> retry_first;
  std::optional<std::chrono::seconds> retry_max_interval;
  std::optional<std::chrono::seconds> max_age;
  std::optional<std::vector<std::chrono::seconds>> greylist_retry;
  std::optional<std::chrono::seconds> rate_limit_cooldown;
  std::optional<std::chrono::seconds> rate_limit_recovery_step;
  std::optional<tls::Mode> tls;

  void apply_to(Limits& limits) const;
  friend bool operator==(const LimitsOverride&, const LimitsOverride&) = default;
};

struct ProviderRule {
  std::string name;
  // A host matches ".google.com" (or "google.com") when it is google.com or ends in .google.com.
  std::vector<std::string> mx_suffixes;
  LimitsOverride limits;
  friend bool operator==(const ProviderRule&, const ProviderRule&) = default;
};

struct DomainRule {
  std::string domain;  // exactly this domain, not its subdomains
  LimitsOverride limits;
  friend bool operator==(const DomainRule&, const DomainRule&) = default;
};

struct SourceRule {
  std::string source;
  std::string provider;  // at most one of provider and domain; neither: every destination
  std::string domain;
  LimitsOverride limits;
  friend bool operator==(const SourceRule&, const SourceRule&) = default;
};

struct ShapingPolicy {
  Limits defaults;
  std::vector<ProviderRule> providers;  // the first whose suffixes match every MX host applies
  std::vector<DomainRule> domains;
  std::vector<SourceRule> sources;
  friend bool operator==(const ShapingPolicy&, const ShapingPolicy&) = default;
};

struct Shaping {
  Limits limits;
  std::string rollup_key;  // the provider's name, or the domain
  std::string provider;    // empty when no provider rule matched
};

// The limits for mail to domain through MX hosts mx_hosts sent from source (empty: the
// destination's own limits, without any source rule). Names compare case-insensitively and
// without a trailing dot; a domain with no MX hosts (e.g. a static route) matches no provider.
Shaping resolve_shaping(const ShapingPolicy& policy, std::string_view domain, std::span<const std::string> mx_hosts,
                        std::string_view source);

}  // namespace volley::delivery
