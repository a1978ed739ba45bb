#include "core/dns/record_lookup.hpp"

#include <algorithm>

#include "core/dns/names.hpp"

namespace volley::dns {

namespace {

std::uint32_t clamp_ttl(std::uint32_t ttl, std::uint32_t lo, std::uint32_t hi) {
  return std::clamp(ttl, lo, std::max(lo, hi));
}

// A TxtResolution or TlsaResolution with r's status, security, error and TTL, no records yet.
template <class Resolution>
Resolution outcome_of(const RecordResolution& r) {
  Resolution out;
  out.status = r.status;
  out.secure = r.secure;
  out.error = r.error;
  out.ttl = r.ttl;
  return out;
}

}  // namespace

RecordLookup::RecordLookup(std::string_view name, RrType type, std::uint64_t seed,
                           LookupLimits limits)
    : type_(type), limits_(limits), rng_(seed) {
  if (auto normal = normalize_host_name(name)) {
    name_ = std::move(*normal);
    valid_name_ = true;
  } else {
    name_ = std::string(name);
  }
}

std::vector<Query> RecordLookup::start() {
  if (done_ || queries_sent_ > 0) return {};
  if (!valid_name_) {
    finish(Status::perm_fail, "invalid domain name", limits_.negative_min_ttl);
    return {};
  }
  return issue(name_);
}

std::vector<Query> RecordLookup::issue(std::string name) {
  if (queries_sent_ >= limits_.max_queries) {
    finish(Status::temp_fail, "too many queries", limits_.temp_fail_ttl);
    return {};
  }
  const std::uint16_t id = std::uniform_int_distribution<std::uint16_t>{}(rng_);
  auto wire = encode_query(id, name, type_, limits_.edns0, limits_.dnssec);
  if (!wire) {
    // A CNAME target that is no valid host name: the zone's fault, nothing to retry.
    finish(Status::perm_fail, "invalid CNAME target", limits_.negative_min_ttl);
    return {};
  }
  ++queries_sent_;
  pending_ = Query{id, std::move(name), type_, std::move(*wire)};
  return {*pending_};
}

MxLookup::Advance RecordLookup::on_response(std::span<const std::uint8_t> wire) {
  MxLookup::Advance adv;
  if (done_ || !pending_) return adv;
  auto r = decode_response(wire);
  if (!r || !answers_query(*r, pending_->id, pending_->name, type_)) return adv;
  const std::string asked = std::move(pending_->name);
  pending_.reset();
  adv.accepted = true;
  secure_ = secure_ && r->authenticated;
  const std::uint32_t negative =
      clamp_ttl(r->negative_ttl.value_or(limits_.negative_min_ttl), limits_.negative_min_ttl,
                limits_.negative_max_ttl);
  if (r->truncated) {
    finish(Status::temp_fail, "truncated response", limits_.temp_fail_ttl);
    return adv;
  }
  if (r->rcode == rcode::nxdomain) {
    finish(Status::perm_fail, "NXDOMAIN", negative);
    return adv;
  }
  if (r->rcode != rcode::noerror) {
    finish(Status::temp_fail, rcode_name(r->rcode), limits_.temp_fail_ttl);
    return adv;
  }
  std::string owner = asked;
  for (;;) {
    auto cname = std::find_if(r->answers.begin(), r->answers.end(), [&](const Record& rec) {
      return rec.type == RrType::cname && rec.name == owner;
    });
    if (cname == r->answers.end()) break;
    if (++cname_hops_ > limits_.max_cname_hops || cname->data.empty()) {
      finish(Status::temp_fail, "CNAME chain too long", limits_.temp_fail_ttl);
      return adv;
    }
    chain_ttl_ = std::min(chain_ttl_, cname->ttl);
    owner = cname->data;
  }
  RecordResolution res;
  std::uint32_t ttl = chain_ttl_;
  for (const Record& rec : r->answers) {
    if (rec.type != type_ || rec.name != owner) continue;
    ttl = std::min(ttl, rec.ttl);
    res.records.push_back(rec);
  }
  if (!res.records.empty()) {
    res.status = Status::ok;
    res.secure = limits_.dnssec && secure_;
    res.ttl = clamp_ttl(ttl, limits_.min_ttl, limits_.max_ttl);
    result_ = std::move(res);
    done_ = true;
    return adv;
  }
  if (owner != asked) {
    // The server stopped at an alias without chasing it: ask the target itself.
    adv.queries = issue(std::move(owner));
    return adv;
  }
  finish(Status::perm_fail, std::string("no ") + to_string(type_) + " record", negative);
  return adv;
}

std::vector<Query> RecordLookup::on_timeout(std::uint16_t id) {
  if (done_ || !pending_ || pending_->id != id) return {};
  pending_.reset();
  finish(Status::temp_fail, "timeout", limits_.temp_fail_ttl);
  return {};
}

void RecordLookup::finish(Status status, std::string error, std::uint32_t ttl) {
  done_ = true;
  pending_.reset();
  result_ = RecordResolution{};
  result_.status = status;
  result_.error = std::move(error);
  result_.ttl = ttl;
  // An authenticated denial (NXDOMAIN, NODATA) is secure too: DANE then knows there is no TLSA.
  result_.secure =
      status == Status::perm_fail && limits_.dnssec && secure_ && queries_sent_ > 0;
}

std::string tlsa_name(std::string_view host, std::uint16_t port) {
  return "_" + std::to_string(port) + "._tcp." + std::string(host);
}

TxtResolution to_txt(const RecordResolution& r) {
  auto out = outcome_of<TxtResolution>(r);
  for (const Record& rec : r.records) out.texts.push_back(rec.data);
  return out;
}

TlsaResolution to_tlsa(const RecordResolution& r) {
  auto out = outcome_of<TlsaResolution>(r);
  for (const Record& rec : r.records) {
    out.records.push_back(tls::Tlsa{rec.usage, rec.selector, rec.mtype, rec.data});
  }
  return out;
}

}  // namespace volley::dns
