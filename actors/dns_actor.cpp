#include "actors/dns_actor.hpp"

#include <utility>  // before Asio: Boost 1.74 with C++20 needs it

#include <functional>
#include <random>
#include <unordered_map>

#include <caf/all.hpp>

#include "actors/messages.hpp"
#include "core/dns/names.hpp"
#include "core/dns/record_lookup.hpp"

namespace volley {

namespace {

// Private to this actor: how the transport's answers come back to it.
using dns_reply_atom = caf::atom_constant<caf::atom("dnsreply")>;
using dns_timeout_atom = caf::atom_constant<caf::atom("dnstimeout")>;

using Clock = std::chrono::steady_clock;
using Bytes = std::vector<std::uint8_t>;

// The public protocol and the transport's answers, which only the actor sends itself.
using dns_actor_impl = dns_actor::extend<
    // An answer to query `id` (by wire id) of lookup `serial`.
    caf::reacts_to<dns_reply_atom, std::uint64_t, std::uint16_t, Bytes>,
    // Query `id` of lookup `serial` got no answer from any server in time.
    caf::reacts_to<dns_timeout_atom, std::uint64_t, std::uint16_t>>;

struct DnsActorState {
  static inline const char* name = "volley.dns";

  template <class Resolution>
  struct Cached {
    Resolution resolution;
    Clock::time_point expires;
  };
  // A resolution under way, and everyone waiting for it.
  struct Inflight {
    dns::MxLookup lookup;
    std::vector<caf::typed_response_promise<dns::MxResolution>> waiting;
  };
  // A TXT or TLSA lookup under way; each waiting requester turns the answer into its own type.
  struct RecordInflight {
    dns::RecordLookup lookup;
    std::string key;
    std::vector<std::function<void(const dns::RecordResolution&)>> waiting;
  };

  std::shared_ptr<DnsTransport> transport;
  DnsConfig config;
  std::mt19937_64 rng{std::random_device{}()};
  std::unordered_map<std::string, Cached<dns::MxResolution>> cache;
  std::unordered_map<std::uint64_t, Inflight> inflight;      // by serial
  std::unordered_map<std::string, std::uint64_t> by_domain;  // domain -> serial
  // TXT and TLSA, keyed "TXT name" / "TLSA name"; serials shared with the MX lookups.
  std::unordered_map<std::string, Cached<dns::RecordResolution>> record_cache;
  std::unordered_map<std::uint64_t, RecordInflight> record_inflight;  // by serial
  std::unordered_map<std::string, std::uint64_t> by_record;           // key -> serial
  std::uint64_t next_serial = 1;
};

using DnsActor = dns_actor_impl::stateful_base<DnsActorState>;

std::uint32_t seconds_left(Clock::time_point expires, Clock::time_point now) {
  const auto left = std::chrono::ceil<std::chrono::seconds>(expires - now).count();
  return static_cast<std::uint32_t>(std::max<std::int64_t>(left, 0));
}

// A copy for one requester: TTL counted down, equal preferences in a fresh order.
dns::MxResolution hand_out(DnsActorState& st, const dns::MxResolution& r, Clock::time_point expires,
                           Clock::time_point now) {
  dns::MxResolution out = r;
  out.ttl = seconds_left(expires, now);
  dns::shuffle_equal_preferences(out.hosts, st.rng);
  return out;
}

template <class Resolution>
void remember(const DnsConfig& config,
              std::unordered_map<std::string, DnsActorState::Cached<Resolution>>& cache,
              const std::string& key, const Resolution& r, Clock::time_point now) {
  if (r.ttl == 0 || config.max_cache_entries == 0) return;
  if (cache.size() >= config.max_cache_entries) {
    std::erase_if(cache, [&](const auto& kv) { return kv.second.expires <= now; });
    if (cache.size() >= config.max_cache_entries) cache.erase(cache.begin());
  }
  cache[key] = DnsActorState::Cached<Resolution>{r, now + std::chrono::seconds(r.ttl)};
}

void send_queries(DnsActor* self, std::uint64_t serial, std::vector<dns::Query> queries) {
  const caf::actor_addr me = self->address();  // weak: a late reply must not keep us alive
  for (auto& q : queries) {
    const std::uint16_t id = q.id;
    self->state.transport->exchange(std::move(q), [me, serial, id](std::optional<Bytes> reply) {
      auto strong = caf::actor_cast<dns_actor_impl>(me);
      if (!strong) return;
      if (reply) {
        caf::anon_send(strong, dns_reply_atom::value, serial, id, std::move(*reply));
      } else {
        caf::anon_send(strong, dns_timeout_atom::value, serial, id);
      }
    });
  }
}

// After the lookup moved on: send what it asks for, or answer everyone once it is done.
void advance(DnsActor* self, std::uint64_t serial, std::vector<dns::Query> queries) {
  auto& st = self->state;
  auto it = st.inflight.find(serial);
  if (it == st.inflight.end()) return;
  send_queries(self, serial, std::move(queries));
  if (!it->second.lookup.done()) return;
  const auto now = Clock::now();
  const dns::MxResolution& result = it->second.lookup.result();
  const std::string domain = it->second.lookup.domain();
  remember(st.config, st.cache, domain, result, now);
  const auto expires = now + std::chrono::seconds(result.ttl);
  for (auto& promise : it->second.waiting) promise.deliver(hand_out(st, result, expires, now));
  st.inflight.erase(it);
  st.by_domain.erase(domain);
}

caf::result<dns::MxResolution> resolve(DnsActor* self, const std::string& requested) {
  auto& st = self->state;
  auto domain = dns::normalize_host_name(requested);
  if (!domain) {
    dns::MxResolution bad;
    bad.status = dns::Status::perm_fail;
    bad.error = "invalid domain name";
    bad.ttl = st.config.limits.negative_min_ttl;
    return bad;
  }
  const auto now = Clock::now();
  if (auto hit = st.cache.find(*domain); hit != st.cache.end()) {
    if (hit->second.expires > now)
      return hand_out(st, hit->second.resolution, hit->second.expires, now);
    st.cache.erase(hit);
  }
  auto promise = self->make_response_promise<dns::MxResolution>();
  if (auto running = st.by_domain.find(*domain); running != st.by_domain.end()) {
    st.inflight.at(running->second).waiting.push_back(promise);
    return promise;
  }
  const std::uint64_t serial = st.next_serial++;
  auto [it, _] = st.inflight.emplace(
      serial, DnsActorState::Inflight{dns::MxLookup(*domain, st.rng(), st.config.limits), {}});
  it->second.waiting.push_back(promise);
  st.by_domain.emplace(*domain, serial);
  advance(self, serial, it->second.lookup.start());
  return promise;
}

void advance_records(DnsActor* self, std::uint64_t serial, std::vector<dns::Query> queries) {
  auto& st = self->state;
  auto it = st.record_inflight.find(serial);
  if (it == st.record_inflight.end()) return;
  send_queries(self, serial, std::move(queries));
  if (!it->second.lookup.done()) return;
  const dns::RecordResolution& result = it->second.lookup.result();
  remember(st.config, st.record_cache, it->second.key, result, Clock::now());
  for (auto& deliver : it->second.waiting) deliver(result);
  st.by_record.erase(it->second.key);
  st.record_inflight.erase(it);
}

// The records of `type` at `requested`, as `convert` makes them; cached and shared like resolve.
template <class Resolution>
caf::result<Resolution> lookup_records(DnsActor* self, dns::RrType type,
                                       const std::string& requested,
                                       Resolution (*convert)(const dns::RecordResolution&)) {
  auto& st = self->state;
  auto name = dns::normalize_host_name(requested);
  if (!name) {
    dns::RecordResolution bad;
    bad.status = dns::Status::perm_fail;
    bad.error = "invalid domain name";
    bad.ttl = st.config.limits.negative_min_ttl;
    return convert(bad);
  }
  std::string key = std::string(dns::to_string(type)) + ' ' + *name;
  const auto now = Clock::now();
  if (auto hit = st.record_cache.find(key); hit != st.record_cache.end()) {
    if (hit->second.expires > now) {
      dns::RecordResolution copy = hit->second.resolution;
      copy.ttl = seconds_left(hit->second.expires, now);
      return convert(copy);
    }
    st.record_cache.erase(hit);
  }
  auto promise = self->make_response_promise<Resolution>();
  auto deliver = [promise, convert](const dns::RecordResolution& r) mutable {
    promise.deliver(convert(r));
  };
  if (auto running = st.by_record.find(key); running != st.by_record.end()) {
    st.record_inflight.at(running->second).waiting.push_back(std::move(deliver));
    return promise;
  }
  const std::uint64_t serial = st.next_serial++;
  auto [it, _] = st.record_inflight.emplace(
      serial, DnsActorState::RecordInflight{
                  dns::RecordLookup(*name, type, st.rng(), st.config.limits), key, {}});
  it->second.waiting.push_back(std::move(deliver));
  st.by_record.emplace(std::move(key), serial);
  advance_records(self, serial, it->second.lookup.start());
  return promise;
}

dns_actor_impl::behavior_type dns_behavior(DnsActor* self, std::shared_ptr<DnsTransport> transport, DnsConfig config) {
  self->state.transport = std::move(transport);
  self->state.config = std::move(config);
  return {
      [=](resolve_atom, const std::string& domain) { return resolve(self, domain); },
      [=](txt_atom, const std::string& name) {
        return lookup_records<dns::TxtResolution>(self, dns::RrType::txt, name, dns::to_txt);
      },
      [=](tlsa_atom, const std::string& host, std::uint16_t port) {
        return lookup_records<dns::TlsaResolution>(self, dns::RrType::tlsa,
                                                   dns::tlsa_name(host, port), dns::to_tlsa);
      },
      [=](dns_reply_atom, std::uint64_t serial, std::uint16_t id, const Bytes& wire) {
        // The transport checked id and question already; should the lookup still refuse the
        // bytes, the query counts as unanswered rather than pending forever.
        if (auto it = self->state.inflight.find(serial); it != self->state.inflight.end()) {
          auto step = it->second.lookup.on_response(wire);
          advance(self, serial,
                  step.accepted ? std::move(step.queries) : it->second.lookup.on_timeout(id));
        } else if (auto rec = self->state.record_inflight.find(serial);
                   rec != self->state.record_inflight.end()) {
          auto step = rec->second.lookup.on_response(wire);
          advance_records(self, serial,
                          step.accepted ? std::move(step.queries)
                                        : rec->second.lookup.on_timeout(id));
        }
      },
      [=](dns_timeout_atom, std::uint64_t serial, std::uint16_t id) {
        if (auto it = self->state.inflight.find(serial); it != self->state.inflight.end()) {
          advance(self, serial, it->second.lookup.on_timeout(id));
        } else if (auto rec = self->state.record_inflight.find(serial);
                   rec != self->state.record_inflight.end()) {
          advance_records(self, serial, rec->second.lookup.on_timeout(id));
        }
      },
  };
}

}  // namespace

dns_actor spawn_dns_actor(caf::actor_system& system, boost::asio::io_context& io,
                          DnsConfig config) {
  config.limits.dnssec = config.dnssec;
  auto transport = std::make_shared<DnsTransport>(
      io, DnsTransport::Settings{config.servers, config.timeout, config.attempts});
  return system.spawn(dns_behavior, std::move(transport), std::move(config));
}

}  // namespace volley
