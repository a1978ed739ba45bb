#pragma once
// Test helper: DNS responses built with ldns from zone-file text, so tests state records the
// way a zone would, and the bytes are what a real server could send.
#include <cstdint>
#include <string>
#include <vector>

#include "core/dns/mx_lookup.hpp"

namespace volley::dns::test {

struct FakeResponse {
  std::uint16_t id = 0;
  std::string qname;
  RrType qtype = RrType::mx;
  std::uint8_t rcode = 0;
  bool truncated = false;
  bool authenticated = false;  // the AD bit
  std::vector<std::string> answer;  // "example.com. 300 IN MX 10 mx1.example.com."
  std::vector<std::string> authority;
  std::vector<std::string> additional;
};

std::vector<std::uint8_t> build_response(const FakeResponse& r);

// A response to `q` (its id and question) with the given sections.
inline FakeResponse reply_to(const Query& q, std::uint8_t rcode = 0) {
  FakeResponse r;
  r.id = q.id;
  r.qname = q.name;
  r.qtype = q.type;
  r.rcode = rcode;
  return r;
}

}  // namespace volley::dns::test
