#pragma once
// Blocking DNS lookups for the doctor: one record set at a time through the configured servers
// (DnsTransport on a private io_context run on the caller's thread, core/dns's RecordLookup
// deciding), each answer kept for the rest of the run. The doctor asks one question after the
// other, and libspf2 wants its answers synchronously; delivery never uses this.
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/dns/record_lookup.hpp"
#include "net/dns_transport.hpp"

namespace volley {

class DoctorResolver {
 public:
  explicit DoctorResolver(DnsTransport::Settings settings, dns::LookupLimits limits = {});
  ~DoctorResolver();
  DoctorResolver(const DoctorResolver&) = delete;
  DoctorResolver& operator=(const DoctorResolver&) = delete;

  // The records of `type` at `name` (CNAMEs followed); a bad name is a perm_fail.
  const dns::RecordResolution& lookup(const std::string& name, dns::RrType type);
  // A and AAAA together; empty when the name has neither.
  std::vector<std::string> addresses(const std::string& name);

  std::size_t lookups() const { return cache_.size(); }

 private:
  std::unique_ptr<boost::asio::io_context> io_;
  std::unique_ptr<DnsTransport> transport_;
  dns::LookupLimits limits_;
  std::mt19937_64 rng_;
  std::map<std::pair<std::string, dns::RrType>, dns::RecordResolution> cache_;
};

}  // namespace volley
