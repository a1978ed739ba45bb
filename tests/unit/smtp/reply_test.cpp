#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/smtp/reply.hpp"

using volley::smtp::Reply;
using volley::smtp::ReplyParser;
using namespace std::string_literals;

namespace {

std::vector<Reply> parse_all(ReplyParser& p) {
  std::vector<Reply> out;
  while (auto r = p.next()) out.push_back(std::move(*r));
  return out;
}

std::vector<Reply> parse(std::string_view bytes) {
  ReplyParser p;
  p.feed(bytes);
  REQUIRE_FALSE(p.failed());
  return parse_all(p);
}

// The parser's failure message for `bytes`, "" when it did not fail.
std::string failure(std::string_view bytes) {
  ReplyParser p;
  p.feed(bytes);
  return p.error();
}

bool same(const Reply& a, const Reply& b) {
  return a.code == b.code && a.enhanced == b.enhanced && a.lines == b.lines;
}

}  // namespace

TEST_CASE("reply: single-line replies with CRLF or bare LF") {
  auto rs = parse("220 mx.example.com ESMTP ready\r\n250 ok\n");
  REQUIRE(rs.size() == 2);
  CHECK(rs[0].code == 220);
  CHECK(rs[0].enhanced.empty());
  CHECK(rs[0].lines == std::vector<std::string>{"mx.example.com ESMTP ready"});
  CHECK(rs[0].positive());
  CHECK(rs[1].code == 250);
  CHECK(rs[1].text() == "ok");
}

TEST_CASE("reply: a code alone is a complete reply, a code and a space too") {
  auto rs = parse("250\r\n354 \r\n");
  REQUIRE(rs.size() == 2);
  CHECK(rs[0].code == 250);
  CHECK(rs[0].lines == std::vector<std::string>{""});
  CHECK(rs[0].summary() == "250");
  CHECK(rs[1].code == 354);
}

TEST_CASE("reply: multi-line reply is one reply, completed only by its last line") {
  ReplyParser p;
  p.feed("250-mx.example.com hello\r\n250-PIPELINING\r\n");
  CHECK_FALSE(p.next());
  p.feed("250-SIZE 10240000\r\n250 8BITMIME\r\n");
  auto r = p.next();
  REQUIRE(r);
  CHECK(r->code == 250);
  CHECK(r->lines == std::vector<std::string>{"mx.example.com hello", "PIPELINING", "SIZE 10240000", "8BITMIME"});
  CHECK(r->text() == "mx.example.com hello PIPELINING SIZE 10240000 8BITMIME");
  CHECK_FALSE(p.next());
  CHECK(p.buffered() == 0);
}

TEST_CASE("reply: split at every byte position gives the same replies") {
  const std::string stream =
      "220 mx.test ESMTP\r\n"
      "250-mx.test\r\n250-PIPELINING\n250 SIZE 100\r\n"
      "550-5.1.1 The email account that you tried to reach does not exist.\r\n"
      "550-5.1.1 Please try double-checking the recipient's email\r\n"
      "550 5.1.1 address.\r\n"
      "354 go ahead\r\n"
      "250 2.0.0 Ok: queued as 4F1\r\n";
  const auto whole = parse(stream);
  REQUIRE(whole.size() == 5);
  for (std::size_t a = 0; a <= stream.size(); ++a) {
    for (std::size_t b = a; b <= stream.size(); b += 7) {  // three pieces: [0,a) [a,b) [b,end)
      ReplyParser p;
      p.feed(std::string_view(stream).substr(0, a));
      p.feed(std::string_view(stream).substr(a, b - a));
      p.feed(std::string_view(stream).substr(b));
      REQUIRE_FALSE(p.failed());
      auto got = parse_all(p);
      REQUIRE(got.size() == whole.size());
      for (std::size_t i = 0; i < got.size(); ++i) REQUIRE(same(got[i], whole[i]));
    }
  }
  // And one byte at a time.
  ReplyParser p;
  for (char c : stream) p.feed(std::string_view(&c, 1));
  auto got = parse_all(p);
  REQUIRE(got.size() == whole.size());
  for (std::size_t i = 0; i < got.size(); ++i) CHECK(same(got[i], whole[i]));
}

TEST_CASE("reply: buffered() counts bytes of an incomplete line") {
  ReplyParser p;
  p.feed("250 ok\r\n220 rea");
  CHECK(p.buffered() == 7);
  p.feed("dy\r\n");
  CHECK(p.buffered() == 0);
}

TEST_CASE("reply: enhanced status codes (RFC 3463)") {
  SECTION("on the first line, class matching the reply") {
    auto r = parse("550 5.1.1 <nobody@example.com>: Recipient address rejected\r\n").at(0);
    CHECK(r.enhanced == "5.1.1");
    CHECK(r.lines.at(0) == "5.1.1 <nobody@example.com>: Recipient address rejected");
    CHECK(r.text() == "<nobody@example.com>: Recipient address rejected");
    CHECK(r.summary() == "550 5.1.1 <nobody@example.com>: Recipient address rejected");
    CHECK(r.permanent());
  }
  SECTION("three-digit subject and detail, and a code with no text after it") {
    CHECK(parse("452 4.123.456 later\r\n").at(0).enhanced == "4.123.456");
    auto r = parse("250 2.0.0\r\n").at(0);
    CHECK(r.enhanced == "2.0.0");
    CHECK(r.text().empty());
    CHECK(r.summary() == "250 2.0.0");
  }
  SECTION("repeated on every line of a multi-line reply: removed from the text each time") {
    auto r = parse("550-5.7.1 Message rejected\r\n550-5.7.1 see https://x.test/why\r\n550 5.7.1 bye\r\n").at(0);
    CHECK(r.enhanced == "5.7.1");
    CHECK(r.text() == "Message rejected see https://x.test/why bye");
  }
  SECTION("not an enhanced code") {
    CHECK(parse("550 4.1.1 class does not match\r\n").at(0).enhanced.empty());
    CHECK(parse("354 2.0.0 3xx never has one\r\n").at(0).enhanced.empty());
    CHECK(parse("550 5.1.1x glued\r\n").at(0).enhanced.empty());
    CHECK(parse("550 5.1234.1 subject too long\r\n").at(0).enhanced.empty());
    CHECK(parse("550 5..1 empty subject\r\n").at(0).enhanced.empty());
    CHECK(parse("550 5.1. empty detail\r\n").at(0).enhanced.empty());
    CHECK(parse("550 5.1\r\n").at(0).enhanced.empty());
    CHECK(parse("250-first line\r\n250 2.0.0 second line\r\n").at(0).enhanced.empty());
  }
}

TEST_CASE("reply: synthetic replies look like parsed ones") {
  auto r = Reply::synthetic(451, "4.4.2", "timeout waiting for RCPT reply");
  CHECK(r.code == 451);
  CHECK(r.enhanced == "4.4.2");
  CHECK(r.transient());
  CHECK(r.text() == "timeout waiting for RCPT reply");
  CHECK(r.summary() == "451 4.4.2 timeout waiting for RCPT reply");
  CHECK(same(r, parse("451 4.4.2 timeout waiting for RCPT reply\r\n").at(0)));
  auto plain = Reply::synthetic(554, "", "no");
  CHECK(plain.summary() == "554 no");
}

TEST_CASE("reply: summary is one printable, valid UTF-8, bounded line") {
  std::string hostile = "550 bad\x01\x1b[31m\t\xff\xc3\x28 caf\xc3\xa9 \xe2\x82\xac\r\r\n";
  auto r = parse(hostile).at(0);
  CHECK(r.summary() == "550 bad??[31m ?\?( caf\xc3\xa9 \xe2\x82\xac?");

  std::string big;
  for (int i = 0; i < 100; ++i) big += "550-" + std::string(1000, 'x') + "\r\n";
  big += "550 end\r\n";
  auto s = parse(big).at(0).summary();
  CHECK(s.size() <= 1024 + 3);
  CHECK(s.substr(s.size() - 3) == "...");
}

TEST_CASE("reply: hostile input fails the parser with a clear error") {
  SECTION("a 10 MB line, without buffering it") {
    ReplyParser p;
    std::string chunk(64 * 1024, 'a');
    chunk.replace(0, 4, "250 ");
    for (int i = 0; i < 160 && !p.failed(); ++i) {
      p.feed(chunk);
      CHECK(p.buffered() <= ReplyParser::kMaxLineLength + 1);
      if (i == 0) chunk.assign(chunk.size(), 'a');
    }
    CHECK(p.failed());
    CHECK(p.error() == "reply line longer than 4096 bytes");
    CHECK(p.buffered() == 0);
    p.feed("250 ok\r\n");  // a failed parser stays failed and takes nothing more
    CHECK_FALSE(p.next());
  }
  SECTION("a line one byte over the limit, in one feed, fails; at the limit it passes") {
    std::string at_limit = "250 " + std::string(ReplyParser::kMaxLineLength - 4, 'x');
    CHECK(failure(at_limit + "\r\n").empty());
    CHECK(failure(at_limit + "\n").empty());
    CHECK(failure(at_limit + "y\r\n") == "reply line longer than 4096 bytes");
  }
  SECTION("too many lines") {
    std::string many;
    for (std::size_t i = 0; i < ReplyParser::kMaxLines; ++i) many += "250-x\r\n";
    CHECK(failure(many).empty());
    CHECK(failure(many + "250 x\r\n") == "reply longer than 512 lines");
  }
  SECTION("garbage instead of a code") {
    CHECK(failure("HTTP/1.1 400 Bad Request\r\n") == "reply does not start with a 3-digit code: \"HTTP/1.1 400 Bad Request\"");
    CHECK(failure("25\r\n") == "reply does not start with a 3-digit code: \"25\"");
    CHECK(failure("\r\n") == "reply does not start with a 3-digit code: \"\"");
    CHECK(failure("2x0 ok\r\n").find("3-digit code") != std::string::npos);
    CHECK(failure("\x00\x01\x02 binary\n"s).find("3-digit code: \"??? binary\"") != std::string::npos);
    CHECK(failure("250ok\r\n") == "no space or '-' after reply code: \"250ok\"");
  }
  SECTION("code out of range") {
    CHECK(failure("199 x\r\n") == "reply code 199 out of range 200..599");
    CHECK(failure("600 x\r\n") == "reply code 600 out of range 200..599");
    CHECK(failure("000 x\r\n") == "reply code 0 out of range 200..599");
  }
  SECTION("code changing inside a multi-line reply") {
    CHECK(failure("250-first\r\n550 second\r\n") == "reply code changed from 250 to 550 inside a multi-line reply");
  }
  SECTION("replies completed before the failure are still delivered") {
    ReplyParser p;
    p.feed("250 ok\r\n220 fine\r\nbogus\r\n");
    CHECK(p.failed());
    auto rs = parse_all(p);
    REQUIRE(rs.size() == 2);
    CHECK(rs[1].code == 220);
  }
}
