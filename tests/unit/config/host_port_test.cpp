#include <catch2/catch.hpp>

#include "core/config/host_port.hpp"

using volley::HostPort;
using volley::HostPortRules;
using volley::parse_host_port;

namespace {

std::optional<HostPort> parse(std::string_view text, HostPortRules rules, std::string* why = nullptr) {
  std::string ignored;
  return parse_host_port(text, rules, why ? why : &ignored);
}

const HostPortRules kListen{.default_port = std::nullopt, .allow_port_zero = true, .ip_only = false};
const HostPortRules kDnsServer{.default_port = 53, .allow_port_zero = false, .ip_only = true};

}  // namespace

TEST_CASE("host:port in its three spellings") {
  CHECK(parse("127.0.0.1:8025", kListen) == HostPort{"127.0.0.1", 8025});
  CHECK(parse("[::1]:8025", kListen) == HostPort{"::1", 8025});
  CHECK(parse("localhost:2525", kListen) == HostPort{"localhost", 2525});
  CHECK(parse("127.0.0.1:0", kListen) == HostPort{"127.0.0.1", 0});
  CHECK(HostPort{"::1", 25}.to_string() == "[::1]:25");
  CHECK(HostPort{"mx.example.com", 25}.to_string() == "mx.example.com:25");
}

TEST_CASE("DNS servers take port 53 by default and must be addresses") {
  CHECK(parse("127.0.0.1", kDnsServer) == HostPort{"127.0.0.1", 53});
  CHECK(parse("127.0.0.1:5353", kDnsServer) == HostPort{"127.0.0.1", 5353});
  CHECK(parse("[::1]", kDnsServer) == HostPort{"::1", 53});
  CHECK(parse("::1", kDnsServer) == HostPort{"::1", 53});
  std::string why;
  CHECK_FALSE(parse("ns.example.com", kDnsServer, &why));
  CHECK(why == "expected an IP address, not a name");
  CHECK_FALSE(parse("127.0.0.1:0", kDnsServer, &why));
  CHECK(why == "the port must be 1..65535");
}

TEST_CASE("malformed endpoints are refused with a reason") {
  for (const char* bad : {"", ":25", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:8o",
                          "::1:25", "[::1", "[::1]25", "[127.0.0.1]:25", "[nonsense]:25", "bad_host:25",
                          "-bad.example:25", "a..b:25", "1.2.3.999:25", "host\r\nname:25", "127.0.0.1:123456"}) {
    std::string why;
    INFO(bad);
    CHECK_FALSE(parse(bad, kListen, &why));
    CHECK_FALSE(why.empty());
  }
}

TEST_CASE("host names and EHLO names") {
  CHECK(volley::is_host_name("mail.example.com"));
  CHECK(volley::is_host_name("localhost"));
  CHECK(volley::is_host_name("a-b.c0"));
  CHECK_FALSE(volley::is_host_name(std::string(64, 'a') + ".com"));
  CHECK(volley::is_host_name(std::string(63, 'a') + ".com"));
  CHECK_FALSE(volley::is_host_name("mail.example.com."));
  CHECK_FALSE(volley::is_host_name("mail example.com"));
  CHECK_FALSE(volley::is_host_name("1.2.3.4"));
  CHECK(volley::is_ehlo_name("[192.0.2.1]"));
  CHECK(volley::is_ehlo_name("[IPv6:2001:db8::1]"));
  CHECK_FALSE(volley::is_ehlo_name("[2001:db8::1]"));
  CHECK_FALSE(volley::is_ehlo_name("mail.example.com\r\nRCPT TO:<x@y>"));
}
