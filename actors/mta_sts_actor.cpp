#include "actors/mta_sts_actor.hpp"

#include <utility>  // before Asio: Boost 1.74 with C++20 needs it

#include <memory>
#include <optional>
#include <unordered_map>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "core/dns/names.hpp"
#include "core/mta_sts/cache_decision.hpp"
#include "core/mta_sts/policy_file.hpp"
#include "core/mta_sts/txt_record.hpp"
#include "net/https_fetch.hpp"
#include "core/util/log_fields.hpp"

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::HttpsResponse)

namespace volley {

namespace {

// Private to this actor: a policy fetch's answer, sent from the io_context.
using sts_fetched_atom = caf::atom_constant<caf::atom("stsfetched")>;

using Clock = mta_sts::Clock;

using mta_sts_actor_impl = mta_sts_actor::extend<
    // The fetch for (domain, serial) ended.
    caf::reacts_to<sts_fetched_atom, std::string, std::uint64_t, HttpsResponse>>;

struct MtaStsState {
  static inline const char* name = "volley.mta_sts";

  struct Entry {
    std::optional<mta_sts::CachedPolicy> cached;
    std::string failed_id;  // the policy id whose fetch failed last, not retried until retry_at
    Clock::time_point retry_at;
    Clock::time_point last_used;
  };
  // One discovery under way for a domain, and everyone waiting for it.
  struct Inflight {
    std::uint64_t serial = 0;
    std::string txt_id;  // the id being fetched
    std::vector<caf::typed_response_promise<tls::StsPolicy>> waiting;
  };

  MtaStsOptions options;
  dns_actor dns;
  std::shared_ptr<HttpsFetcher> fetcher;
  std::unordered_map<std::string, Entry> cache;
  std::unordered_map<std::string, Inflight> inflight;
  std::uint64_t next_serial = 1;
};

using MtaStsActor = mta_sts_actor_impl::stateful_base<MtaStsState>;

ActorTimers::Clock::duration dns_timeout(const MtaStsState& st) { return st.options.fetch_timeout; }

// Room for one more domain: expired entries go first, then the least recently used.
void make_room(MtaStsState& st, Clock::time_point now) {
  if (st.cache.size() < st.options.max_cache_entries) return;
  std::erase_if(st.cache, [&](const auto& kv) {
    return (!kv.second.cached || kv.second.cached->expired(now)) && kv.second.retry_at <= now;
  });
  while (!st.cache.empty() && st.cache.size() >= st.options.max_cache_entries) {
    auto oldest = st.cache.begin();
    for (auto it = st.cache.begin(); it != st.cache.end(); ++it)
      if (it->second.last_used < oldest->second.last_used) oldest = it;
    st.cache.erase(oldest);
  }
}

MtaStsState::Entry* entry_of(MtaStsState& st, const std::string& domain) {
  auto it = st.cache.find(domain);
  return it == st.cache.end() ? nullptr : &it->second;
}

// Answers everyone waiting for `domain` and ends its discovery.
void answer(MtaStsActor* self, const std::string& domain, const tls::StsPolicy& policy) {
  auto it = self->state.inflight.find(domain);
  if (it == self->state.inflight.end()) return;
  for (auto& promise : it->second.waiting) promise.deliver(policy);
  self->state.inflight.erase(it);
}

// The policy in force after `action`; forgets an expired policy.
void settle(MtaStsActor* self, const std::string& domain, mta_sts::Action action) {
  auto* e = entry_of(self->state, domain);
  if (action == mta_sts::Action::use_cached && e && e->cached) return answer(self, domain, e->cached->policy);
  if (e) e->cached.reset();
  answer(self, domain, tls::StsPolicy{});
}

void fetch_failed(MtaStsActor* self, const std::string& domain, const std::string& id, const std::string& why) {
  auto& st = self->state;
  const auto now = Clock::now();
  spdlog::warn("mta_sts: policy not fetched{}", util::log_fields("domain", domain, "id", id, "error", why));
  make_room(st, now);
  auto& e = st.cache[domain];
  e.last_used = now;
  e.failed_id = id;
  e.retry_at = now + st.options.retry_failed_fetch_after;
  settle(self, domain, mta_sts::after_failed_fetch(e.cached, now));
}

void fetch(MtaStsActor* self, const std::string& domain, std::uint64_t serial, std::vector<std::string> addresses) {
  auto& st = self->state;
  HttpsRequest req;
  req.host = "mta-sts." + domain;
  req.port = st.options.port;
  req.target = "/.well-known/mta-sts.txt";
  req.addresses = std::move(addresses);
  req.timeout = st.options.fetch_timeout;
  req.max_body = mta_sts::kMaxPolicyBytes;
  const caf::actor_addr me = self->address();  // weak: a late answer must not keep us alive
  st.fetcher->fetch(std::move(req), [me, domain, serial](HttpsResponse r) {
    if (auto strong = caf::actor_cast<mta_sts_actor_impl>(me))
      caf::anon_send(strong, sts_fetched_atom::value, domain, serial, std::move(r));
  });
}

// The policy host's addresses from the DNS actor (RFC 8461 §3.3 fetches from mta-sts.<domain>).
void resolve_policy_host(MtaStsActor* self, const std::string& domain, std::uint64_t serial) {
  auto& st = self->state;
  const std::string host = "mta-sts." + domain;
  auto still_current = [self, domain, serial] {
    auto it = self->state.inflight.find(domain);
    return it != self->state.inflight.end() && it->second.serial == serial;
  };
  request_within(self, st.options.timers.get(), st.dns, dns_timeout(st), resolve_atom::value, host)
      .then(
          [=](const dns::MxResolution& r) {
            if (!still_current()) return;
            const std::string id = self->state.inflight.at(domain).txt_id;
            if (r.status != dns::Status::ok) return fetch_failed(self, domain, id, host + ": " + r.error);
            // A name with an MX record of its own: its A/AAAA come from the system resolver.
            std::vector<std::string> addresses;
            if (r.implicit_mx && !r.hosts.empty()) addresses = r.hosts.front().addresses;
            fetch(self, domain, serial, std::move(addresses));
          },
          [=](const caf::error& err) {
            if (!still_current()) return;
            fetch_failed(self, domain, self->state.inflight.at(domain).txt_id,
                         host + ": " + self->system().render(err));
          });
}

mta_sts::TxtAnswer txt_answer(const std::string& domain, const dns::TxtResolution& r) {
  using Kind = mta_sts::TxtAnswer::Kind;
  if (r.status == dns::Status::temp_fail) return {Kind::failed, {}};
  if (r.status == dns::Status::perm_fail) return {Kind::no_record, {}};
  std::string why;
  if (auto id = mta_sts::sts_record_id(r.texts, &why)) return {Kind::record, std::move(*id)};
  // Several or malformed records: the domain has no policy on offer (RFC 8461 §3.1).
  if (why != "no v=STSv1 record") spdlog::warn("mta_sts: unusable _mta-sts record{}", util::log_fields("domain", domain, "error", why));
  return {Kind::no_record, {}};
}

void on_txt(MtaStsActor* self, const std::string& domain, std::uint64_t serial, const mta_sts::TxtAnswer& txt) {
  auto& st = self->state;
  auto running = st.inflight.find(domain);
  if (running == st.inflight.end() || running->second.serial != serial) return;
  const auto now = Clock::now();
  auto* e = entry_of(st, domain);
  const std::optional<mta_sts::CachedPolicy> none;
  const auto& cached = e ? e->cached : none;
  auto action = mta_sts::decide(cached, txt, now);
  if (action == mta_sts::Action::fetch && e && e->failed_id == txt.id && now < e->retry_at)
    action = mta_sts::after_failed_fetch(cached, now);  // failed a moment ago: not again yet
  if (action != mta_sts::Action::fetch) return settle(self, domain, action);
  running->second.txt_id = txt.id;
  resolve_policy_host(self, domain, serial);
}

void on_fetched(MtaStsActor* self, const std::string& domain, std::uint64_t serial, HttpsResponse r) {
  auto& st = self->state;
  auto running = st.inflight.find(domain);
  if (running == st.inflight.end() || running->second.serial != serial) return;
  const std::string id = running->second.txt_id;
  if (!r.ok) return fetch_failed(self, domain, id, r.error);
  if (!mta_sts::is_policy_media_type(r.content_type))
    return fetch_failed(self, domain, id, "Content-Type \"" + r.content_type + "\" is not text/plain");
  std::string why;
  auto policy = mta_sts::parse_sts_policy(r.body, id, &why);
  if (!policy) return fetch_failed(self, domain, id, "bad policy: " + why);
  const auto now = Clock::now();
  make_room(st, now);
  auto& e = st.cache[domain];
  e = MtaStsState::Entry{mta_sts::CachedPolicy{*policy, now}, {}, {}, now};
  spdlog::info("mta_sts: policy fetched{}",
               util::log_fields("domain", domain, "mode",
                                policy->mode == tls::StsPolicy::Mode::enforce   ? "enforce"
                                : policy->mode == tls::StsPolicy::Mode::testing ? "testing"
                                                                                : "none",
                                "id", id, "max_age_s", policy->max_age.count(), "mx_patterns", policy->mx.size()));
  answer(self, domain, *policy);
}

caf::result<tls::StsPolicy> policy_of(MtaStsActor* self, const std::string& requested) {
  auto& st = self->state;
  if (!st.options.enabled) return tls::StsPolicy{};
  auto domain = dns::normalize_host_name(requested);
  if (!domain) return tls::StsPolicy{};
  if (auto* e = entry_of(st, *domain)) e->last_used = Clock::now();
  auto promise = self->make_response_promise<tls::StsPolicy>();
  if (auto running = st.inflight.find(*domain); running != st.inflight.end()) {
    running->second.waiting.push_back(promise);  // one discovery serves every asker
    return promise;
  }
  const std::uint64_t serial = st.next_serial++;
  st.inflight[*domain] = MtaStsState::Inflight{serial, {}, {promise}};
  request_within(self, st.options.timers.get(), st.dns, dns_timeout(st), txt_atom::value, "_mta-sts." + *domain)
      .then([self, d = *domain, serial](const dns::TxtResolution& r) { on_txt(self, d, serial, txt_answer(d, r)); },
            [self, d = *domain, serial](const caf::error&) {
              on_txt(self, d, serial, mta_sts::TxtAnswer{mta_sts::TxtAnswer::Kind::failed, {}});
            });
  return promise;
}

mta_sts_actor_impl::behavior_type mta_sts_behavior(MtaStsActor* self, dns_actor dns,
                                                   std::shared_ptr<HttpsFetcher> fetcher, MtaStsOptions options) {
  self->state.dns = std::move(dns);
  self->state.fetcher = std::move(fetcher);
  self->state.options = std::move(options);
  return {
      [=](sts_atom, const std::string& domain) { return policy_of(self, domain); },
      [=](sts_fetched_atom, const std::string& domain, std::uint64_t serial, HttpsResponse& r) {
        on_fetched(self, domain, serial, std::move(r));
      },
  };
}

}  // namespace

mta_sts_actor spawn_mta_sts_actor(caf::actor_system& system, boost::asio::io_context& io, dns_actor dns,
                                  MtaStsOptions options) {
  auto fetcher = std::make_shared<HttpsFetcher>(io, options.ca_file);
  return system.spawn(mta_sts_behavior, std::move(dns), std::move(fetcher), std::move(options));
}

}  // namespace volley
