// TXT and TLSA records on the wire, the AD/DO bits of a DNSSEC query, RecordLookup, and the
// MX answer's `secure` flag.
#include "core/dns/record_lookup.hpp"

#include <catch2/catch.hpp>

#include "response_builder.hpp"

using namespace volley::dns;
using volley::dns::test::build_response;
using volley::dns::test::FakeResponse;
using volley::dns::test::reply_to;

namespace {

using Bytes = std::vector<std::uint8_t>;

LookupLimits dnssec_limits() {
  LookupLimits l;
  l.dnssec = true;
  return l;
}

const std::string soa = "example. 3600 IN SOA ns.example. host.example. 1 2 3 4 120";

// Starts `lookup` and answers its one query with `answer` (empty: NODATA with an SOA).
MxLookup::Advance answer_first(RecordLookup& lookup, std::vector<std::string> answer,
                               bool ad = false, std::uint8_t rc = 0) {
  auto qs = lookup.start();
  REQUIRE(qs.size() == 1);
  auto r = reply_to(qs[0], rc);
  r.answer = std::move(answer);
  r.authenticated = ad;
  if (r.answer.empty()) r.authority = {soa};
  return lookup.on_response(build_response(r));
}

}  // namespace

TEST_CASE("a DNSSEC query sets AD in the header and DO in the OPT record", "[dns][wire]") {
  auto q = encode_query(0x1234, "example.com", RrType::tlsa, false, true);
  REQUIRE(q);
  CHECK((*q)[2] == 0x01);  // RD
  CHECK((*q)[3] == 0x20);  // AD (RFC 6840 §5.7)
  CHECK((*q)[11] == 1);    // ARCOUNT: EDNS0 even though not asked for separately
  CHECK((*q)[26] == 52);   // QTYPE TLSA
  const Bytes opt(q->end() - 11, q->end());
  CHECK(opt == Bytes{0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00});

  auto plain = encode_query(0x1234, "example.com", RrType::txt, true, false);
  REQUIRE(plain);
  CHECK((*plain)[3] == 0x00);
  CHECK((*plain)[plain->size() - 5] == 0x00);  // DO clear
}

TEST_CASE("a hand-written TXT response decodes, strings joined per record, AD read",
          "[dns][wire]") {
  const Bytes wire = {
      0x00, 0x07, 0x81, 0xa0, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,  // QR RD RA AD
      1, 'a', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0x00, 0x10, 0x00, 0x01,
      // a.example TXT "v=STSv1; " "id=1" (two strings), TTL 600
      0xc0, 0x0c, 0x00, 0x10, 0x00, 0x01, 0x00, 0x00, 0x02, 0x58, 0x00, 0x0f, 9, 'v', '=', 'S',
      'T', 'S', 'v', '1', ';', ' ', 4, 'i', 'd', '=', '1',
      // a.example TXT "" "\0\xff" (an empty string, then binary bytes)
      0xc0, 0x0c, 0x00, 0x10, 0x00, 0x01, 0x00, 0x00, 0x02, 0x58, 0x00, 0x04, 0, 2, 0x00, 0xff};
  std::string why;
  auto r = decode_response(wire, &why);
  INFO(why);
  REQUIRE(r);
  CHECK(r->authenticated);
  REQUIRE(r->answers.size() == 2);
  CHECK(r->answers[0].type == RrType::txt);
  CHECK(r->answers[0].name == "a.example");
  CHECK(r->answers[0].ttl == 600);
  CHECK(r->answers[0].data == "v=STSv1; id=1");
  CHECK(r->answers[1].data == std::string("\0\xff", 2));

  SECTION("a character-string running past its record is skipped, not read") {
    Bytes bad = wire;
    bad[bad.size() - 3] = 3;  // claims 3 bytes where 2 are left
    auto b = decode_response(bad);
    if (b) {
      REQUIRE(b->answers.size() == 1);
      CHECK(b->answers[0].data == "v=STSv1; id=1");
    }
  }
}

TEST_CASE("a hand-written TLSA response decodes", "[dns][wire]") {
  const Bytes wire = {
      0x00, 0x08, 0x81, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
      3, '_', '2', '5', 4, '_', 't', 'c', 'p', 2, 'm', 'x', 0, 0x00, 0x34, 0x00, 0x01,
      // _25._tcp.mx TLSA 3 1 1 <4 bytes>, TTL 300
      0xc0, 0x0c, 0x00, 0x34, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x07, 3, 1, 1, 0xde,
      0xad, 0xbe, 0xef};
  auto r = decode_response(wire);
  REQUIRE(r);
  CHECK_FALSE(r->authenticated);
  REQUIRE(r->answers.size() == 1);
  const Record& t = r->answers[0];
  CHECK(t.type == RrType::tlsa);
  CHECK(t.name == "_25._tcp.mx");
  CHECK(t.usage == 3);
  CHECK(t.selector == 1);
  CHECK(t.mtype == 1);
  CHECK(t.data == std::string("\xde\xad\xbe\xef", 4));
}

TEST_CASE("TXT lookup: records, TTL clamp, secure only with dnssec and AD", "[dns][records]") {
  const std::vector<std::string> txt = {
      "_mta-sts.example.com. 5 IN TXT \"v=STSv1; \" \"id=20261205\"",
      "_mta-sts.example.com. 900 IN TXT \"other\""};
  SECTION("dnssec on, AD set") {
    RecordLookup lookup("_MTA-STS.example.com.", RrType::txt, 1, dnssec_limits());
    CHECK(lookup.name() == "_mta-sts.example.com");
    auto adv = answer_first(lookup, txt, true);
    CHECK(adv.accepted);
    CHECK(adv.queries.empty());
    REQUIRE(lookup.done());
    const TxtResolution r = to_txt(lookup.result());
    CHECK(r.status == Status::ok);
    CHECK(r.texts == std::vector<std::string>{"v=STSv1; id=20261205", "other"});
    CHECK(r.ttl == 30);  // min TTL 5, clamped up to min_ttl
    CHECK(r.secure);
  }
  SECTION("dnssec on, AD clear") {
    RecordLookup lookup("_mta-sts.example.com", RrType::txt, 1, dnssec_limits());
    answer_first(lookup, txt, false);
    CHECK(lookup.result().status == Status::ok);
    CHECK_FALSE(lookup.result().secure);
  }
  SECTION("dnssec off: AD is not believed") {
    RecordLookup lookup("_mta-sts.example.com", RrType::txt, 1);
    answer_first(lookup, txt, true);
    CHECK(lookup.result().status == Status::ok);
    CHECK_FALSE(lookup.result().secure);
  }
  SECTION("the query asks for AD only with dnssec") {
    RecordLookup with("x.example", RrType::txt, 1, dnssec_limits());
    RecordLookup without("x.example", RrType::txt, 1);
    CHECK(with.start().at(0).wire[3] == 0x20);
    CHECK(without.start().at(0).wire[3] == 0x00);
  }
}

TEST_CASE("TXT lookup: NXDOMAIN and NODATA are perm_fail, SERVFAIL and timeouts temp_fail",
          "[dns][records]") {
  SECTION("NXDOMAIN, authenticated: a secure denial with the SOA's negative TTL") {
    RecordLookup lookup("nope.example", RrType::txt, 1, dnssec_limits());
    answer_first(lookup, {}, true, rcode::nxdomain);
    const auto& r = lookup.result();
    CHECK(r.status == Status::perm_fail);
    CHECK(r.error == "NXDOMAIN");
    CHECK(r.ttl == 120);
    CHECK(r.secure);
  }
  SECTION("NODATA") {
    RecordLookup lookup("empty.example", RrType::txt, 1);
    answer_first(lookup, {});
    CHECK(lookup.result().status == Status::perm_fail);
    CHECK(lookup.result().error == "no TXT record");
  }
  SECTION("records of another type or owner do not count") {
    RecordLookup lookup("x.example", RrType::txt, 1);
    answer_first(lookup, {"x.example. 300 IN A 192.0.2.1", "y.example. 300 IN TXT \"hi\""});
    CHECK(lookup.result().status == Status::perm_fail);
  }
  SECTION("SERVFAIL (a bogus answer from a validating resolver) is temp_fail, never secure") {
    RecordLookup lookup("bogus.example", RrType::tlsa, 1, dnssec_limits());
    answer_first(lookup, {}, false, rcode::servfail);
    CHECK(lookup.result().status == Status::temp_fail);
    CHECK(lookup.result().error == "SERVFAIL");
    CHECK(lookup.result().ttl == 30);
    CHECK_FALSE(lookup.result().secure);
  }
  SECTION("timeout") {
    RecordLookup lookup("x.example", RrType::txt, 1);
    auto qs = lookup.start();
    CHECK(lookup.on_timeout(static_cast<std::uint16_t>(qs[0].id + 1)).empty());
    CHECK_FALSE(lookup.done());
    lookup.on_timeout(qs[0].id);
    CHECK(lookup.done());
    CHECK(lookup.result().status == Status::temp_fail);
    CHECK(lookup.result().error == "timeout");
  }
  SECTION("truncated") {
    RecordLookup lookup("x.example", RrType::txt, 1);
    auto qs = lookup.start();
    auto r = reply_to(qs[0]);
    r.truncated = true;
    CHECK(lookup.on_response(build_response(r)).accepted);
    CHECK(lookup.result().status == Status::temp_fail);
  }
  SECTION("an invalid name fails at once") {
    RecordLookup lookup("bad..name", RrType::txt, 1);
    CHECK(lookup.start().empty());
    CHECK(lookup.done());
    CHECK(lookup.result().status == Status::perm_fail);
    CHECK_FALSE(lookup.result().secure);
  }
  SECTION("a response to another question is refused") {
    RecordLookup lookup("x.example", RrType::txt, 1);
    auto qs = lookup.start();
    auto r = reply_to(qs[0]);
    r.qname = "y.example";
    r.answer = {"y.example. 300 IN TXT \"hi\""};
    CHECK_FALSE(lookup.on_response(build_response(r)).accepted);
    CHECK_FALSE(lookup.done());
    CHECK_FALSE(lookup.on_response(Bytes{1, 2, 3}).accepted);
  }
}

TEST_CASE("TLSA lookup follows CNAMEs, secure only if every step was", "[dns][records]") {
  CHECK(tlsa_name("mx.example.com", 25) == "_25._tcp.mx.example.com");
  const std::string name = tlsa_name("mx.example.com", 25);
  const std::string tlsa_rr =
      "_25._tcp.mx.example.net. 600 IN TLSA 3 1 1 "
      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

  SECTION("chain and target in one answer") {
    RecordLookup lookup(name, RrType::tlsa, 7, dnssec_limits());
    answer_first(lookup,
                 {"_25._tcp.mx.example.com. 100 IN CNAME _25._tcp.mx.example.net.", tlsa_rr},
                 true);
    const TlsaResolution r = to_tlsa(lookup.result());
    REQUIRE(r.status == Status::ok);
    REQUIRE(r.records.size() == 1);
    CHECK(r.records[0].usage == 3);
    CHECK(r.records[0].selector == 1);
    CHECK(r.records[0].mtype == 1);
    CHECK(r.records[0].data.size() == 32);
    CHECK(static_cast<unsigned char>(r.records[0].data[0]) == 0x01);
    CHECK(r.ttl == 100);  // the CNAME's TTL is the lower one
    CHECK(r.secure);
  }
  SECTION("the server stopped at the alias: the target is asked, an insecure step taints") {
    RecordLookup lookup(name, RrType::tlsa, 7, dnssec_limits());
    auto adv = answer_first(
        lookup, {"_25._tcp.mx.example.com. 100 IN CNAME _25._tcp.mx.example.net."}, false);
    REQUIRE(adv.queries.size() == 1);
    CHECK(adv.queries[0].name == "_25._tcp.mx.example.net");
    CHECK(adv.queries[0].type == RrType::tlsa);
    auto r = reply_to(adv.queries[0]);
    r.answer = {tlsa_rr};
    r.authenticated = true;
    CHECK(lookup.on_response(build_response(r)).accepted);
    CHECK(lookup.result().status == Status::ok);
    CHECK_FALSE(lookup.result().secure);
  }
  SECTION("a CNAME loop is a temp_fail") {
    RecordLookup lookup("a.example", RrType::tlsa, 7);
    answer_first(lookup, {"a.example. 60 IN CNAME b.example.", "b.example. 60 IN CNAME a.example."});
    CHECK(lookup.result().status == Status::temp_fail);
    CHECK(lookup.result().error == "CNAME chain too long");
  }
}

TEST_CASE("MX answers are secure only with dnssec and AD on every MX response", "[dns][mx]") {
  auto run = [](LookupLimits limits, bool ad) {
    MxLookup lookup("example.com", 1, limits);
    auto qs = lookup.start();
    REQUIRE(qs.size() == 1);
    CHECK((qs[0].wire[3] == 0x20) == limits.dnssec);
    auto r = reply_to(qs[0]);
    r.answer = {"example.com. 300 IN MX 10 mx.example.com."};
    r.additional = {"mx.example.com. 300 IN A 192.0.2.1"};
    r.authenticated = ad;
    lookup.on_response(build_response(r));
    REQUIRE(lookup.done());
    CHECK(lookup.result().status == Status::ok);
    return lookup.result().secure;
  };
  CHECK(run(dnssec_limits(), true));
  CHECK_FALSE(run(dnssec_limits(), false));
  CHECK_FALSE(run(LookupLimits{}, true));

  SECTION("an insecure CNAME step taints the MX answer") {
    MxLookup lookup("alias.example.com", 1, dnssec_limits());
    auto qs = lookup.start();
    auto r = reply_to(qs[0]);
    r.answer = {"alias.example.com. 300 IN CNAME example.net."};
    auto adv = lookup.on_response(build_response(r));
    REQUIRE(adv.queries.size() == 1);
    auto r2 = reply_to(adv.queries[0]);
    r2.answer = {"example.net. 300 IN MX 10 mx.example.net."};
    r2.additional = {"mx.example.net. 300 IN A 192.0.2.2"};
    r2.authenticated = true;
    lookup.on_response(build_response(r2));
    REQUIRE(lookup.done());
    CHECK(lookup.result().status == Status::ok);
    CHECK_FALSE(lookup.result().secure);
  }
  SECTION("an authenticated NXDOMAIN is a secure perm_fail") {
    MxLookup lookup("gone.example.com", 1, dnssec_limits());
    auto qs = lookup.start();
    auto r = reply_to(qs[0], rcode::nxdomain);
    r.authority = {soa};
    r.authenticated = true;
    lookup.on_response(build_response(r));
    CHECK(lookup.result().status == Status::perm_fail);
    CHECK(lookup.result().secure);
  }
}
