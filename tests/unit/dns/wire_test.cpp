#include "core/dns/wire.hpp"

#include <catch2/catch.hpp>

#include <random>

#include "core/dns/names.hpp"
#include "response_builder.hpp"

using namespace volley::dns;
using volley::dns::test::build_response;
using volley::dns::test::FakeResponse;

namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes example_mx_query_no_edns() {
  return {0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // header, RD
          7,    'e',  'x',  'a',  'm',  'p',  'l',  'e',  3,    'c',  'o',  'm',
          0,    0x00, 0x0f, 0x00, 0x01};  // MX IN
}

// A response as a server writes it: compression pointers, upper case, two MX, one glue A.
Bytes handwritten_mx_response() {
  return {0xbe, 0xef, 0x81, 0x80, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01,  // header
          7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0x00, 0x0f, 0x00, 0x01,
          // offset 29: example.com MX 10 mx1.example.com, TTL 300
          0xc0, 0x0c, 0x00, 0x0f, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x08, 0x00, 0x0a, 3,
          'm', 'x', '1', 0xc0, 0x0c,  // "mx1" at offset 43
          // example.com MX 20 MX2.example.com, TTL 60
          0xc0, 0x0c, 0x00, 0x0f, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x08, 0x00, 0x14, 3,
          'M', 'X', '2', 0xc0, 0x0c,
          // additional: mx1.example.com A 192.0.2.1, TTL 3600
          0xc0, 0x2b, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x0e, 0x10, 0x00, 0x04, 192, 0, 2, 1};
}

}  // namespace

TEST_CASE("host names are normalised and validated", "[dns][wire]") {
  CHECK(normalize_host_name("Example.COM.") == "example.com");
  CHECK(normalize_host_name("_dmarc.xn--bcher-kva.example") == "_dmarc.xn--bcher-kva.example");
  CHECK_FALSE(normalize_host_name(""));
  CHECK_FALSE(normalize_host_name("."));
  CHECK_FALSE(normalize_host_name("a..b"));
  CHECK_FALSE(normalize_host_name(".a"));
  CHECK_FALSE(normalize_host_name("exa mple.com"));
  CHECK_FALSE(normalize_host_name("foo\\.bar"));
  CHECK_FALSE(normalize_host_name("[127.0.0.1]"));
  CHECK_FALSE(normalize_host_name(std::string("a\0b", 3)));
  CHECK(normalize_host_name(std::string(63, 'a') + ".com"));
  CHECK_FALSE(normalize_host_name(std::string(64, 'a') + ".com"));
  std::string long_name;
  while (long_name.size() < 250) long_name += "abcdefghi.";
  CHECK(normalize_host_name(long_name + "com"));  // 253
  CHECK_FALSE(normalize_host_name(long_name + "comm"));
}

TEST_CASE("a query encodes to the exact wire bytes", "[dns][wire]") {
  auto q = encode_query(0x1234, "Example.com.", RrType::mx, false);
  REQUIRE(q);
  CHECK(*q == example_mx_query_no_edns());

  SECTION("EDNS0 adds one OPT record advertising 1232 bytes") {
    auto e = encode_query(0x1234, "example.com", RrType::aaaa, true);
    REQUIRE(e);
    REQUIRE(e->size() == example_mx_query_no_edns().size() + 11);
    CHECK((*e)[11] == 1);     // ARCOUNT
    CHECK((*e)[26] == 0x1c);  // QTYPE AAAA
    const Bytes opt(e->end() - 11, e->end());
    CHECK(opt == Bytes{0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00});
  }
  SECTION("invalid names are refused") {
    CHECK_FALSE(encode_query(1, "", RrType::a));
    CHECK_FALSE(encode_query(1, "a..b", RrType::a));
    CHECK_FALSE(encode_query(1, "evil\\.name", RrType::a));
    CHECK_FALSE(encode_query(1, std::string(64, 'x'), RrType::a));
  }
}

TEST_CASE("a hand-written response decodes", "[dns][wire]") {
  std::string why;
  auto r = decode_response(handwritten_mx_response(), &why);
  INFO(why);
  REQUIRE(r);
  CHECK(r->id == 0xbeef);
  CHECK(r->rcode == rcode::noerror);
  CHECK_FALSE(r->truncated);
  REQUIRE(r->questions.size() == 1);
  CHECK(r->questions[0].name == "example.com");
  CHECK(r->questions[0].type == 15);
  CHECK(r->questions[0].qclass == 1);
  REQUIRE(r->answers.size() == 2);
  CHECK(r->answers[0].type == RrType::mx);
  CHECK(r->answers[0].name == "example.com");
  CHECK(r->answers[0].preference == 10);
  CHECK(r->answers[0].data == "mx1.example.com");
  CHECK(r->answers[0].ttl == 300);
  CHECK(r->answers[1].preference == 20);
  CHECK(r->answers[1].data == "mx2.example.com");
  CHECK(r->answers[1].ttl == 60);
  REQUIRE(r->additional.size() == 1);
  CHECK(r->additional[0].type == RrType::a);
  CHECK(r->additional[0].name == "mx1.example.com");
  CHECK(r->additional[0].data == "192.0.2.1");
  CHECK(r->additional[0].ttl == 3600);
  CHECK_FALSE(r->negative_ttl);
  CHECK(answers_query(*r, 0xbeef, "example.com", RrType::mx));
  CHECK_FALSE(answers_query(*r, 0xbeee, "example.com", RrType::mx));
  CHECK_FALSE(answers_query(*r, 0xbeef, "example.org", RrType::mx));
  CHECK_FALSE(answers_query(*r, 0xbeef, "example.com", RrType::a));
}

TEST_CASE("records of every kind decode, others are skipped", "[dns][wire]") {
  FakeResponse f;
  f.id = 7;
  f.qname = "alias.example.";
  f.qtype = RrType::aaaa;
  f.truncated = true;
  f.rcode = rcode::servfail;
  f.answer = {"ALIAS.Example. 30 IN CNAME Target.Example.",
              "target.example. 40 IN AAAA 2001:db8::1",
              "target.example. 40 IN SRV 0 0 25 mx.example.",
              "target.example. 40 CH A 10.0.0.1", "target.example. 50 IN A 10.0.0.2"};
  f.authority = {"example. 900 IN SOA ns.example. host.example. 1 2 3 4 120"};
  auto r = decode_response(build_response(f));
  REQUIRE(r);
  CHECK(r->id == 7);
  CHECK(r->truncated);
  CHECK(r->rcode == rcode::servfail);
  REQUIRE(r->answers.size() == 3);
  CHECK(r->answers[0].type == RrType::cname);
  CHECK(r->answers[0].name == "alias.example");
  CHECK(r->answers[0].data == "target.example");
  CHECK(r->answers[1].type == RrType::aaaa);
  CHECK(r->answers[1].data == "2001:db8::1");
  CHECK(r->answers[2].type == RrType::a);
  CHECK(r->answers[2].data == "10.0.0.2");
  CHECK(r->negative_ttl == 120u);  // min(SOA TTL 900, MINIMUM 120)

  f.authority = {"example. 90 IN SOA ns.example. host.example. 1 2 3 4 120"};
  CHECK(decode_response(build_response(f))->negative_ttl == 90u);
}

TEST_CASE("odd bytes in names cannot pass for other names", "[dns][wire]") {
  FakeResponse f;
  f.id = 1;
  f.qname = "example.com";
  f.answer = {"example.com. 60 IN MX 10 a\\.b\\032c\\000.example.com."};
  auto r = decode_response(build_response(f));
  REQUIRE(r);
  REQUIRE(r->answers.size() == 1);
  CHECK(r->answers[0].data == "a\\046b\\032c\\000.example.com");
  CHECK_FALSE(normalize_host_name(r->answers[0].data));
}

TEST_CASE("null MX decodes to an empty exchange", "[dns][wire]") {
  FakeResponse f;
  f.id = 1;
  f.qname = "nomail.example";
  f.answer = {"nomail.example. 60 IN MX 0 ."};
  auto r = decode_response(build_response(f));
  REQUIRE(r);
  REQUIRE(r->answers.size() == 1);
  CHECK(r->answers[0].data.empty());
}

TEST_CASE("garbage is an error, never a crash", "[dns][wire]") {
  std::string why;
  CHECK_FALSE(decode_response({}, &why));
  CHECK_FALSE(why.empty());
  CHECK_FALSE(decode_response(Bytes(11, 0)));
  CHECK_FALSE(decode_response(Bytes(max_message_size + 1, 0)));

  SECTION("a query is not a response") {
    CHECK_FALSE(decode_response(example_mx_query_no_edns(), &why));
    CHECK(why == "not a response (QR clear)");
  }
  SECTION("a compression loop") {
    Bytes loop = {0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c, 0, 15, 0, 1};
    CHECK_FALSE(decode_response(loop));
  }
  SECTION("counts larger than the message") {
    Bytes lie = handwritten_mx_response();
    lie[7] = 0xff;  // ANCOUNT 255
    CHECK_FALSE(decode_response(lie));
  }
  SECTION("every truncation of a valid response") {
    const Bytes full = handwritten_mx_response();
    for (std::size_t n = 0; n < full.size(); ++n) {
      CHECK_FALSE(decode_response(std::span(full.data(), n)));
    }
  }
  SECTION("every single-byte corruption of a valid response") {
    const Bytes full = handwritten_mx_response();
    for (std::size_t i = 0; i < full.size(); ++i) {
      for (int v : {0x00, 0x3f, 0x40, 0xc0, 0xff}) {
        Bytes b = full;
        b[i] = static_cast<std::uint8_t>(v);
        (void)decode_response(b);  // may decode or not; must not crash or leak
      }
    }
  }
  SECTION("random bytes behind a plausible header") {
    std::mt19937 rng(42);
    for (int round = 0; round < 20000; ++round) {
      Bytes b(12 + rng() % 300);
      for (auto& x : b) x = static_cast<std::uint8_t>(rng());
      b[2] |= 0x80;  // QR
      b[2] &= 0x87;  // opcode QUERY
      b[5] = 1;
      b[4] = 0;
      (void)decode_response(b);
    }
  }
}

TEST_CASE("PTR records decode to their target, reverse names are written per family", "[dns][wire]") {
  FakeResponse f;
  f.id = 3;
  f.qname = "10.2.0.192.in-addr.arpa.";
  f.qtype = RrType::ptr;
  f.answer = {"10.2.0.192.in-addr.arpa. 60 IN PTR Mail.Good.Test."};
  auto r = decode_response(build_response(f));
  REQUIRE(r);
  REQUIRE(r->answers.size() == 1);
  CHECK(r->answers[0].type == RrType::ptr);
  CHECK(r->answers[0].data == "mail.good.test");
  CHECK(reverse_name("192.0.2.10") == "10.2.0.192.in-addr.arpa");
  CHECK(reverse_name("2001:db8::1") ==
        "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
  CHECK_FALSE(reverse_name("mail.good.test"));
  CHECK_FALSE(reverse_name(""));
}
