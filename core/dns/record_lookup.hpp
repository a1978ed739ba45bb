#pragma once
// The records of one type at one name (TXT for MTA-STS, TLSA for DANE): a sans-IO lookup in the
// style of MxLookup. One query at a time; CNAMEs are followed within an answer and, when the
// server stopped at an alias, by asking the alias's target. TTLs are clamped as LookupLimits say.
//
//   RecordLookup lookup("_mta-sts.example.com", RrType::txt, seed, limits);
//   send(lookup.start());
//   on datagram: send(lookup.on_response(bytes).queries);
//   on a query given up: send(lookup.on_timeout(id));
//   when lookup.done(): to_txt(lookup.result()).
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/dns/mx_lookup.hpp"
#include "core/dns/records.hpp"
#include "core/dns/wire.hpp"

namespace volley::dns {

struct RecordResolution {
  Status status = Status::temp_fail;  // ok: at least one record; perm_fail: NXDOMAIN or none
  std::vector<Record> records;        // of the type asked, at the end of the CNAME chain
  // Every response used (the CNAME chain's included) had the AD bit, with limits.dnssec on.
  bool secure = false;
  std::string error;
  std::uint32_t ttl = 0;
};

class RecordLookup {
 public:
  RecordLookup(std::string_view name, RrType type, std::uint64_t seed, LookupLimits limits = {});

  // The query to send (none if the name is not a valid host name: then done(), perm_fail).
  std::vector<Query> start();
  MxLookup::Advance on_response(std::span<const std::uint8_t> wire);
  // The query `id` got no usable answer from any server: a temp_fail.
  std::vector<Query> on_timeout(std::uint16_t id);

  bool done() const { return done_; }
  const RecordResolution& result() const { return result_; }
  const std::string& name() const { return name_; }
  RrType type() const { return type_; }

 private:
  std::vector<Query> issue(std::string name);
  void finish(Status status, std::string error, std::uint32_t ttl);

  std::string name_;
  bool valid_name_ = false;
  RrType type_;
  LookupLimits limits_;
  std::mt19937_64 rng_;
  std::optional<Query> pending_;
  int cname_hops_ = 0;
  std::uint32_t chain_ttl_ = UINT32_MAX;
  bool secure_ = true;
  std::size_t queries_sent_ = 0;
  bool done_ = false;
  RecordResolution result_;
};

// "_25._tcp.mx.example.com": where the TLSA records of a TCP service live (RFC 6698 §3).
std::string tlsa_name(std::string_view host, std::uint16_t port);

TxtResolution to_txt(const RecordResolution& r);
TlsaResolution to_tlsa(const RecordResolution& r);

}  // namespace volley::dns
