// The doctor's decisions on host records: PTR/FCrDNS, MX, names that must resolve.
#include "core/doctor/host_checks.hpp"

#include <catch2/catch.hpp>

using namespace volley;
using namespace volley::doctor;

namespace {

dns::RecordResolution records(dns::RrType type, std::vector<std::pair<std::uint16_t, std::string>> items) {
  dns::RecordResolution r;
  r.status = items.empty() ? dns::Status::perm_fail : dns::Status::ok;
  for (auto& [pref, data] : items) r.records.push_back(dns::Record{"x", type, 60, pref, data});
  return r;
}

}  // namespace

TEST_CASE("PTR: present, confirmed forward and equal to the EHLO name", "[doctor][ptr]") {
  const auto ptr = records(dns::RrType::ptr, {{0, "mail.good.test"}});
  const Addresses good{{"mail.good.test", {"192.0.2.10"}}};
  auto ok = check_ptr("s1", "192.0.2.10", "Mail.Good.Test", ptr, good);
  CHECK(ok.status == Status::ok);
  CHECK(ok.subject == "192.0.2.10 (s1)");
  CHECK(ok.record == "mail.good.test");

  auto other_ehlo = check_ptr("s1", "192.0.2.10", "smtp.good.test", ptr, good);
  CHECK(other_ehlo.status == Status::warn);
  CHECK(other_ehlo.fix.find("set its ehlo_name to mail.good.test") != std::string::npos);

  auto not_back = check_ptr("s2", "192.0.2.11", "mail.good.test", ptr, good);
  CHECK(not_back.status == Status::fail);
  CHECK(not_back.record == "mail.good.test -> 192.0.2.10");
  CHECK(not_back.fix == "add an A record mail.good.test -> 192.0.2.11 so that the PTR is confirmed forward");

  auto none = check_ptr("s3", "198.51.100.7", "mail.good.test", records(dns::RrType::ptr, {}), {});
  CHECK(none.status == Status::fail);
  CHECK(none.fix.find("PTR record naming mail.good.test") != std::string::npos);
}

TEST_CASE("MX: exists and its hosts resolve", "[doctor][mx]") {
  const auto mx = records(dns::RrType::mx, {{10, "mx.good.test"}, {20, "mx2.good.test"}});
  auto ok = check_mx("bounces.good.test", "return path", "mx.good.test", mx,
                     {{"mx.good.test", {"127.0.0.1"}}, {"mx2.good.test", {"::1"}}});
  CHECK(ok.status == Status::ok);
  CHECK(ok.record == "10 mx.good.test (127.0.0.1), 20 mx2.good.test (::1)");
  CHECK(check_mx("bounces.good.test", "return path", "mx.good.test", mx, {{"mx.good.test", {"127.0.0.1"}}}).status ==
        Status::warn);
  auto dangling = check_mx("bounces.broken.test", "return path", "mx.good.test", mx, {});
  CHECK(dangling.status == Status::fail);
  CHECK(dangling.fix == "add an A or AAAA record for mx.good.test, mx2.good.test, the MX host of bounces.broken.test");
  auto missing = check_mx("bounces.broken.test", "return path", "mx.good.test", records(dns::RrType::mx, {}), {});
  CHECK(missing.status == Status::fail);
  CHECK(missing.fix.rfind("publish an MX record for bounces.broken.test naming mx.good.test", 0) == 0);
  auto null_mx = check_mx("x.test", "[smtp_in] domain", "mx.good.test", records(dns::RrType::mx, {{0, ""}}), {});
  CHECK(null_mx.status == Status::fail);
  CHECK(null_mx.fix.find("null MX") != std::string::npos);
}

TEST_CASE("a host name must resolve", "[doctor][host]") {
  CHECK(check_host("mta.good.test", "[unsubscribe] base_url", {{"mta.good.test", {"127.0.0.1"}}}).status == Status::ok);
  auto f = check_host("mta.broken.test", "[unsubscribe] base_url", {});
  CHECK(f.status == Status::fail);
  CHECK(f.subject == "mta.broken.test ([unsubscribe] base_url)");
  CHECK(unbound_source("default").status == Status::warn);
}
