#include <catch2/catch.hpp>

#include "core/tls_rpt/policy.hpp"

using namespace volley::tls_rpt;
using volley::tls::StsPolicy;
using volley::tls::Tlsa;

TEST_CASE("an MTA-STS policy becomes its policy-string lines and mx-host patterns", "[tls_rpt]") {
  StsPolicy sts{StsPolicy::Mode::enforce, {"mx1.example.com", "*.mx.example.com"}, std::chrono::seconds(86400), "id1"};
  const auto p = sts_policy("Example.COM", sts);
  CHECK(p.type == PolicyType::sts);
  CHECK(p.domain == "example.com");
  CHECK(p.strings == std::vector<std::string>{"version: STSv1", "mode: enforce", "mx: mx1.example.com",
                                              "mx: *.mx.example.com", "max_age: 86400"});
  CHECK(p.mx_hosts == std::vector<std::string>{"mx1.example.com", "*.mx.example.com"});
}

TEST_CASE("TLSA records become presentation strings, the host the mx-host", "[tls_rpt]") {
  const auto p = tlsa_policy("example.net", "MX.example.net", {Tlsa{3, 1, 1, std::string("\x01\xab\xff", 3)}});
  CHECK(p.type == PolicyType::tlsa);
  CHECK(p.strings == std::vector<std::string>{"3 1 1 01abff"});
  CHECK(p.mx_hosts == std::vector<std::string>{"mx.example.net"});
  CHECK(no_policy("X.example").domain == "x.example");
  CHECK(no_policy("x.example").type == PolicyType::no_policy_found);
}
