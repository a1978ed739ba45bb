#include "core/doctor/host_checks.hpp"

#include <algorithm>

#include "core/util/ascii.hpp"
#include "core/util/join.hpp"

namespace volley::doctor {

namespace {

const std::vector<std::string>& addresses_of(const Addresses& map, const std::string& name) {
  static const std::vector<std::string> none;
  auto it = map.find(name);
  return it == map.end() ? none : it->second;
}

bool resolves_to(const Addresses& map, const std::string& name, std::string_view address) {
  const auto& list = addresses_of(map, name);
  return std::find(list.begin(), list.end(), address) != list.end();
}

using util::joined;

std::string failed_lookup_fix(std::string_view what, const dns::RecordResolution& r) {
  return "the lookup of " + std::string(what) + " failed (" + r.error +
         "): make sure the configured DNS servers answer for it, then run the check again";
}

std::string address_record(std::string_view address) {
  return address.find(':') != std::string_view::npos ? "AAAA" : "A";
}

}  // namespace

Finding check_ptr(std::string_view source, std::string_view address, std::string_view ehlo_in,
                  const dns::RecordResolution& ptr, const Addresses& forward) {
  Finding f;
  f.check = "ptr";
  f.subject = std::string(address) + " (" + std::string(source) + ")";
  const std::string ehlo = util::ascii_lower(ehlo_in);
  f.status = Status::fail;
  if (ptr.status == dns::Status::temp_fail) {
    f.fix = failed_lookup_fix("the PTR of " + std::string(address), ptr);
    return f;
  }
  std::vector<std::string> names;
  if (ptr.status == dns::Status::ok)
    for (const auto& r : ptr.records) names.push_back(r.data);
  f.record = joined(names);
  if (names.empty()) {
    f.fix = "ask whoever holds " + std::string(address) + " (your hosting provider) for a PTR record naming " + ehlo;
    return f;
  }
  std::vector<std::string> confirmed;
  for (const auto& n : names)
    if (resolves_to(forward, n, address)) confirmed.push_back(n);
  if (confirmed.empty()) {
    const std::string& name = std::find(names.begin(), names.end(), ehlo) != names.end() ? ehlo : names.front();
    const auto& seen = addresses_of(forward, name);
    f.record += " -> " + joined(seen, "no address");
    f.fix = "add an " + address_record(address) + " record " + name + " -> " + std::string(address) +
            " so that the PTR is confirmed forward";
    return f;
  }
  if (std::find(confirmed.begin(), confirmed.end(), ehlo) == confirmed.end()) {
    f.status = Status::warn;
    f.fix = "the PTR names " + confirmed.front() + " but the source says EHLO " + ehlo + ": set its ehlo_name to " +
            confirmed.front() + " or change the PTR to " + ehlo;
    return f;
  }
  f.status = Status::ok;
  return f;
}

Finding check_mx(std::string_view domain_in, std::string_view role, std::string_view expected_host,
                 const dns::RecordResolution& mx, const Addresses& hosts) {
  Finding f;
  f.check = "mx";
  const std::string domain(domain_in);
  f.subject = domain + " (" + std::string(role) + ")";
  f.status = Status::fail;
  const std::string publish = "publish an MX record for " + domain + " naming " + std::string(expected_host) +
                              " (Volley's [smtp_in]), so that bounces and reports come back";
  if (mx.status == dns::Status::temp_fail) {
    f.fix = failed_lookup_fix("the MX of " + domain, mx);
    return f;
  }
  if (mx.status != dns::Status::ok || mx.records.empty()) {
    f.fix = publish;
    return f;
  }
  std::vector<std::string> shown, unresolved;
  std::size_t resolved = 0;
  bool null_mx = false;
  for (const auto& r : mx.records) {
    if (r.data.empty()) {
      null_mx = true;
      shown.push_back(std::to_string(r.preference) + " .");
      continue;
    }
    const auto& addresses = addresses_of(hosts, r.data);
    shown.push_back(std::to_string(r.preference) + " " + r.data + " (" +
                    joined(addresses, "no address") + ")");
    if (addresses.empty()) {
      unresolved.push_back(r.data);
    } else {
      ++resolved;
    }
  }
  f.record = joined(shown);
  if (null_mx) {
    f.fix = domain + " publishes a null MX (it takes no mail): replace it; " + publish;
  } else if (resolved == 0) {
    f.fix = "add an A or AAAA record for " + joined(unresolved) + ", the MX host of " + domain;
  } else if (!unresolved.empty()) {
    f.status = Status::warn;
    f.fix = "add an A or AAAA record for " + joined(unresolved) + " or remove it from the MX of " + domain;
  } else {
    f.status = Status::ok;
  }
  return f;
}

Finding check_host(std::string_view host, std::string_view role, const Addresses& addresses) {
  Finding f;
  f.check = "host";
  f.subject = std::string(host) + " (" + std::string(role) + ")";
  const auto& list_of = addresses_of(addresses, std::string(host));
  if (list_of.empty()) {
    f.status = Status::fail;
    f.fix = "add an A or AAAA record for " + std::string(host);
    return f;
  }
  f.record = joined(list_of);
  f.status = Status::ok;
  return f;
}

Finding unbound_source(std::string_view source) {
  Finding f;
  f.check = "source";
  f.subject = std::string(source);
  f.status = Status::warn;
  f.fix = "source " + std::string(source) +
          " binds no address, so its SPF and PTR cannot be checked: set the [[source]] address mail leaves from";
  return f;
}

}  // namespace volley::doctor
