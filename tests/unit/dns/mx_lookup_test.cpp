#include "core/dns/mx_lookup.hpp"

#include <catch2/catch.hpp>

#include <set>

#include "response_builder.hpp"

using namespace volley::dns;
using volley::dns::test::build_response;
using volley::dns::test::FakeResponse;
using volley::dns::test::reply_to;

namespace {

const Query& find_query(const std::vector<Query>& qs, const std::string& name, RrType type) {
  for (const auto& q : qs) {
    if (q.name == name && q.type == type) return q;
  }
  FAIL("no " << to_string(type) << " query for " << name);
  throw std::logic_error("unreachable");
}

MxLookup::Advance feed(MxLookup& lookup, const FakeResponse& f) {
  return lookup.on_response(build_response(f));
}

const std::string soa = "example. 3600 IN SOA ns.example. host.example. 1 2 3 4 120";

// Starts a lookup and answers its MX query with `answer` (and `additional`).
MxLookup::Advance mx_answer(MxLookup& lookup, std::vector<std::string> answer,
                            std::vector<std::string> additional = {}, std::uint8_t rc = 0) {
  auto qs = lookup.start();
  REQUIRE(qs.size() == 1);
  CHECK(qs[0].type == RrType::mx);
  auto r = reply_to(qs[0], rc);
  r.answer = std::move(answer);
  r.additional = std::move(additional);
  if (r.answer.empty()) r.authority = {soa};
  auto adv = feed(lookup, r);
  CHECK(adv.accepted);
  return adv;
}

// Answers an address query with the given records (empty: NODATA with an SOA).
std::vector<Query> address_answer(MxLookup& lookup, const Query& q, std::vector<std::string> rrs,
                                  std::uint8_t rc = 0) {
  auto r = reply_to(q, rc);
  r.answer = std::move(rrs);
  if (r.answer.empty()) r.authority = {soa};
  auto adv = feed(lookup, r);
  CHECK(adv.accepted);
  return adv.queries;
}

}  // namespace

TEST_CASE("MX hosts with glue: sorted by preference, no further queries", "[dns][mx]") {
  MxLookup lookup("Example.COM.", 1);
  CHECK(lookup.domain() == "example.com");
  auto adv = mx_answer(
      lookup,
      {"example.com. 600 IN MX 20 MX2.example.com.", "example.com. 300 IN MX 10 mx1.example.com."},
      {"mx1.example.com. 900 IN A 192.0.2.1", "mx1.example.com. 900 IN AAAA 2001:db8::1",
       "mx2.example.com. 200 IN A 192.0.2.2", "other.example. 1 IN A 192.0.2.99"});
  CHECK(adv.queries.empty());
  REQUIRE(lookup.done());
  const auto& res = lookup.result();
  CHECK(res.status == Status::ok);
  CHECK_FALSE(res.implicit_mx);
  REQUIRE(res.hosts.size() == 2);
  CHECK(res.hosts[0].name == "mx1.example.com");
  CHECK(res.hosts[0].preference == 10);
  CHECK(res.hosts[0].addresses == std::vector<std::string>{"192.0.2.1", "2001:db8::1"});
  CHECK(res.hosts[1].name == "mx2.example.com");
  CHECK(res.hosts[1].addresses == std::vector<std::string>{"192.0.2.2"});
  CHECK(res.ttl == 200);  // the smallest TTL used
}

TEST_CASE("MX hosts without glue are looked up by A and AAAA", "[dns][mx]") {
  MxLookup lookup("example.com", 2);
  auto adv = mx_answer(lookup, {"example.com. 300 IN MX 10 mx1.example.net.",
                                "example.com. 300 IN MX 20 mx2.example.net."});
  REQUIRE(adv.queries.size() == 4);
  CHECK_FALSE(lookup.done());
  std::set<std::uint16_t> ids;
  for (const auto& q : adv.queries) ids.insert(q.id);
  CHECK(ids.size() == 4);  // distinct ids for concurrent queries

  // AAAA first: addresses still come out IPv4 first.
  CHECK(address_answer(lookup, find_query(adv.queries, "mx1.example.net", RrType::aaaa),
                       {"mx1.example.net. 100 IN AAAA 2001:db8::10"})
            .empty());
  address_answer(lookup, find_query(adv.queries, "mx1.example.net", RrType::a),
                 {"mx1.example.net. 100 IN A 192.0.2.10", "mx1.example.net. 100 IN A 192.0.2.11"});
  address_answer(lookup, find_query(adv.queries, "mx2.example.net", RrType::a),
                 {"mx2.example.net. 50 IN A 192.0.2.20"});
  CHECK_FALSE(lookup.done());
  address_answer(lookup, find_query(adv.queries, "mx2.example.net", RrType::aaaa), {});
  REQUIRE(lookup.done());
  const auto& res = lookup.result();
  CHECK(res.status == Status::ok);
  REQUIRE(res.hosts.size() == 2);
  CHECK(res.hosts[0].addresses ==
        std::vector<std::string>{"192.0.2.10", "192.0.2.11", "2001:db8::10"});
  CHECK(res.hosts[1].addresses == std::vector<std::string>{"192.0.2.20"});
  CHECK(res.ttl == 50);
}

TEST_CASE("equal preferences come out in both orders across lookups", "[dns][mx]") {
  std::set<std::string> firsts;
  for (std::uint64_t seed = 0; seed < 64; ++seed) {
    MxLookup lookup("example.com", seed);
    mx_answer(
        lookup,
        {"example.com. 300 IN MX 10 a.example.com.", "example.com. 300 IN MX 10 b.example.com.",
         "example.com. 300 IN MX 5 first.example.com."},
        {"a.example.com. 300 IN A 192.0.2.1", "b.example.com. 300 IN A 192.0.2.2",
         "first.example.com. 300 IN A 192.0.2.3"});
    REQUIRE(lookup.result().hosts.size() == 3);
    CHECK(lookup.result().hosts[0].name == "first.example.com");
    firsts.insert(lookup.result().hosts[1].name);
  }
  CHECK(firsts == std::set<std::string>{"a.example.com", "b.example.com"});
}

TEST_CASE("duplicate MX hosts are merged and the list is capped", "[dns][mx]") {
  LookupLimits limits;
  limits.max_mx_hosts = 2;
  MxLookup lookup("example.com", 3, limits);
  mx_answer(
      lookup,
      {"example.com. 300 IN MX 30 a.example.com.", "example.com. 300 IN MX 10 a.example.com.",
       "example.com. 300 IN MX 20 b.example.com.", "example.com. 300 IN MX 40 c.example.com."},
      {"a.example.com. 300 IN A 192.0.2.1", "b.example.com. 300 IN A 192.0.2.2",
       "c.example.com. 300 IN A 192.0.2.3"});
  const auto& res = lookup.result();
  REQUIRE(res.hosts.size() == 2);
  CHECK(res.hosts[0].name == "a.example.com");
  CHECK(res.hosts[0].preference == 10);
  CHECK(res.hosts[1].name == "b.example.com");
}

TEST_CASE("MX hosts whose lookups fail are skipped when another works", "[dns][mx]") {
  MxLookup lookup("example.com", 4);
  auto adv = mx_answer(lookup, {"example.com. 300 IN MX 10 gone.example.com.",
                                "example.com. 300 IN MX 20 slow.example.com.",
                                "example.com. 300 IN MX 30 good.example.com."});
  REQUIRE(adv.queries.size() == 6);
  address_answer(lookup, find_query(adv.queries, "gone.example.com", RrType::a), {},
                 rcode::nxdomain);
  address_answer(lookup, find_query(adv.queries, "gone.example.com", RrType::aaaa), {},
                 rcode::nxdomain);
  CHECK(lookup.on_timeout(find_query(adv.queries, "slow.example.com", RrType::a).id).empty());
  address_answer(lookup, find_query(adv.queries, "slow.example.com", RrType::aaaa), {},
                 rcode::servfail);
  address_answer(lookup, find_query(adv.queries, "good.example.com", RrType::a),
                 {"good.example.com. 300 IN A 192.0.2.30"});
  address_answer(lookup, find_query(adv.queries, "good.example.com", RrType::aaaa), {});
  REQUIRE(lookup.done());
  REQUIRE(lookup.result().status == Status::ok);
  REQUIRE(lookup.result().hosts.size() == 1);
  CHECK(lookup.result().hosts[0].name == "good.example.com");
}

TEST_CASE("no address for any MX host is a temp_fail", "[dns][mx]") {
  MxLookup lookup("example.com", 5);
  auto adv = mx_answer(lookup, {"example.com. 300 IN MX 10 noaddr.example.com."});
  REQUIRE(adv.queries.size() == 2);
  address_answer(lookup, adv.queries[0], {});
  address_answer(lookup, adv.queries[1], {});
  REQUIRE(lookup.done());
  CHECK(lookup.result().status == Status::temp_fail);
  CHECK(lookup.result().error == "no address for any MX host");
  CHECK(lookup.result().hosts.empty());
  CHECK(lookup.result().ttl == LookupLimits{}.temp_fail_ttl);
}

TEST_CASE("an exchange that is no host name has no address", "[dns][mx]") {
  MxLookup lookup("example.com", 6);
  auto adv = mx_answer(lookup,
                       {"example.com. 300 IN MX 10 bad\\.name.example.com.",
                        "example.com. 300 IN MX 20 ok.example.com."},
                       {"ok.example.com. 300 IN A 192.0.2.1"});
  CHECK(adv.queries.empty());  // nothing asked about the bad name
  REQUIRE(lookup.done());
  REQUIRE(lookup.result().hosts.size() == 1);
  CHECK(lookup.result().hosts[0].name == "ok.example.com");
}

TEST_CASE("no MX: the domain's own A/AAAA is the implicit MX", "[dns][mx]") {
  MxLookup lookup("plain.example", 7);
  auto adv = mx_answer(lookup, {});
  REQUIRE(adv.queries.size() == 2);
  address_answer(lookup, find_query(adv.queries, "plain.example", RrType::a),
                 {"plain.example. 600 IN A 192.0.2.7"});
  address_answer(lookup, find_query(adv.queries, "plain.example", RrType::aaaa), {});
  REQUIRE(lookup.done());
  const auto& res = lookup.result();
  CHECK(res.status == Status::ok);
  CHECK(res.implicit_mx);
  REQUIRE(res.hosts.size() == 1);
  CHECK(res.hosts[0].name == "plain.example");
  CHECK(res.hosts[0].preference == 0);
  CHECK(res.hosts[0].addresses == std::vector<std::string>{"192.0.2.7"});
  CHECK(res.ttl == 120);  // the cached "no MX" (SOA MINIMUM) bounds it
}

TEST_CASE("no MX and no address is a perm_fail", "[dns][mx]") {
  MxLookup lookup("empty.example", 8);
  auto adv = mx_answer(lookup, {});
  REQUIRE(adv.queries.size() == 2);
  address_answer(lookup, adv.queries[0], {});
  address_answer(lookup, adv.queries[1], {});
  REQUIRE(lookup.done());
  CHECK(lookup.result().status == Status::perm_fail);
  CHECK(lookup.result().error == "no MX and no A/AAAA");
  CHECK(lookup.result().ttl == 120);
}

TEST_CASE("no MX and a failing address lookup is a temp_fail", "[dns][mx]") {
  MxLookup lookup("empty.example", 9);
  auto adv = mx_answer(lookup, {});
  address_answer(lookup, adv.queries[0], {});
  address_answer(lookup, adv.queries[1], {}, rcode::servfail);
  REQUIRE(lookup.done());
  CHECK(lookup.result().status == Status::temp_fail);
}

TEST_CASE("null MX is a perm_fail", "[dns][mx]") {
  MxLookup lookup("nomail.example", 10);
  auto adv = mx_answer(lookup, {"nomail.example. 3600 IN MX 0 ."});
  CHECK(adv.queries.empty());
  REQUIRE(lookup.done());
  CHECK(lookup.result().status == Status::perm_fail);
  CHECK(lookup.result().error == "null MX");
  CHECK(lookup.result().ttl == 3600);

  SECTION("mixed with a real host, it is only an unusable host") {
    MxLookup mixed("mixed.example", 11);
    mx_answer(mixed,
              {"mixed.example. 300 IN MX 0 .", "mixed.example. 300 IN MX 10 mx.mixed.example."},
              {"mx.mixed.example. 300 IN A 192.0.2.1"});
    REQUIRE(mixed.done());
    CHECK(mixed.result().status == Status::ok);
    REQUIRE(mixed.result().hosts.size() == 1);
    CHECK(mixed.result().hosts[0].name == "mx.mixed.example");
  }
}

TEST_CASE("NXDOMAIN is a perm_fail cached by the SOA, within bounds", "[dns][mx]") {
  auto nx = [](const std::string& soa_rr) {
    MxLookup lookup("missing.example", 12);
    auto qs = lookup.start();
    auto r = reply_to(qs.at(0), rcode::nxdomain);
    if (!soa_rr.empty()) r.authority = {soa_rr};
    REQUIRE(feed(lookup, r).accepted);
    REQUIRE(lookup.done());
    CHECK(lookup.result().status == Status::perm_fail);
    CHECK(lookup.result().error == "NXDOMAIN");
    return lookup.result().ttl;
  };
  CHECK(nx("example. 3600 IN SOA ns.example. h.example. 1 2 3 4 120") == 120);
  CHECK(nx("example. 3600 IN SOA ns.example. h.example. 1 2 3 4 5") == 60);
  CHECK(nx("example. 3600 IN SOA ns.example. h.example. 1 2 3 4 86400") == 300);
  CHECK(nx("") == 60);
}

TEST_CASE("SERVFAIL, REFUSED, truncation and timeout are temp_fail", "[dns][mx]") {
  for (auto [rc, text] :
       {std::pair{rcode::servfail, "SERVFAIL"}, std::pair{rcode::refused, "REFUSED"},
        std::pair{std::uint8_t{9}, "RCODE 9"}}) {
    MxLookup lookup("example.com", 13);
    auto qs = lookup.start();
    REQUIRE(feed(lookup, reply_to(qs.at(0), rc)).accepted);
    REQUIRE(lookup.done());
    CHECK(lookup.result().status == Status::temp_fail);
    CHECK(lookup.result().error == text);
    CHECK(lookup.result().ttl == LookupLimits{}.temp_fail_ttl);
  }
  {
    MxLookup lookup("example.com", 14);
    auto r = reply_to(lookup.start().at(0));
    r.truncated = true;
    r.answer = {"example.com. 300 IN MX 10 mx.example.com."};
    feed(lookup, r);
    REQUIRE(lookup.done());
    CHECK(lookup.result().status == Status::temp_fail);
    CHECK(lookup.result().error == "truncated response");
  }
  {
    MxLookup lookup("example.com", 15);
    auto qs = lookup.start();
    CHECK(lookup.on_timeout(static_cast<std::uint16_t>(qs.at(0).id + 1)).empty());
    CHECK_FALSE(lookup.done());  // not our query
    lookup.on_timeout(qs.at(0).id);
    REQUIRE(lookup.done());
    CHECK(lookup.result().status == Status::temp_fail);
    CHECK(lookup.result().error == "timeout");
  }
}

TEST_CASE("CNAMEs are followed, within a bound", "[dns][mx]") {
  SECTION("in the same answer") {
    MxLookup lookup("alias.example", 16);
    mx_answer(lookup,
              {"alias.example. 100 IN CNAME real.example.",
               "real.example. 300 IN MX 10 mx.real.example."},
              {"mx.real.example. 300 IN A 192.0.2.1"});
    REQUIRE(lookup.done());
    CHECK(lookup.result().status == Status::ok);
    CHECK(lookup.result().hosts.at(0).name == "mx.real.example");
    CHECK(lookup.result().ttl == 100);
  }
  SECTION("by asking the target") {
    MxLookup lookup("alias.example", 17);
    auto adv = mx_answer(lookup, {"alias.example. 100 IN CNAME real.example."});
    REQUIRE(adv.queries.size() == 1);
    CHECK(adv.queries[0].name == "real.example");
    CHECK(adv.queries[0].type == RrType::mx);
    auto r = reply_to(adv.queries[0]);
    r.answer = {"real.example. 300 IN MX 10 mx.real.example."};
    r.additional = {"mx.real.example. 300 IN A 192.0.2.1"};
    CHECK(feed(lookup, r).accepted);
    REQUIRE(lookup.done());
    CHECK(lookup.result().hosts.at(0).addresses.at(0) == "192.0.2.1");
  }
  SECTION("for an MX host's address") {
    MxLookup lookup("example.com", 18);
    auto adv = mx_answer(lookup, {"example.com. 300 IN MX 10 mx.example.com."});
    address_answer(lookup, find_query(adv.queries, "mx.example.com", RrType::aaaa), {});
    auto more = address_answer(lookup, find_query(adv.queries, "mx.example.com", RrType::a),
                               {"mx.example.com. 300 IN CNAME host.provider.example."});
    REQUIRE(more.size() == 1);
    CHECK(more[0].name == "host.provider.example");
    CHECK_FALSE(lookup.done());
    address_answer(lookup, more[0], {"host.provider.example. 300 IN A 192.0.2.9"});
    REQUIRE(lookup.done());
    CHECK(lookup.result().hosts.at(0).name == "mx.example.com");
    CHECK(lookup.result().hosts.at(0).addresses == std::vector<std::string>{"192.0.2.9"});
  }
  SECTION("a loop ends as temp_fail") {
    MxLookup lookup("a.example", 19);
    auto qs = lookup.start();
    int rounds = 0;
    while (!lookup.done()) {
      REQUIRE(qs.size() == 1);
      REQUIRE(++rounds < 20);
      auto r = reply_to(qs[0]);
      const std::string other = qs[0].name == "a.example" ? "b.example." : "a.example.";
      r.answer = {qs[0].name + ". 300 IN CNAME " + other};
      auto adv = feed(lookup, r);
      REQUIRE(adv.accepted);
      qs = adv.queries;
    }
    CHECK(lookup.result().status == Status::temp_fail);
    CHECK(lookup.result().error == "CNAME chain too long");
  }
  SECTION("a loop inside one answer ends as temp_fail") {
    MxLookup lookup("a.example", 20);
    mx_answer(lookup, {"a.example. 300 IN CNAME b.example.", "b.example. 300 IN CNAME a.example."});
    REQUIRE(lookup.done());
    CHECK(lookup.result().status == Status::temp_fail);
  }
}

TEST_CASE("spoofed, mismatched and garbage responses are ignored", "[dns][mx]") {
  MxLookup lookup("example.com", 21);
  auto qs = lookup.start();
  REQUIRE(qs.size() == 1);
  const Query q = qs[0];
  const std::vector<std::string> evil = {"example.com. 300 IN MX 10 evil.example."};

  auto wrong_id = reply_to(q);
  wrong_id.id = static_cast<std::uint16_t>(q.id + 1);
  wrong_id.answer = evil;
  CHECK_FALSE(feed(lookup, wrong_id).accepted);

  auto wrong_name = reply_to(q);
  wrong_name.qname = "example.org";
  wrong_name.answer = evil;
  CHECK_FALSE(feed(lookup, wrong_name).accepted);

  auto wrong_type = reply_to(q);
  wrong_type.qtype = RrType::a;
  CHECK_FALSE(feed(lookup, wrong_type).accepted);

  auto nx = reply_to(q, rcode::nxdomain);
  nx.id = static_cast<std::uint16_t>(q.id ^ 0x8000);
  CHECK_FALSE(feed(lookup, nx).accepted);

  const std::vector<std::uint8_t> garbage = {static_cast<std::uint8_t>(q.id >> 8),
                                             static_cast<std::uint8_t>(q.id), 0x81, 0x80, 0xff};
  CHECK_FALSE(lookup.on_response(garbage).accepted);
  CHECK_FALSE(lookup.on_response({}).accepted);
  CHECK_FALSE(lookup.done());
  CHECK(lookup.pending_queries() == 1);

  // The real answer still lands, in any letter case.
  auto real = reply_to(q);
  real.qname = "EXAMPLE.com.";
  real.answer = {"Example.Com. 300 IN MX 10 MX.Example.Com."};
  real.additional = {"mx.EXAMPLE.com. 300 IN A 192.0.2.1"};
  CHECK(feed(lookup, real).accepted);
  REQUIRE(lookup.done());
  CHECK(lookup.result().status == Status::ok);
  CHECK(lookup.result().hosts.at(0).name == "mx.example.com");

  // Late duplicates change nothing.
  CHECK_FALSE(feed(lookup, wrong_id).accepted);
  CHECK(lookup.result().hosts.at(0).name == "mx.example.com");
}

TEST_CASE("an invalid domain fails at once without a query", "[dns][mx]") {
  for (const char* bad : {"", ".", "exa mple.com", "a..b", "[192.0.2.1]"}) {
    MxLookup lookup(bad, 22);
    CHECK(lookup.start().empty());
    REQUIRE(lookup.done());
    CHECK(lookup.result().status == Status::perm_fail);
    CHECK(lookup.result().error == "invalid domain name");
  }
}

TEST_CASE("positive TTLs are clamped", "[dns][mx]") {
  for (auto [ttl, expect] :
       {std::pair{5u, 30u}, std::pair{100000u, 3600u}, std::pair{1234u, 1234u}}) {
    MxLookup lookup("example.com", 23);
    const std::string t = std::to_string(ttl);
    mx_answer(lookup, {"example.com. " + t + " IN MX 10 mx.example.com."},
              {"mx.example.com. " + t + " IN A 192.0.2.1"});
    CHECK(lookup.result().ttl == expect);
  }
}

TEST_CASE("the query budget bounds a lookup", "[dns][mx]") {
  LookupLimits limits;
  limits.max_queries = 3;
  MxLookup lookup("example.com", 24, limits);
  auto adv = mx_answer(lookup, {"example.com. 300 IN MX 10 a.example.com.",
                                "example.com. 300 IN MX 20 b.example.com."});
  CHECK(adv.queries.size() == 2);  // a's A and AAAA; nothing left for b
  for (const auto& q : adv.queries) address_answer(lookup, q, {});
  REQUIRE(lookup.done());
  CHECK(lookup.result().status == Status::temp_fail);
  CHECK(lookup.result().error == "address lookups of every MX host failed");
}

TEST_CASE("hostile answers are bounded and never crash the lookup", "[dns][mx]") {
  SECTION("a flood of addresses is capped per family") {
    MxLookup lookup("example.com", 25);
    std::vector<std::string> glue;
    for (int i = 0; i < 200; ++i) {
      glue.push_back("mx.example.com. 300 IN A 10.0." + std::to_string(i / 250) + "." +
                     std::to_string(i % 250));
    }
    mx_answer(lookup, {"example.com. 300 IN MX 10 mx.example.com."}, glue);
    REQUIRE(lookup.done());
    CHECK(lookup.result().hosts.at(0).addresses.size() == LookupLimits{}.max_addresses_per_host);
  }
  SECTION("every corruption of a valid answer") {
    MxLookup probe("example.com", 26);
    const Query q = probe.start().at(0);
    auto f = reply_to(q);
    f.answer = {"example.com. 300 IN MX 10 mx.example.com.",
                "example.com. 300 IN MX 20 mx2.example.com."};
    f.additional = {"mx.example.com. 300 IN A 192.0.2.1"};
    const auto good = build_response(f);
    for (std::size_t i = 0; i < good.size(); ++i) {
      for (int v : {0x00, 0x01, 0x3f, 0xc0, 0xff}) {
        MxLookup lookup("example.com", 26);  // same seed: same query id
        REQUIRE(lookup.start().at(0).id == q.id);
        auto bad = good;
        bad[i] = static_cast<std::uint8_t>(v);
        auto adv = lookup.on_response(bad);
        for (const auto& next : adv.queries) lookup.on_timeout(next.id);
        if (adv.accepted) {
          CHECK(lookup.done());
        } else {
          CHECK_FALSE(lookup.done());
        }
      }
    }
  }
}
