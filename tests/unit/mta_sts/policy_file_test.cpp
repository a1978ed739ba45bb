#include "core/mta_sts/policy_file.hpp"

#include <catch2/catch.hpp>

using namespace volley;
using namespace volley::mta_sts;
using Mode = tls::StsPolicy::Mode;

TEST_CASE("sts policy: the RFC 8461 example, with CRLF") {
  std::string why;
  auto p = parse_sts_policy(
      "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmx: backupmx.example.com\r\n"
      "max_age: 604800\r\n",
      "id1", &why);
  INFO(why);
  REQUIRE(p);
  CHECK(p->mode == Mode::enforce);
  CHECK(p->mx == std::vector<std::string>{"mail.example.com", "*.example.net", "backupmx.example.com"});
  CHECK(p->max_age == std::chrono::seconds(604800));
  CHECK(p->id == "id1");
}

TEST_CASE("sts policy: LF, no final line end, case, blank lines and extensions") {
  std::string why;
  auto p = parse_sts_policy("Version:STSv1\nMODE:  Testing \n\nmx:\tMX1.Example.COM\nfoo: bar baz\nmax_age: 86400", "", &why);
  INFO(why);
  REQUIRE(p);
  CHECK(p->mode == Mode::testing);
  CHECK(p->mx == std::vector<std::string>{"mx1.example.com"});
  CHECK(p->max_age == std::chrono::seconds(86400));
}

TEST_CASE("sts policy: mode none needs no mx, max_age is capped at a year") {
  std::string why;
  auto p = parse_sts_policy("version: STSv1\nmode: none\nmax_age: 9999999999\n", "x", &why);
  INFO(why);
  REQUIRE(p);
  CHECK(p->mode == Mode::none);
  CHECK(p->mx.empty());
  CHECK(p->max_age == kMaxMaxAge);
}

TEST_CASE("sts policy: bad policies say why") {
  auto why_of = [](std::string_view body) {
    std::string why;
    auto p = parse_sts_policy(body, "i", &why);
    CHECK_FALSE(p);
    return why;
  };
  const std::string ok_tail = "mode: enforce\nmx: a.example\nmax_age: 60\n";
  CHECK(why_of("") == "no version");
  CHECK(why_of(ok_tail) == "no version");
  CHECK(why_of("version: STSv1\nmx: a.example\nmax_age: 60\n") == "no mode");
  CHECK(why_of("version: STSv1\nmode: enforce\nmx: a.example\n") == "no max_age");
  CHECK(why_of("version: STSv1\nmode: enforce\nmax_age: 60\n") == "mode enforce without any mx");
  CHECK(why_of("version: STSv1\nmode: testing\nmax_age: 60\n") == "mode testing without any mx");
  CHECK(why_of("version: STSv2\n" + ok_tail) == "line 1: version \"STSv2\" is not STSv1");
  CHECK(why_of("version: STSv1\nversion: STSv1\n" + ok_tail) == "line 2: version given twice");
  CHECK(why_of("version: STSv1\nmode: enforce\n" + ok_tail) == "line 3: mode given twice");
  CHECK(why_of("version: STSv1\nmax_age: 1\n" + ok_tail) == "line 5: max_age given twice");
  CHECK(why_of("version: STSv1\nmode: strict\n") == "line 2: mode \"strict\" is not enforce, testing or none");
  CHECK(why_of("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: -1\n") ==
        "line 4: max_age \"-1\" is not 1-10 digits");
  CHECK(why_of("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 12345678901\n") ==
        "line 4: max_age \"12345678901\" is not 1-10 digits");
  CHECK(why_of("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: \n") == "line 4: max_age \"\" is not 1-10 digits");
  CHECK(why_of("version: STSv1\njunk line\n") == "line 2: no ':' in \"junk line\"");
  CHECK(why_of(std::string("version: STSv1\nbad\x01\n", 19)) == "line 2: no ':' in \"bad?\"");
}

TEST_CASE("sts policy: mx patterns must be host names or one leading wildcard") {
  auto mx = [](std::string pattern) {
    std::string why;
    return parse_sts_policy("version: STSv1\nmode: enforce\nmax_age: 60\nmx: " + pattern + "\n", "", &why)
        .has_value();
  };
  CHECK(mx("mail.example.com"));
  CHECK(mx("*.example.com"));
  CHECK(mx("a-b.example"));
  CHECK_FALSE(mx(""));
  CHECK_FALSE(mx("*"));
  CHECK_FALSE(mx("*.com"));            // a wildcard over a TLD: only one label left
  CHECK_FALSE(mx("localhost"));        // one label
  CHECK_FALSE(mx("mail.*.example"));  // the wildcard only leads
  CHECK_FALSE(mx("**.example.com"));
  CHECK_FALSE(mx("mail..example"));
  CHECK_FALSE(mx("-mail.example"));
  CHECK_FALSE(mx("mail.example."));
  CHECK_FALSE(mx("mail_1.example"));
  CHECK_FALSE(mx("mail.example.com extra"));
  CHECK_FALSE(mx(std::string(64, 'a') + ".example"));
  CHECK_FALSE(mx("m\xc3\xa4il.example"));
}

TEST_CASE("sts policy: more than 64 KiB is refused, whatever it holds") {
  std::string body = "version: STSv1\nmode: none\nmax_age: 60\n";
  body += "x: " + std::string(kMaxPolicyBytes, 'y') + "\n";
  std::string why;
  CHECK_FALSE(parse_sts_policy(body, "", &why));
  CHECK(why.find("more than 65536") != std::string::npos);
}

TEST_CASE("sts policy: many mx lines and a hostile mix do not crash") {
  std::string body = "version: STSv1\r\nmode: enforce\r\nmax_age: 60\r\n";
  for (int i = 0; i < 1000; ++i) body += "mx: mx" + std::to_string(i) + ".example\r\n";
  auto p = parse_sts_policy(body, "", nullptr);
  REQUIRE(p);
  CHECK(p->mx.size() == 1000);
  for (std::string junk : {std::string("\r\r\r\n"), std::string(":\n"), std::string(1, '\0'), std::string("\n\n\n:::")}) {
    std::string why;
    (void)parse_sts_policy(junk, "", &why);
    CHECK_FALSE(why.empty());
  }
}

TEST_CASE("sts policy media type") {
  CHECK(is_policy_media_type("text/plain"));
  CHECK(is_policy_media_type("Text/Plain; charset=utf-8"));
  CHECK_FALSE(is_policy_media_type("text/html"));
  CHECK_FALSE(is_policy_media_type(""));
}
