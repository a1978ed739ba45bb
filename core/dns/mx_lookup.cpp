#include "core/dns/mx_lookup.hpp"

#include <algorithm>
#include <unordered_map>

#include "core/dns/names.hpp"

namespace volley::dns {

namespace {

std::uint32_t clamp_ttl(std::uint32_t ttl, std::uint32_t lo, std::uint32_t hi) {
  return std::clamp(ttl, lo, std::max(lo, hi));
}

void add_unique(std::vector<std::string>& to, const std::string& value, std::size_t cap) {
  if (to.size() < cap && std::find(to.begin(), to.end(), value) == to.end()) to.push_back(value);
}

}  // namespace

void shuffle_equal_preferences(std::vector<MxHost>& hosts, std::mt19937_64& rng) {
  auto run = hosts.begin();
  while (run != hosts.end()) {
    auto end = std::find_if(run, hosts.end(),
                            [&](const MxHost& h) { return h.preference != run->preference; });
    std::shuffle(run, end, rng);
    run = end;
  }
}

MxLookup::MxLookup(std::string_view domain, std::uint64_t seed, LookupLimits limits)
    : limits_(limits), rng_(seed) {
  if (auto normal = normalize_host_name(domain)) {
    domain_ = std::move(*normal);
    valid_domain_ = true;
  } else {
    domain_ = std::string(domain);
  }
}

std::vector<Query> MxLookup::start() {
  std::vector<Query> out;
  if (done_ || queries_sent_ > 0) return out;
  if (!valid_domain_) {
    finish_perm("invalid domain name", limits_.negative_min_ttl);
    return out;
  }
  issue(out, domain_, RrType::mx, Purpose::mx, 0, 0);
  return out;
}

bool MxLookup::issue(std::vector<Query>& out, std::string name, RrType type, Purpose purpose,
                     std::size_t host, int cname_hops) {
  if (queries_sent_ >= limits_.max_queries) return false;
  std::uniform_int_distribution<std::uint16_t> pick;
  std::uint16_t id = 0;
  do {
    id = pick(rng_);
  } while (std::any_of(pending_.begin(), pending_.end(),
                       [&](const Pending& p) { return p.query.id == id; }));
  auto wire = encode_query(id, name, type, limits_.edns0, limits_.dnssec);
  if (!wire) return false;
  ++queries_sent_;
  Pending p{Query{id, std::move(name), type, std::move(*wire)}, purpose, host, cname_hops};
  out.push_back(p.query);
  pending_.push_back(std::move(p));
  return true;
}

MxLookup::Advance MxLookup::on_response(std::span<const std::uint8_t> wire) {
  Advance adv;
  if (done_) return adv;
  auto response = decode_response(wire);
  if (!response) return adv;
  auto it = std::find_if(pending_.begin(), pending_.end(), [&](const Pending& p) {
    return answers_query(*response, p.query.id, p.query.name, p.query.type);
  });
  if (it == pending_.end()) return adv;
  Pending p = std::move(*it);
  pending_.erase(it);
  adv.accepted = true;
  adv.queries =
      p.purpose == Purpose::mx ? on_mx_answer(p, *response) : on_address_answer(p, *response);
  return adv;
}

std::vector<Query> MxLookup::on_timeout(std::uint16_t id) {
  if (done_) return {};
  auto it = std::find_if(pending_.begin(), pending_.end(),
                         [&](const Pending& p) { return p.query.id == id; });
  if (it == pending_.end()) return {};
  const Pending p = std::move(*it);
  pending_.erase(it);
  if (p.purpose == Purpose::mx) {
    finish_temp("timeout");
    return {};
  }
  hosts_[p.host].temp_failed = true;
  finish_if_idle();
  return {};
}

std::optional<std::string> MxLookup::follow_cnames(const Response& r, std::string name, int& hops,
                                                   std::uint32_t& ttl) const {
  for (;;) {
    auto cname = std::find_if(r.answers.begin(), r.answers.end(), [&](const Record& rec) {
      return rec.type == RrType::cname && rec.name == name;
    });
    if (cname == r.answers.end()) return name;
    if (++hops > limits_.max_cname_hops || cname->data.empty()) return std::nullopt;
    ttl = std::min(ttl, cname->ttl);
    name = cname->data;
  }
}

std::uint32_t MxLookup::negative_ttl(const Response& r) const {
  return clamp_ttl(r.negative_ttl.value_or(limits_.negative_min_ttl), limits_.negative_min_ttl,
                   limits_.negative_max_ttl);
}

std::vector<Query> MxLookup::on_mx_answer(const Pending& p, const Response& r) {
  std::vector<Query> out;
  mx_secure_ = mx_secure_ && r.authenticated;
  if (r.truncated) {
    finish_temp("truncated response");
    return out;
  }
  if (r.rcode == rcode::nxdomain) {
    finish_perm("NXDOMAIN", negative_ttl(r));
    return out;
  }
  if (r.rcode != rcode::noerror) {
    finish_temp(rcode_name(r.rcode));
    return out;
  }
  int hops = p.cname_hops;
  std::uint32_t chain_ttl = UINT32_MAX;
  auto owner = follow_cnames(r, p.query.name, hops, chain_ttl);
  if (!owner) {
    finish_temp("CNAME chain too long");
    return out;
  }
  mx_ttl_ = std::min(mx_ttl_, chain_ttl);

  std::vector<const Record*> mx;
  for (const Record& rec : r.answers) {
    if (rec.type == RrType::mx && rec.name == *owner) mx.push_back(&rec);
  }
  if (mx.empty()) {
    if (*owner != p.query.name) {
      // The server stopped at an alias without chasing it (or the target has no MX): ask the
      // target itself, so a NODATA there is told apart from a half-followed chain.
      if (!issue(out, *owner, RrType::mx, Purpose::mx, 0, hops)) finish_temp("too many queries");
      return out;
    }
    // NODATA: the domain itself is the implicit MX (RFC 5321 §5.1).
    implicit_ = true;
    if (r.negative_ttl) mx_ttl_ = std::min(mx_ttl_, *r.negative_ttl);
    hosts_.emplace_back().host = MxHost{domain_, 0, {}};
    return query_addresses(nullptr);
  }

  for (const Record* rec : mx) mx_ttl_ = std::min(mx_ttl_, rec->ttl);
  // RFC 7505: "." as the only exchange says the domain takes no mail. Mixed with real hosts
  // (a misconfiguration the RFC forbids) it is just an unusable host.
  if (std::all_of(mx.begin(), mx.end(), [](const Record* rec) { return rec->data.empty(); })) {
    finish_perm("null MX", clamp_ttl(mx_ttl_, limits_.min_ttl, limits_.max_ttl));
    return out;
  }
  std::vector<MxHost> hosts;
  std::unordered_map<std::string_view, std::size_t> index;  // a host listed twice keeps its best
  for (const Record* rec : mx) {
    if (rec->data.empty()) continue;
    auto [at, fresh] = index.emplace(rec->data, hosts.size());
    if (fresh) {
      hosts.push_back(MxHost{rec->data, rec->preference, {}});
    } else {
      hosts[at->second].preference = std::min(hosts[at->second].preference, rec->preference);
    }
  }
  std::stable_sort(hosts.begin(), hosts.end(),
                   [](const MxHost& a, const MxHost& b) { return a.preference < b.preference; });
  shuffle_equal_preferences(hosts, rng_);
  if (hosts.size() > limits_.max_mx_hosts) hosts.resize(limits_.max_mx_hosts);
  for (auto& h : hosts) hosts_.emplace_back().host = std::move(h);
  return query_addresses(&r);
}

std::vector<Query> MxLookup::query_addresses(const Response* with_additional) {
  std::vector<Query> out;
  for (std::size_t i = 0; i < hosts_.size(); ++i) {
    HostState& h = hosts_[i];
    if (with_additional != nullptr) {
      for (const Record& rec : with_additional->additional) {
        if (rec.name != h.host.name) continue;
        if (rec.type == RrType::a) {
          add_unique(h.v4, rec.data, limits_.max_addresses_per_host);
        } else if (rec.type == RrType::aaaa) {
          add_unique(h.v6, rec.data, limits_.max_addresses_per_host);
        } else {
          continue;
        }
        h.ttl = std::min(h.ttl, rec.ttl);
      }
      if (!h.v4.empty() || !h.v6.empty()) continue;
    }
    // An exchange that is no valid host name (escaped bytes, too long) has no address; that
    // is the zone's fault, not a temporary one.
    if (!normalize_host_name(h.host.name)) continue;
    for (RrType type : {RrType::a, RrType::aaaa}) {
      if (!issue(out, h.host.name, type, Purpose::address, i, 0)) h.temp_failed = true;
    }
  }
  finish_if_idle();
  return out;
}

std::vector<Query> MxLookup::on_address_answer(const Pending& p, const Response& r) {
  std::vector<Query> out;
  HostState& h = hosts_[p.host];
  if (r.truncated || (r.rcode != rcode::noerror && r.rcode != rcode::nxdomain)) {
    h.temp_failed = true;
  } else if (r.rcode == rcode::nxdomain) {
    no_address_ttl_ = std::min(no_address_ttl_, negative_ttl(r));
  } else {
    int hops = p.cname_hops;
    std::uint32_t chain_ttl = UINT32_MAX;
    auto owner = follow_cnames(r, p.query.name, hops, chain_ttl);
    if (!owner) {
      h.temp_failed = true;
    } else {
      bool found = false;
      for (const Record& rec : r.answers) {
        if (rec.type != p.query.type || rec.name != *owner) continue;
        add_unique(p.query.type == RrType::a ? h.v4 : h.v6, rec.data,
                   limits_.max_addresses_per_host);
        h.ttl = std::min({h.ttl, chain_ttl, rec.ttl});
        found = true;
      }
      if (!found && *owner != p.query.name) {
        h.ttl = std::min(h.ttl, chain_ttl);
        if (!issue(out, *owner, p.query.type, Purpose::address, p.host, hops)) {
          h.temp_failed = true;
        }
      } else if (!found) {
        no_address_ttl_ = std::min(no_address_ttl_, negative_ttl(r));
      }
    }
  }
  finish_if_idle();
  return out;
}

void MxLookup::finish_if_idle() {
  if (done_ || !pending_.empty()) return;
  MxResolution res;
  std::uint32_t ttl = mx_ttl_;
  for (HostState& h : hosts_) {
    if (h.v4.empty() && h.v6.empty()) continue;
    MxHost host = std::move(h.host);
    host.addresses = std::move(h.v4);
    host.addresses.insert(host.addresses.end(), h.v6.begin(), h.v6.end());
    res.hosts.push_back(std::move(host));
    ttl = std::min(ttl, h.ttl);
  }
  const bool any_temp =
      std::any_of(hosts_.begin(), hosts_.end(), [](const HostState& h) { return h.temp_failed; });
  if (!res.hosts.empty()) {
    res.status = Status::ok;
    res.implicit_mx = implicit_;
    res.secure = limits_.dnssec && mx_secure_;
    res.ttl = clamp_ttl(ttl, limits_.min_ttl, limits_.max_ttl);
    result_ = std::move(res);
    done_ = true;
  } else if (implicit_ && !any_temp) {
    finish_perm(
        "no MX and no A/AAAA",
        clamp_ttl(no_address_ttl_ == UINT32_MAX ? limits_.negative_min_ttl : no_address_ttl_,
                  limits_.negative_min_ttl, limits_.negative_max_ttl));
  } else if (implicit_) {
    finish_temp("no MX, and the domain's address lookups failed");
  } else {
    // Mail waits rather than bounces: an MX host without an address is usually being fixed.
    finish_temp(any_temp ? "address lookups of every MX host failed"
                         : "no address for any MX host");
  }
}

void MxLookup::finish_temp(std::string why) {
  done_ = true;
  pending_.clear();
  result_ = MxResolution{};
  result_.status = Status::temp_fail;
  result_.error = std::move(why);
  result_.ttl = limits_.temp_fail_ttl;
}

void MxLookup::finish_perm(std::string why, std::uint32_t ttl) {
  done_ = true;
  pending_.clear();
  result_ = MxResolution{};
  result_.status = Status::perm_fail;
  result_.error = std::move(why);
  result_.ttl = ttl;
  // An authenticated NXDOMAIN or null MX; perm_fail before any response (a bad name) is not.
  result_.secure = limits_.dnssec && mx_secure_ && queries_sent_ > 0;
}

}  // namespace volley::dns
