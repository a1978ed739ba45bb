// The DNS actor against a real nsd on 127.0.0.1 (and a UDP port that never answers).
#include "actors/dns_actor.hpp"

#include <utility>  // before Asio: Boost 1.74 with C++20 needs it

#include <catch2/catch.hpp>

#include <boost/asio.hpp>
#include <caf/all.hpp>

#include <algorithm>
#include <fstream>
#include <optional>
#include <thread>

#include "actors/messages.hpp"
#include "core/dns/wire.hpp"
#include "dns_runtime.hpp"
#include "tests/support/nsd_server.hpp"

using namespace volley;
using volley::test::ask;
using volley::test::config_for;
using volley::test::Runtime;
using std::chrono_literals::operator""ms;
using std::chrono_literals::operator""s;

namespace {

std::string test_zone() {
  std::string z =
      "$ORIGIN volley.test.\n"
      "$TTL 300\n"
      "@ IN SOA ns1 hostmaster 1 3600 600 86400 120\n"
      "@ IN NS ns1\n"
      "ns1 IN A 127.0.0.1\n"
      "two-mx IN MX 20 mx-b.two-mx\n"
      "two-mx IN MX 10 mx-a.two-mx\n"
      "mx-a.two-mx IN A 127.0.0.11\n"
      "mx-b.two-mx IN A 127.0.0.12\n"
      "mx-b.two-mx IN AAAA ::1\n"
      "alias IN CNAME two-mx\n"
      "nullmx IN MX 0 .\n"
      "a-only IN A 127.0.0.20\n"
      "noaddr IN MX 10 void.noaddr\n"
      "mixed IN MX 10 void.noaddr\n"
      "mixed IN MX 20 mx-a.two-mx\n"
      "_mta-sts IN TXT \"v=STSv1; \" \"id=20261205\"\n"
      "multi IN TXT \"one\"\n"
      "multi IN TXT \"two\"\n"
      "txt-alias IN CNAME _mta-sts\n"
      "_25._tcp.mx-a.two-mx IN TLSA 3 1 1 "
      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n";
  // An MX set too big for a 1232-byte UDP answer: only TCP gets it whole.
  for (int i = 0; i < 40; ++i) {
    const std::string host = "mx-" + std::to_string(i) + "-with-a-rather-long-first-label.big";
    z += "big IN MX " + std::to_string(10 + i) + " " + host + "\n";
    z += host + " IN A 127.0.1." + std::to_string(i + 1) + "\n";
  }
  return z;
}

// A bound UDP port that reads nothing and answers nothing; counts what was sent to it.
class SilentServer {
 public:
  SilentServer() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port_ = ntohs(a.sin_port);
  }
  ~SilentServer() { ::close(fd_); }
  std::uint16_t port() const { return port_; }
  int drain_count() {
    int n = 0;
    std::uint8_t buf[2048];
    while (::recv(fd_, buf, sizeof buf, MSG_DONTWAIT) > 0) ++n;
    return n;
  }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};


// One UDP query straight to `port`, to check what the test zone makes a server send.
std::optional<dns::Response> udp_query(std::uint16_t port, const std::string& name,
                                       dns::RrType type) {
  auto wire = dns::encode_query(0x4242, name, type);
  REQUIRE(wire);
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::optional<dns::Response> out;
  if (::sendto(fd, wire->data(), wire->size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) >
      0) {
    pollfd p{fd, POLLIN, 0};
    std::vector<std::uint8_t> buf(4096);
    if (::poll(&p, 1, 5000) == 1) {
      const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
      if (n > 0) out = dns::decode_response(std::span(buf.data(), static_cast<std::size_t>(n)));
    }
  }
  ::close(fd);
  return out;
}

dns::MxResolution resolve(caf::scoped_actor& self, const dns_actor& dns,
                          const std::string& domain) {
  return ask<dns::MxResolution>(self, dns, resolve_atom::value, domain);
}

dns::TxtResolution txt(caf::scoped_actor& self, const dns_actor& dns, const std::string& name) {
  return ask<dns::TxtResolution>(self, dns, txt_atom::value, name);
}

std::vector<std::string> names(const dns::MxResolution& r) {
  std::vector<std::string> out;
  for (const auto& h : r.hosts) out.push_back(h.name);
  return out;
}

}  // namespace

TEST_CASE("DNS actor resolves MX against a real nsd", "[actors][dns]") {
  test::NsdServer nsd({{"volley.test", test_zone()}});
  Runtime rt;
  {
    caf::scoped_actor self{*rt.system};
    auto dns = spawn_dns_actor(*rt.system, rt.io, config_for({nsd.port()}));

    // Two MX of different preference, addresses from the additional section.
    auto two = resolve(self, dns, "TWO-MX.Volley.Test.");
    REQUIRE(two.status == dns::Status::ok);
    CHECK_FALSE(two.implicit_mx);
    CHECK(names(two) ==
          std::vector<std::string>{"mx-a.two-mx.volley.test", "mx-b.two-mx.volley.test"});
    CHECK(two.hosts[0].preference == 10);
    CHECK(two.hosts[0].addresses == std::vector<std::string>{"127.0.0.11"});
    CHECK(two.hosts[1].preference == 20);
    CHECK(two.hosts[1].addresses == std::vector<std::string>{"127.0.0.12", "::1"});
    CHECK(two.ttl > 0);
    CHECK(two.ttl <= 300);

    auto alias = resolve(self, dns, "alias.volley.test");
    REQUIRE(alias.status == dns::Status::ok);
    CHECK(names(alias) == names(two));

    auto nullmx = resolve(self, dns, "nullmx.volley.test");
    CHECK(nullmx.status == dns::Status::perm_fail);
    CHECK(nullmx.error == "null MX");

    auto aonly = resolve(self, dns, "a-only.volley.test");
    REQUIRE(aonly.status == dns::Status::ok);
    CHECK(aonly.implicit_mx);
    REQUIRE(aonly.hosts.size() == 1);
    CHECK(aonly.hosts[0].name == "a-only.volley.test");
    CHECK(aonly.hosts[0].addresses == std::vector<std::string>{"127.0.0.20"});
    CHECK(aonly.ttl <= 120);  // bounded by the cached "no MX" (SOA MINIMUM)

    auto noaddr = resolve(self, dns, "noaddr.volley.test");
    CHECK(noaddr.status == dns::Status::temp_fail);
    CHECK(noaddr.error == "no address for any MX host");

    auto mixed = resolve(self, dns, "mixed.volley.test");
    REQUIRE(mixed.status == dns::Status::ok);
    CHECK(names(mixed) == std::vector<std::string>{"mx-a.two-mx.volley.test"});

    auto missing = resolve(self, dns, "missing.volley.test");
    CHECK(missing.status == dns::Status::perm_fail);
    CHECK(missing.error == "NXDOMAIN");
    CHECK(missing.ttl > 60 - 2);
    CHECK(missing.ttl <= 120);

    // nsd refuses names outside its zones; with no other server to ask, that is a temp_fail.
    auto refused = resolve(self, dns, "example.org");
    CHECK(refused.status == dns::Status::temp_fail);
    CHECK(refused.error == "REFUSED");

    auto invalid = resolve(self, dns, "not a domain");
    CHECK(invalid.status == dns::Status::perm_fail);
    CHECK(invalid.error == "invalid domain name");

    // Truncated over UDP, whole over TCP.
    auto udp_big = udp_query(nsd.port(), "big.volley.test", dns::RrType::mx);
    REQUIRE(udp_big);
    REQUIRE(udp_big->truncated);
    auto big = resolve(self, dns, "big.volley.test");
    REQUIRE(big.status == dns::Status::ok);
    REQUIRE(big.hosts.size() == dns::LookupLimits{}.max_mx_hosts);
    CHECK(big.hosts[0].name == "mx-0-with-a-rather-long-first-label.big.volley.test");
    CHECK(big.hosts[0].addresses == std::vector<std::string>{"127.0.1.1"});
    CHECK(big.hosts[9].addresses == std::vector<std::string>{"127.0.1.10"});

    // With nsd gone, cached answers (positive and negative) still come back, TTL counting down.
    nsd.stop();
    auto cached = resolve(self, dns, "two-mx.volley.test");
    REQUIRE(cached.status == dns::Status::ok);
    CHECK(names(cached) == names(two));
    CHECK(cached.ttl <= two.ttl);
    auto cached_nx = resolve(self, dns, "missing.volley.test");
    CHECK(cached_nx.status == dns::Status::perm_fail);
    CHECK(cached_nx.error == "NXDOMAIN");
    auto cached_null = resolve(self, dns, "nullmx.volley.test");
    CHECK(cached_null.error == "null MX");
    self->send_exit(dns, caf::exit_reason::user_shutdown);
  }
}

TEST_CASE("DNS actor looks up TXT and TLSA records against a real nsd", "[actors][dns]") {
  test::NsdServer nsd({{"volley.test", test_zone()}});
  Runtime rt;
  {
    caf::scoped_actor self{*rt.system};
    auto cfg = config_for({nsd.port()});
    cfg.dnssec = true;  // asked for, but an authoritative server sets no AD: never secure
    auto dns = spawn_dns_actor(*rt.system, rt.io, cfg);

    auto sts = txt(self, dns, "_MTA-STS.volley.test.");
    REQUIRE(sts.status == dns::Status::ok);
    CHECK(sts.texts == std::vector<std::string>{"v=STSv1; id=20261205"});
    CHECK_FALSE(sts.secure);
    CHECK(sts.ttl > 0);
    CHECK(sts.ttl <= 300);

    auto multi = txt(self, dns, "multi.volley.test");
    REQUIRE(multi.status == dns::Status::ok);
    std::sort(multi.texts.begin(), multi.texts.end());
    CHECK(multi.texts == std::vector<std::string>{"one", "two"});

    auto alias = txt(self, dns, "txt-alias.volley.test");
    REQUIRE(alias.status == dns::Status::ok);
    CHECK(alias.texts == sts.texts);

    auto nodata = txt(self, dns, "two-mx.volley.test");
    CHECK(nodata.status == dns::Status::perm_fail);
    CHECK(nodata.error == "no TXT record");
    auto nx = txt(self, dns, "_mta-sts.missing.volley.test");
    CHECK(nx.status == dns::Status::perm_fail);
    CHECK(nx.error == "NXDOMAIN");
    CHECK(txt(self, dns, "not a name").error == "invalid domain name");

    auto tlsa = ask<dns::TlsaResolution>(self, dns, tlsa_atom::value,
                                         std::string("MX-A.two-mx.volley.test"),
                                         std::uint16_t{25});
    REQUIRE(tlsa.status == dns::Status::ok);
    REQUIRE(tlsa.records.size() == 1);
    CHECK(tlsa.records[0].usage == 3);
    CHECK(tlsa.records[0].selector == 1);
    CHECK(tlsa.records[0].mtype == 1);
    CHECK(tlsa.records[0].data.size() == 32);
    CHECK_FALSE(tlsa.secure);
    auto no_tlsa = ask<dns::TlsaResolution>(self, dns, tlsa_atom::value,
                                            std::string("mx-a.two-mx.volley.test"),
                                            std::uint16_t{465});
    CHECK(no_tlsa.status == dns::Status::perm_fail);

    // The MX answer asked for AD too, and got none.
    auto mx = resolve(self, dns, "two-mx.volley.test");
    REQUIRE(mx.status == dns::Status::ok);
    CHECK_FALSE(mx.secure);

    // With nsd gone, cached answers (positive and negative) still come back.
    nsd.stop();
    auto cached = txt(self, dns, "_mta-sts.volley.test");
    REQUIRE(cached.status == dns::Status::ok);
    CHECK(cached.texts == sts.texts);
    CHECK(cached.ttl <= sts.ttl);
    CHECK(txt(self, dns, "two-mx.volley.test").error == "no TXT record");
    auto cached_tlsa = ask<dns::TlsaResolution>(self, dns, tlsa_atom::value,
                                                std::string("mx-a.two-mx.volley.test"),
                                                std::uint16_t{25});
    CHECK(cached_tlsa.records == tlsa.records);
    self->send_exit(dns, caf::exit_reason::user_shutdown);
  }
}

TEST_CASE("DNS actor: concurrent TXT lookups of one name share one query", "[actors][dns]") {
  SilentServer silent;
  Runtime rt;
  {
    caf::scoped_actor self{*rt.system};
    auto dns = spawn_dns_actor(*rt.system, rt.io, config_for({silent.port()}, 150ms, 1));
    auto h1 = self->request(dns, 30s, txt_atom::value, std::string("_mta-sts.quiet.example"));
    auto h2 = self->request(dns, 30s, txt_atom::value, std::string("_MTA-STS.quiet.example."));
    int answered = 0;
    for (auto* h : {&h1, &h2}) {
      h->receive(
          [&](const dns::TxtResolution& r) {
            CHECK(r.status == dns::Status::temp_fail);
            CHECK(r.error == "timeout");
            ++answered;
          },
          [&](const caf::error& e) { FAIL("request failed: " << self->system().render(e)); });
    }
    CHECK(answered == 2);
    CHECK(silent.drain_count() == 1);
    self->send_exit(dns, caf::exit_reason::user_shutdown);
  }
}

TEST_CASE("DNS actor: a server that never answers is a temp_fail, one lookup per domain",
          "[actors][dns]") {
  SilentServer silent;
  Runtime rt;
  {
    caf::scoped_actor self{*rt.system};
    auto dns = spawn_dns_actor(*rt.system, rt.io, config_for({silent.port()}, 150ms, 2));
    const auto started = std::chrono::steady_clock::now();
    // Three concurrent requests for one domain share one lookup.
    auto h1 = self->request(dns, 30s, resolve_atom::value, std::string("quiet.example"));
    auto h2 = self->request(dns, 30s, resolve_atom::value, std::string("QUIET.example."));
    auto h3 = self->request(dns, 30s, resolve_atom::value, std::string("quiet.example"));
    int answered = 0;
    for (auto* h : {&h1, &h2, &h3}) {
      h->receive(
          [&](const dns::MxResolution& r) {
            CHECK(r.status == dns::Status::temp_fail);
            CHECK(r.error == "timeout");
            ++answered;
          },
          [&](const caf::error& e) { FAIL("request failed: " << self->system().render(e)); });
    }
    CHECK(answered == 3);
    CHECK(std::chrono::steady_clock::now() - started >= 300ms);  // two attempts waited out
    CHECK(silent.drain_count() == 2);  // one MX query, tried twice: not one per request
    self->send_exit(dns, caf::exit_reason::user_shutdown);
  }
}

TEST_CASE("DNS actor: a silent server is passed over for the next one", "[actors][dns]") {
  SilentServer silent;
  test::NsdServer nsd({{"volley.test", test_zone()}});
  Runtime rt;
  {
    caf::scoped_actor self{*rt.system};
    auto dns =
        spawn_dns_actor(*rt.system, rt.io, config_for({silent.port(), nsd.port()}, 200ms, 1));
    auto r = resolve(self, dns, "two-mx.volley.test");
    REQUIRE(r.status == dns::Status::ok);
    CHECK(names(r) ==
          std::vector<std::string>{"mx-a.two-mx.volley.test", "mx-b.two-mx.volley.test"});
    CHECK(silent.drain_count() == 1);
    self->send_exit(dns, caf::exit_reason::user_shutdown);
  }
}

TEST_CASE("DNS actor: a closed port fails over at once, without waiting the timeout",
          "[actors][dns]") {
  std::uint16_t closed = 0;
  {
    SilentServer gone;  // bound and closed again: nothing listens there any more
    closed = gone.port();
  }
  test::NsdServer nsd({{"volley.test", test_zone()}});
  Runtime rt;
  {
    caf::scoped_actor self{*rt.system};
    auto dns = spawn_dns_actor(*rt.system, rt.io, config_for({closed, nsd.port()}, 10s, 1));
    const auto started = std::chrono::steady_clock::now();
    auto r = resolve(self, dns, "two-mx.volley.test");
    CHECK(r.status == dns::Status::ok);
    CHECK(std::chrono::steady_clock::now() - started < 5s);  // ICMP port unreachable, not 10 s
    self->send_exit(dns, caf::exit_reason::user_shutdown);
  }
}

TEST_CASE("DnsConfig reads resolv.conf", "[actors][dns]") {
  char tmpl[] = "/tmp/volley-resolv-XXXXXX";
  const int fd = ::mkstemp(tmpl);
  REQUIRE(fd >= 0);
  ::close(fd);
  const std::string path = tmpl;
  {
    std::ofstream out(path);
    out << "# comment\n"
           "search example.com\n"
           "nameserver 127.0.0.53\n"
           "nameserver not-an-ip\n"
           "nameserver ::1\n"
           "; other comment\n"
           "options ndots:2 timeout:3 attempts:4\n";
  }
  auto cfg = DnsConfig::from_resolv_conf(path);
  REQUIRE(cfg.servers.size() == 2);
  CHECK(cfg.servers[0].host == "127.0.0.53");
  CHECK(cfg.servers[0].port == 53);
  CHECK(cfg.servers[1].host == "::1");
  CHECK(cfg.timeout == std::chrono::seconds(3));
  CHECK(cfg.attempts == 4);

  { std::ofstream(path) << "options timeout:999 attempts:x\n"; }
  cfg = DnsConfig::from_resolv_conf(path);
  REQUIRE(cfg.servers.size() == 1);
  CHECK(cfg.servers[0].host == "127.0.0.1");  // the C library's default
  CHECK(cfg.timeout == std::chrono::seconds(30));
  CHECK(cfg.attempts == 2);
  std::remove(path.c_str());

  CHECK(DnsConfig::from_resolv_conf("/nonexistent/resolv.conf").servers.size() == 1);
}
