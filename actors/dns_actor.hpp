#pragma once
// The DNS actor: MX resolution for delivery, TXT (MTA-STS) and TLSA (DANE) records (dns_actor
// below is its whole protocol).
// Results are cached by TTL (positive and negative), concurrent lookups of one domain share
// one resolution, and all network I/O runs on an Asio io_context (DnsTransport), so the actor
// never blocks.
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/messages.hpp"
#include "core/dns/mx_lookup.hpp"
#include "core/dns/records.hpp"
#include "net/dns_transport.hpp"
#include "core/config/config.hpp"

namespace boost::asio {
class io_context;
}

namespace volley {

struct DnsConfig {
  std::vector<DnsServer> servers;
  std::chrono::milliseconds timeout = Config::Dns::kDefaultTimeout;  // per try
  int attempts = Config::Dns::kDefaultAttempts;                        // passes over `servers`
  dns::LookupLimits limits;                 // CNAME hops, TTL bounds, ...
  std::size_t max_cache_entries = 100000;
  // Ask for authenticated data (AD and DO bits) and mark answers secure only when the resolver
  // set AD: the servers must be a local validating resolver (unbound) on a trusted path. DANE
  // needs it (RFC 7672 §2.1). [dns] dnssec.
  bool dnssec = false;

  // nameserver lines and "options timeout:N attempts:N" as resolv.conf(5) reads them; no
  // usable nameserver (or no file) means 127.0.0.1, as in the C library.
  static DnsConfig from_resolv_conf(const std::string& path = "/etc/resolv.conf");
  // [dns]: its servers, else those of its resolv_conf; its timeout and attempts either way.
  static DnsConfig from_config(const Config::Dns& dns);
};

using dns_actor = caf::typed_actor<
    // The MX hosts of a domain with their addresses, in the order to try them (equal preferences
    // shuffled per answer); its ttl counts down from the cached answer. Never an error: a failed
    // lookup is a resolution with status temp_fail or perm_fail (an invalid name: perm_fail at once).
    caf::replies_to<resolve_atom, std::string>::with<dns::MxResolution>,
    // The TXT records at a name (the _mta-sts record), cached by TTL.
    caf::replies_to<txt_atom, std::string>::with<dns::TxtResolution>,
    // The TLSA records of _<port>._tcp.<host> (DANE), cached by TTL; `secure` only from an
    // authenticated answer with [dns] dnssec on.
    caf::replies_to<tlsa_atom, std::string, std::uint16_t>::with<dns::TlsaResolution>>;

// `io` must run (on some thread) for as long as the actor lives.
dns_actor spawn_dns_actor(caf::actor_system& system, boost::asio::io_context& io,
                           DnsConfig config);

}  // namespace volley
