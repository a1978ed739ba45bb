#include <catch2/catch.hpp>

#include <string>

#include "core/message/address.hpp"

using volley::message::parse_address;

namespace {

struct Bad {
  std::string input;
  std::string error;
};

}  // namespace

TEST_CASE("parse_address accepts RFC 5321 mailboxes") {
  const char* valid[] = {
      "a@b.example",
      "user.name+tag@example.com",
      "x@localhost",
      "!#$%&'*+-/=?^_`{|}~@example.org",
      "\"quoted local\"@example.com",
      "\"a@b\"@example.com",
      "\"esc\\\"aped\"@example.com",
      "user@[192.0.2.1]",
      "user@[IPv6:2001:db8::1]",
      "user@xn--bcher-kva.example",
      "user@a-b.c-d.example",
      "用户@例子.广告",
      "josé@example.com",
      "user@bücher.example",
      "u@123.example",
  };
  for (const char* s : valid) {
    INFO(s);
    std::string err;
    auto box = parse_address(s, &err);
    CHECK(box.has_value());
    CHECK(err.empty());
    if (box) CHECK(box->address() == s);
  }
}

TEST_CASE("parse_address refuses broken addresses with a short reason") {
  std::string l64(64, 'l'), l65(65, 'l');
  std::string label63(63, 'd'), label64(64, 'd');
  std::string long_domain;  // 4 * 64 - 1 = 255 octets
  for (int i = 0; i < 4; ++i) long_domain += (i ? "." : "") + label63;
  std::string too_long_domain = long_domain + "x";  // 256
  const Bad bad[] = {
      {"", "empty address"},
      {"plain", "missing @"},
      {"@example.com", "empty local part"},
      {"user@", "missing domain"},
      {"a@b@c.example", "more than one @"},
      {".user@example.com", "local part starts or ends with a dot"},
      {"user.@example.com", "local part starts or ends with a dot"},
      {"us..er@example.com", "local part has two dots in a row"},
      {"us er@example.com", "space in local part"},
      {"us(er@example.com", "invalid character '(' in local part"},
      {"us,er@example.com", "invalid character ',' in local part"},
      {"<user@example.com>", "angle brackets in address (give only local@domain; a display name goes in \"name\")"},
      {"Name <user@example.com>", "angle brackets in address (give only local@domain; a display name goes in \"name\")"},
      {"user@example.com\r\nBcc: x@y.example", "CR, LF or NUL in address"},
      {"user@exa\nmple.com", "CR, LF or NUL in address"},
      {std::string("user@exa\0mple.com", 17), "CR, LF or NUL in address"},
      {"us\ter@example.com", "control character in address"},
      {"us\x7f" "er@example.com", "control character in address"},
      {"us\xc2\x85" "er@example.com", "control character in address"},  // U+0085 NEL
      {"us\xff" "er@example.com", "address is not valid UTF-8"},
      {"us\xc0\xae" "er@example.com", "address is not valid UTF-8"},  // overlong '.'
      {"\"unterminated@example.com", "unterminated quoted local part"},
      {"\"\"@example.com", "empty local part"},
      {"\"a\"b@example.com", "text after quoted local part"},
      {"\"a\\\x01\"@example.com", "control character in address"},
      {"user@.example.com", "domain has an empty label"},
      {"user@example..com", "domain has an empty label"},
      {"user@example.com.", "domain has an empty label"},
      {"user@-example.com", "domain label starts or ends with a hyphen"},
      {"user@example-.com", "domain label starts or ends with a hyphen"},
      {"user@exa_mple.com", "invalid character '_' in domain"},
      {"user@exa mple.com", "space in domain"},
      {"user@192.0.2.1", "top-level domain label is numeric (write an IP address as [1.2.3.4])"},
      {"user@[192.0.2.256]", "invalid address literal"},
      {"user@[192.0.2.1", "unterminated address literal"},
      {"user@[IPv6:zz::1]", "invalid IPv6 address literal"},
      {"user@[x]", "invalid address literal"},
      {l65 + "@example.com", "local part longer than 64 octets"},
      {"u@" + label64 + ".example", "domain label longer than 63 octets"},
      {"u@" + too_long_domain, "domain longer than 255 octets"},
      {l64 + "@" + long_domain, "address longer than 254 octets"},
  };
  for (const auto& b : bad) {
    INFO(b.input);
    std::string err;
    auto box = parse_address(b.input, &err);
    CHECK_FALSE(box.has_value());
    CHECK(err == b.error);
  }
}

TEST_CASE("address length limits are inclusive") {
  std::string err;
  std::string local(64, 'l');
  CHECK(parse_address(local + "@example.com", &err));
  // 254 octets in all: 64 + 1 + 189.
  std::string domain = std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(61, 'c');
  REQUIRE(domain.size() == 189);
  CHECK(parse_address(local + "@" + domain, &err));
  CHECK_FALSE(parse_address(local + "@" + domain + "c", &err));
  CHECK(err == "address longer than 254 octets");
}

TEST_CASE("mailbox keys and SMTPUTF8 detection") {
  std::string err;
  auto box = parse_address("Alice.Smith@Example.COM", &err);
  REQUIRE(box);
  CHECK(box->local == "Alice.Smith");
  CHECK(box->domain == "Example.COM");
  CHECK(box->domain_key() == "example.com");
  CHECK_FALSE(box->needs_smtputf8());
  CHECK(parse_address("josé@example.com", &err)->needs_smtputf8());
  CHECK(parse_address("jose@bücher.example", &err)->needs_smtputf8());
  CHECK(parse_address("u@[192.0.2.1]", &err)->domain_key() == "[192.0.2.1]");
}
