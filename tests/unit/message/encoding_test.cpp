#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

#include "core/message/header_encoding.hpp"
#include "core/message/mime_builder.hpp"
#include "core/message/transfer_encoding.hpp"
#include "message_test_support.hpp"

using namespace volley::message;
using volley::test::crlf_lines;

namespace {

// Reference decoders, written from RFC 2045 / 2047 independently of the encoders.
std::string qp_decode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '=' && i + 2 < s.size() + 1 && s.compare(i, 3, "=\r\n") == 0) {
      i += 2;
    } else if (s[i] == '=') {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string unfold(std::string s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s.compare(i, 2, "\r\n") == 0 && i + 2 < s.size() && (s[i + 2] == ' ' || s[i + 2] == '\t')) {
      ++i;
      continue;
    }
    out += s[i];
  }
  return out;
}

}  // namespace

TEST_CASE("to_crlf normalises every line end") {
  CHECK(to_crlf("a\nb\r\nc\rd") == "a\r\nb\r\nc\r\nd");
  CHECK(to_crlf("\r\r\n\n") == "\r\n\r\n\r\n");
  CHECK(to_crlf("") == "");
}

TEST_CASE("base64 encodes in 76-column lines and decodes strictly") {
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("f") == "Zg==");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("foo") == "Zm9v");
  CHECK(base64_encode(std::string("\x00\xff\xfe", 3)) == "AP/+");
  std::string data(200, '\x5a');
  auto enc = base64_encode_lines(data);
  for (const auto& l : crlf_lines(enc)) CHECK(l.size() <= 76);
  CHECK(enc.size() >= 2);
  CHECK(enc.substr(enc.size() - 2) == "\r\n");

  std::size_t bad = 99;
  CHECK(base64_decode("Zm9v", &bad) == std::string("foo"));
  CHECK(base64_decode("Zm8=", &bad) == std::string("fo"));
  CHECK(base64_decode("Zg==", &bad) == std::string("f"));
  CHECK(base64_decode("", &bad) == std::string(""));
  CHECK(base64_decode("Zm9v\r\nYmFy\n", &bad) == std::string("foobar"));
  CHECK(*base64_decode(enc, &bad) == data);

  CHECK_FALSE(base64_decode("Zm9", &bad));  // missing padding
  CHECK(bad == 3);
  CHECK_FALSE(base64_decode("Zm9v!", &bad));
  CHECK(bad == 4);
  CHECK_FALSE(base64_decode("Zg=a", &bad));  // data after padding
  CHECK(bad == 3);
  CHECK_FALSE(base64_decode("Z===", &bad));
  CHECK(bad == 1);
  CHECK_FALSE(base64_decode("Zm9v=", &bad));
  CHECK_FALSE(base64_decode("Zm-_", &bad));  // URL-safe alphabet is not base64
  CHECK_FALSE(base64_decode("Zg==Zg==", &bad));
}

TEST_CASE("quoted-printable keeps lines within 76 and round-trips") {
  SECTION("plain ASCII stays readable, = is escaped") {
    CHECK(quoted_printable_encode("a=b\r\nc") == "a=3Db\r\nc");
  }
  SECTION("trailing whitespace is encoded") {
    CHECK(quoted_printable_encode("end \r\ntab\t\r\n") == "end=20\r\ntab=09\r\n");
    CHECK(quoted_printable_encode("x ") == "x=20");
  }
  SECTION("UTF-8 becomes hex octets") {
    CHECK(quoted_printable_encode("café") == "caf=C3=A9");
  }
  SECTION("long lines get soft breaks, never splitting =XX, never a space before =") {
    std::vector<std::string> inputs = {
        std::string(300, 'a'), std::string(100, ' ') + "x", std::string(120, '=') ,
        "héllo wörld ",  // short
    };
    std::string mixed;
    for (int i = 0; i < 40; ++i) mixed += "ab é  ";
    inputs.push_back(mixed);
    std::string spaces_at_break = std::string(72, 'a') + "  " + std::string(10, 'b');
    inputs.push_back(spaces_at_break);
    for (const auto& in : inputs) {
      INFO(in);
      std::string enc = quoted_printable_encode(in);
      for (const auto& l : crlf_lines(enc)) {
        CHECK(l.size() <= 76);
        if (!l.empty()) {
          CHECK(l.back() != ' ');
          CHECK(l.back() != '\t');
          if (l.back() == '=' && l.size() >= 2) CHECK((l[l.size() - 2] != ' ' && l[l.size() - 2] != '\t'));
        }
        for (char c : l) CHECK((c >= 32 && c <= 126));
      }
      CHECK(qp_decode(enc) == in);
    }
  }
  SECTION("control characters and CR/LF inside text") {
    std::string in = std::string("nul\0here", 8) + "\r\nline2";
    CHECK(quoted_printable_encode(in) == "nul=00here\r\nline2");
  }
}

TEST_CASE("fits_7bit is for printable ASCII with short lines") {
  CHECK(fits_7bit("hello\r\nworld\r\n"));
  CHECK(fits_7bit("tab\there"));
  CHECK_FALSE(fits_7bit("café"));
  CHECK_FALSE(fits_7bit("bell\x07"));
  CHECK_FALSE(fits_7bit("lone\rcr"));
  CHECK(fits_7bit(std::string(998, 'a') + "\r\n"));
  CHECK_FALSE(fits_7bit(std::string(999, 'a') + "\r\n"));
}

TEST_CASE("fits_7bit judges every byte value at every place of a word and of the tail") {
  // The check runs eight bytes a word, then byte by byte: each value at each of 19 places of a
  // line (two words and a tail of three) is judged as one printable-or-TAB rule says.
  std::size_t judged = 0;
  for (int c = 0; c < 256; ++c) {
    const bool printable = (c >= 0x20 && c < 0x7F) || c == '\t';
    for (std::size_t at = 0; at < 19; ++at) {
      std::string line(19, 'a');
      line[at] = static_cast<char>(c);
      INFO("byte " << c << " at " << at);
      CHECK(fits_7bit(line + "\r\n") == printable);
      ++judged;
    }
  }
  CHECK(judged == 256 * 19);
}

TEST_CASE("unstructured fields: ASCII kept, non-ASCII as encoded words, folded") {
  CHECK(unstructured_field("Subject", "Hello world") == "Subject: Hello world\r\n");
  CHECK(unstructured_field("Subject", "  padded  ") == "Subject: padded\r\n");
  CHECK(unstructured_field("Subject", "") == "Subject:\r\n");
  // "Café" encoded, the plain word and its space kept.
  CHECK(unstructured_field("Subject", "Café ouvert") == "Subject: =?utf-8?B?Q2Fmw6k=?= ouvert\r\n");
  // Adjacent non-ASCII words become one run: the space between them is inside the encoding.
  CHECK(unstructured_field("Subject", "é è x") == "Subject: =?utf-8?B?w6kgw6g=?= x\r\n");
  // Text that looks like an encoded word is encoded so no reader decodes it.
  CHECK(unstructured_field("Subject", "=?utf-8?B?QQ==?=") == "Subject: =?utf-8?B?PT91dGYtOD9CP1FRPT0/PQ==?=\r\n");

  SECTION("long ASCII folds at whitespace under 78 columns") {
    std::string v;
    for (int i = 0; i < 40; ++i) v += "word" + std::to_string(i) + " ";
    std::string f = unstructured_field("Subject", v);
    auto ls = crlf_lines(f);
    CHECK(ls.size() > 1);
    for (std::size_t i = 0; i < ls.size(); ++i) {
      CHECK(ls[i].size() <= 78);
      if (i > 0) CHECK(ls[i][0] == ' ');
    }
    // Unfolding gives back the value exactly.
    std::string trimmed = v.substr(0, v.size() - 1);
    CHECK(unfold(f) == "Subject: " + trimmed + "\r\n");
  }
  SECTION("long non-ASCII text: encoded words <= 75, characters never cut") {
    std::string v;
    for (int i = 0; i < 60; ++i) v += "日本語";
    std::string f = unstructured_field("Subject", v);
    for (const auto& l : crlf_lines(f)) {
      CHECK(l.size() <= 78);
      std::size_t s = l.find("=?");
      if (s != std::string::npos) CHECK(l.size() - s <= 75);
    }
  }
  SECTION("an unbreakable ASCII word never makes a line past 998") {
    std::string v = "x " + std::string(2000, 'a');
    std::string f = unstructured_field("X-Long", v);
    for (const auto& l : crlf_lines(f)) CHECK(l.size() <= 998);
    CHECK(f.find("=?utf-8?B?") != std::string::npos);
  }
  SECTION("a URL-sized word stays plain on its own line") {
    std::string url = "<https://example.com/" + std::string(100, 'u') + ">";
    std::string f = unstructured_field("List-Unsubscribe", url);
    CHECK(f == "List-Unsubscribe: " + url + "\r\n");
  }
}

TEST_CASE("whitespace before a word is folded with it and counted against the line limits") {
  // A fold can only go before the whitespace in front of a word, so that whitespace opens the
  // continuation line.
  SECTION("found by the randomised test: seven WSP before a full encoded word made 79 columns") {
    const std::string v = "?=?=" + std::string(30, 'y') + "é日本    \"word=?utf-8?B?QQ==?=.?=a\" \t éwordé.?=🙂\ta  \t    \"a=" +
                          std::string(90, 'x') + "word\\\\" + std::string(30, 'y') + "é\tword   ";
    std::string f = unstructured_field("Subject", v);
    for (const auto& l : crlf_lines(f)) CHECK(l.size() <= kFoldColumn);
    CHECK(volley::test::read_unstructured(f) == v.substr(0, v.size() - 3));
    // Python's email package reads the same value back.
    auto parsed = volley::test::parse_with_python("From: a@example.com\r\n" + f + "\r\nbody\r\n");
    CHECK(parsed["header_defects"].empty());
    CHECK(parsed["headers"]["subject"] == v.substr(0, v.size() - 3));
  }
  SECTION("an encoded run keeps one WSP in front for the fold; the rest travels inside it") {
    std::string text;
    for (int i = 0; i < 40; ++i) text += "é";
    const std::string v = "plain  \t    " + text;
    std::string f = unstructured_field("Subject", v);
    auto ls = crlf_lines(f);
    REQUIRE(ls.size() == 3);
    CHECK(ls[0] == "Subject: plain");
    CHECK(ls[1] == " =?utf-8?B?" + base64_encode(" \t    " + text.substr(0, 38)) + "?=");
    CHECK(ls[1].size() <= kFoldColumn);
    CHECK(volley::test::read_unstructured(f) == v);
  }
  SECTION("a plain word with its whitespace stays plain up to 700 octets, then is encoded") {
    const std::string fits = "a" + std::string(300, ' ') + std::string(400, 'x');
    CHECK(unstructured_field("Subject", fits) == "Subject: a\r\n" + fits.substr(1) + "\r\n");
    const std::string too_long = "a" + std::string(400, ' ') + std::string(700, 'x');
    std::string f = unstructured_field("Subject", too_long);
    for (const auto& l : crlf_lines(f)) CHECK(l.size() <= kFoldColumn);
    CHECK(volley::test::read_unstructured(f) == too_long);
  }
}

TEST_CASE("address fields: plain, quoted and encoded display names") {
  auto box = [](std::string local, std::string domain, std::string name) {
    volley::message::Mailbox b;
    b.local = std::move(local);
    b.domain = std::move(domain);
    b.display_name = std::move(name);
    return b;
  };
  CHECK(address_list_field("To", {box("a", "x.example", "")}) == "To: a@x.example\r\n");
  CHECK(address_list_field("To", {box("a", "x.example", "Alice Smith")}) == "To: Alice Smith <a@x.example>\r\n");
  CHECK(address_list_field("To", {box("a", "x.example", "Smith, Alice")}) ==
        "To: \"Smith, Alice\" <a@x.example>\r\n");
  CHECK(address_list_field("To", {box("a", "x.example", "say \"hi\" \\o/")}) ==
        "To: \"say \\\"hi\\\" \\\\o/\" <a@x.example>\r\n");
  CHECK(address_list_field("To", {box("a", "x.example", "Zoë")}) == "To: =?utf-8?B?Wm/Dqw==?= <a@x.example>\r\n");
  CHECK(address_list_field("To", {box("a", "x.example", "A"), box("b", "y.example", "")}) ==
        "To: A <a@x.example>, b@y.example\r\n");

  std::vector<volley::message::Mailbox> many;
  for (int i = 0; i < 30; ++i) many.push_back(box("user" + std::to_string(i), "example.com", "User Number " + std::to_string(i)));
  auto ls = crlf_lines(address_list_field("To", many));
  CHECK(ls.size() > 5);
  for (const auto& l : ls) CHECK(l.size() <= 78);
}

TEST_CASE("MIME parameters: quoted ASCII, RFC 2231 for the rest") {
  CHECK(mime_parameter("filename", "report.pdf") == std::vector<std::string>{"filename=\"report.pdf\""});
  CHECK(mime_parameter("filename", "a \"b\".txt") == std::vector<std::string>{"filename=\"a \\\"b\\\".txt\""});
  CHECK(mime_parameter("filename", "résumé.pdf") ==
        std::vector<std::string>{"filename*=utf-8''r%C3%A9sum%C3%A9.pdf"});
  std::string longname;
  for (int i = 0; i < 20; ++i) longname += "ü";
  auto sections = mime_parameter("filename", longname + ".txt");
  REQUIRE(sections.size() > 1);
  CHECK(sections[0].rfind("filename*0*=utf-8''", 0) == 0);
  CHECK(sections[1].rfind("filename*1*=", 0) == 0);
  for (const auto& s : sections) {
    CHECK(s.size() < 78);
    CHECK(s.back() != '%');
  }
  std::string f = field_with_parameters("Content-Disposition", "attachment", sections);
  for (const auto& l : crlf_lines(f)) CHECK(l.size() <= 78);
}

TEST_CASE("RFC 5322 dates are UTC and fixed-format") {
  CHECK(rfc5322_date(0) == "Thu, 01 Jan 1970 00:00:00 +0000");
  CHECK(rfc5322_date(1751371200) == "Tue, 01 Jul 2025 12:00:00 +0000");
}

TEST_CASE("random_hex gives 2n hex digits, different each time, across the 4 KiB draws it takes") {
  std::set<std::string> seen;
  for (int i = 0; i < 600; ++i) {  // 600 x 16 bytes: more than two draws of the per-thread pool
    const auto h = volley::message::random_hex(16);
    REQUIRE(h.size() == 32);
    CHECK(h.find_first_not_of("0123456789abcdef") == std::string::npos);
    seen.insert(h);
  }
  CHECK(seen.size() == 600);
  const auto big = volley::message::random_hex(10000);  // longer than the pool itself
  CHECK(big.size() == 20000);
  CHECK(big.find("00000000000000000000000000000000") == std::string::npos);  // no wiped bytes handed out
  CHECK(volley::message::random_hex(0).empty());
}
