#include <catch2/catch.hpp>

#include "core/util/cidr.hpp"

using volley::util::in_any_network;
using volley::util::parse_cidr;

TEST_CASE("CIDRs parse in v4 and v6, a bare address is one host", "[cidr]") {
  CHECK(parse_cidr("10.0.0.0/8")->to_string() == "10.0.0.0/8");
  CHECK(parse_cidr("192.0.2.7")->to_string() == "192.0.2.7/32");
  CHECK(parse_cidr("2001:db8::/32")->to_string() == "2001:db8::/32");
  CHECK(parse_cidr("::1")->prefix == 128);
  CHECK(parse_cidr("0.0.0.0/0")->prefix == 0);
  for (const char* bad : {"", "10.0.0.1/8", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "10.0.0/8", "example.com",
                          "2001:db8::/129", "2001:db8::1/32", "10.0.0.0/8x", " 10.0.0.0/8"})
    CHECK_FALSE(parse_cidr(bad));
}

TEST_CASE("Addresses match the networks that contain them", "[cidr]") {
  const std::vector nets{*parse_cidr("10.0.0.0/8"), *parse_cidr("192.0.2.128/25"), *parse_cidr("2001:db8::/32")};
  CHECK(in_any_network(nets, "10.1.2.3"));
  CHECK(in_any_network(nets, "192.0.2.200"));
  CHECK_FALSE(in_any_network(nets, "192.0.2.127"));
  CHECK_FALSE(in_any_network(nets, "11.0.0.1"));
  CHECK(in_any_network(nets, "2001:db8:1::5"));
  CHECK_FALSE(in_any_network(nets, "2001:db9::5"));
  CHECK(in_any_network(nets, "::ffff:10.9.9.9"));  // a v4 client on a dual-stack socket
  CHECK_FALSE(in_any_network(nets, "not an address"));
  CHECK_FALSE(in_any_network({}, "10.1.2.3"));
  CHECK(in_any_network({*parse_cidr("0.0.0.0/0")}, "203.0.113.9"));
  CHECK_FALSE(in_any_network({*parse_cidr("0.0.0.0/0")}, "::1"));
}
