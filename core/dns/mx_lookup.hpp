#pragma once
// Where does mail for a domain go: a sans-IO state machine from a domain name to an
// MxResolution (RFC 5321 §5.1, RFC 7505, RFC 2308). It says which queries to send and is fed the
// responses (or the news that a query got none); a transport does the sending.
//
//   MxLookup lookup("example.com", seed);
//   send(lookup.start());
//   on datagram: send(lookup.on_response(bytes).queries);
//   on a query given up: send(lookup.on_timeout(id));
//   when lookup.done(): use lookup.result().
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "core/dns/mx.hpp"
#include "core/dns/wire.hpp"

namespace volley::dns {

struct Query {
  std::uint16_t id = 0;
  std::string name;  // normal form (names.hpp)
  RrType type = RrType::mx;
  std::vector<std::uint8_t> wire;
};

struct LookupLimits {
  int max_cname_hops = 8;                   // per chain; a longer chain (or a loop) is a temp_fail
  std::size_t max_mx_hosts = 10;            // MX hosts kept, best preference first
  std::size_t max_addresses_per_host = 16;  // per family
  std::size_t max_queries = 64;             // per lookup, all kinds together
  std::uint32_t min_ttl = 30;               // clamp of a positive answer's TTL
  std::uint32_t max_ttl = 3600;
  std::uint32_t negative_min_ttl = 60;  // clamp of NXDOMAIN / no-address answers
  std::uint32_t negative_max_ttl = 300;
  std::uint32_t temp_fail_ttl = 30;  // a temp_fail is remembered this long
  bool edns0 = true;
  // Ask for authenticated data (wire.hpp's encode_query) and report answers as secure only when
  // the resolver set the AD bit: [dns] dnssec, for DANE.
  bool dnssec = false;
};

class MxLookup {
 public:
  MxLookup(std::string_view domain, std::uint64_t seed, LookupLimits limits = {});

  // The first queries to send (none if the domain is not a valid name: then done()).
  std::vector<Query> start();

  struct Advance {
    bool accepted = false;       // false: not an answer to a pending query (garbage, spoofed)
    std::vector<Query> queries;  // to send next
  };
  Advance on_response(std::span<const std::uint8_t> wire);
  // The query `id` got no usable answer from any server.
  std::vector<Query> on_timeout(std::uint16_t id);

  bool done() const { return done_; }
  const MxResolution& result() const { return result_; }
  const std::string& domain() const { return domain_; }
  std::size_t pending_queries() const { return pending_.size(); }

 private:
  enum class Purpose { mx, address };
  struct Pending {
    Query query;
    Purpose purpose = Purpose::mx;
    std::size_t host = 0;  // index into hosts_ for address queries
    int cname_hops = 0;
  };
  struct HostState {
    MxHost host;
    std::vector<std::string> v4, v6;  // joined v4 first when done, whatever order they came in
    std::uint32_t ttl = UINT32_MAX;
    bool temp_failed = false;
  };

  std::vector<Query> on_mx_answer(const Pending& p, const Response& r);
  std::vector<Query> on_address_answer(const Pending& p, const Response& r);
  // A and AAAA queries for hosts that `with_additional`'s additional section gives no address.
  std::vector<Query> query_addresses(const Response* with_additional);
  // Follows CNAMEs in `r`'s answers from `name`: the name reached, or nullopt past the limit.
  std::optional<std::string> follow_cnames(const Response& r, std::string name, int& hops,
                                           std::uint32_t& ttl) const;
  bool issue(std::vector<Query>& out, std::string name, RrType type, Purpose purpose,
             std::size_t host, int cname_hops);
  void finish_if_idle();  // once no address query is pending, the result
  void finish_temp(std::string why);
  void finish_perm(std::string why, std::uint32_t ttl);
  std::uint32_t negative_ttl(const Response& r) const;

  std::string domain_;
  bool valid_domain_ = false;
  LookupLimits limits_;
  std::mt19937_64 rng_;
  std::vector<Pending> pending_;
  std::vector<HostState> hosts_;
  bool implicit_ = false;
  std::uint32_t mx_ttl_ = UINT32_MAX;          // TTLs on the way to the host list
  std::uint32_t no_address_ttl_ = UINT32_MAX;  // negative TTLs of empty address answers
  bool mx_secure_ = true;  // every MX response so far (the CNAME chain included) had AD set
  std::size_t queries_sent_ = 0;
  bool done_ = false;
  MxResolution result_;
};

// Shuffles runs of equal preference in a list sorted by preference (fresh order per use).
void shuffle_equal_preferences(std::vector<MxHost>& hosts, std::mt19937_64& rng);

}  // namespace volley::dns
