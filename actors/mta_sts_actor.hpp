#pragma once
// The MTA-STS actor (RFC 8461): for a destination domain, the policy in force. It looks up the
// _mta-sts TXT record through the DNS actor, fetches the policy over HTTPS from
// mta-sts.<domain>/.well-known/mta-sts.txt with the certificate checked, caches it for its
// max_age and refetches when the TXT id changes; a failed refresh keeps the cached policy.
//
// The policy host mta-sts.<domain> is resolved through the DNS actor too (its A/AAAA records,
// asked as an MX lookup that finds none: the implicit MX), so the fetch uses the same resolvers
// as delivery; only when that name has MX records of its own does the system resolver find it.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/actor_timers.hpp"
#include "actors/dns_actor.hpp"
#include "actors/messages.hpp"
#include "core/tls/inputs.hpp"

namespace boost::asio {
class io_context;
}

namespace volley {

using mta_sts_actor = caf::typed_actor<
    // The policy of a domain; mode none when it has none (no _mta-sts record, no policy ever
    // fetched, or MTA-STS turned off). Never an error.
    caf::replies_to<sts_atom, std::string>::with<tls::StsPolicy>>;

struct MtaStsOptions {
  bool enabled = true;                      // false: every domain has mode none, nothing looked up
  std::uint16_t port = 443;                 // the policy host's HTTPS port (another one for tests)
  std::string ca_file;                      // CAs trusted besides the system store ("" : none)
  std::chrono::seconds fetch_timeout{30};   // the policy fetch, and each DNS question before it
  std::size_t max_cache_entries = 10000;    // domains remembered (least recently used go first)
  // After a failed fetch, the same policy id is not fetched again for this long (the cached
  // policy, or none, is used meanwhile), so a broken policy host is not asked at every delivery.
  std::chrono::seconds retry_failed_fetch_after{300};
  // The timeouts of its DNS questions (the delivery actors' timers; null: CAF's clock).
  std::shared_ptr<ActorTimers> timers;
};

// `io` must run (on some thread) for as long as the actor lives; the HTTPS fetches run on it.
// Throws std::runtime_error when options.ca_file cannot be loaded (a start-up error).
mta_sts_actor spawn_mta_sts_actor(caf::actor_system& system, boost::asio::io_context& io, dns_actor dns,
                                  MtaStsOptions options);

}  // namespace volley
