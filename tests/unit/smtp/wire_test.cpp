#include <catch2/catch.hpp>

#include <random>
#include <string>

#include "core/smtp/wire.hpp"

using volley::smtp::from_wire_data;
using volley::smtp::to_wire_data;
using namespace std::string_literals;

namespace {

// What the message is after to_wire_data and back: every line end CRLF, and a final CRLF.
std::string normalised(std::string_view m) {
  std::string out;
  for (std::size_t i = 0; i < m.size(); ++i) {
    if (m[i] == '\r') {
      out += "\r\n";
      if (i + 1 < m.size() && m[i + 1] == '\n') ++i;
    } else if (m[i] == '\n') {
      out += "\r\n";
    } else {
      out += m[i];
    }
  }
  if (!out.empty() && (out.size() < 2 || out.substr(out.size() - 2) != "\r\n")) out += "\r\n";
  return out;
}

// Properties every wire form has: no bare CR or LF, ends in CRLF.CRLF, and no line before the
// terminator is a lone "." (which would end the data early).
void check_wire_form(const std::string& w) {
  if (w.size() == 3) {
    REQUIRE(w == ".\r\n");
    return;
  }
  REQUIRE(w.size() >= 5);
  REQUIRE(w.substr(0, 3) != ".\r\n");
  REQUIRE(w.find("\r\n.\r\n") == w.size() - 5);
  for (std::size_t i = 0; i < w.size(); ++i) {
    if (w[i] == '\r') REQUIRE((i + 1 < w.size() && w[i + 1] == '\n'));
    if (w[i] == '\n') REQUIRE((i > 0 && w[i - 1] == '\r'));
  }
}

// to_wire_data by its definition, a byte at a time: the normalised message, a dot doubled at the
// start of every line, then the terminator.
std::string reference_wire(std::string_view m) {
  const std::string n = normalised(m);
  std::string out;
  for (std::size_t i = 0; i < n.size(); ++i) {
    if (n[i] == '.' && (i == 0 || n[i - 1] == '\n')) out += '.';
    out += n[i];
  }
  return out + ".\r\n";
}

// The BDAT chunk bdat_content describes, put together.
std::string chunk_of(const std::string& wire) {
  std::string out;
  for (const auto& s : volley::smtp::bdat_content(wire)) {
    REQUIRE(s.length > 0);
    REQUIRE(s.offset + s.length <= wire.size());
    out.append(wire, s.offset, s.length);
  }
  return out;
}

}  // namespace

TEST_CASE("wire: CRLF stays, bare LF and bare CR become CRLF") {
  CHECK(to_wire_data("a\r\nb\r\n") == "a\r\nb\r\n.\r\n");
  CHECK(to_wire_data("a\nb\n") == "a\r\nb\r\n.\r\n");
  CHECK(to_wire_data("a\rb\r") == "a\r\nb\r\n.\r\n");
  CHECK(to_wire_data("a\r\rb") == "a\r\n\r\nb\r\n.\r\n");
  CHECK(to_wire_data("a\n\rb") == "a\r\n\r\nb\r\n.\r\n");
  CHECK(to_wire_data("a\r\n\nb") == "a\r\n\r\nb\r\n.\r\n");
  CHECK(to_wire_data("\n") == "\r\n.\r\n");
  CHECK(to_wire_data("\r") == "\r\n.\r\n");
}

TEST_CASE("wire: a final CRLF is added when missing, never doubled") {
  CHECK(to_wire_data("no newline") == "no newline\r\n.\r\n");
  CHECK(to_wire_data("with newline\r\n") == "with newline\r\n.\r\n");
  CHECK(to_wire_data("x\r\n\r\n") == "x\r\n\r\n.\r\n");
}

TEST_CASE("wire: empty body is just the terminator") {
  CHECK(to_wire_data("") == ".\r\n");
  CHECK(to_wire_data(std::string_view{}) == ".\r\n");
  CHECK(from_wire_data(std::string_view{}).empty());
  CHECK(from_wire_data(".\r\n").empty());
}

TEST_CASE("wire: lines starting with a dot are stuffed") {
  CHECK(to_wire_data(".") == "..\r\n.\r\n");
  CHECK(to_wire_data("a\r\n.\r\nb\r\n") == "a\r\n..\r\nb\r\n.\r\n");
  CHECK(to_wire_data("..\n...\n") == "...\r\n....\r\n.\r\n");
  CHECK(to_wire_data(".starts the body\r\n") == "..starts the body\r\n.\r\n");
  CHECK(to_wire_data("a\r.b\n.c") == "a\r\n..b\r\n..c\r\n.\r\n");
  CHECK(to_wire_data("mid.dle .dot\r\n") == "mid.dle .dot\r\n.\r\n");
  CHECK(to_wire_data("a\r\n.") == "a\r\n..\r\n.\r\n");
}

TEST_CASE("wire: from_wire_data undoes stuffing and stops at the terminator") {
  CHECK(from_wire_data("a\r\n..\r\n...x\r\n.\r\n") == "a\r\n.\r\n..x\r\n");
  CHECK(from_wire_data("a\r\n.\r\nafter the end\r\n") == "a\r\n");
  CHECK(from_wire_data("") == "");
}

TEST_CASE("wire: binary and 8-bit content passes through unchanged") {
  std::string m = "caf\xc3\xa9\x00\x01\xff line\r\n"s;
  CHECK(to_wire_data(m) == m + ".\r\n");
}

TEST_CASE("wire: round trip on random messages, and the BDAT chunk of each") {
  std::mt19937 rng(20240611);
  // Biased towards the characters that matter.
  const std::string alphabet = "\r\n.\r\n.ab \x00\xff"s;
  for (int iter = 0; iter < 20000; ++iter) {
    std::string m;
    const auto len = std::uniform_int_distribution<int>(0, 40)(rng);
    for (int i = 0; i < len; ++i) m += alphabet[std::uniform_int_distribution<std::size_t>(0, alphabet.size() - 1)(rng)];
    const auto w = to_wire_data(m);
    INFO("message: " << ::Catch::Detail::stringify(m));
    check_wire_form(w);
    const auto back = from_wire_data(w);
    REQUIRE(back == normalised(m));
    // The wire form of a normalised message is stable.
    REQUIRE(to_wire_data(back) == w);
    // BDAT sends what a DATA reader gets, from the payload's own bytes.
    REQUIRE(chunk_of(w) == back);
    // The same payload when the message is given up, whether or not it needs more than the
    // terminator (back always does not).
    REQUIRE(volley::smtp::into_wire_data(std::string(m)) == w);
    REQUIRE(volley::smtp::into_wire_data(std::string(back)) == w);
  }
}

TEST_CASE("wire: a message that needs only the terminator keeps its buffer, any other is converted") {
  using volley::smtp::into_wire_data;
  std::string built = "Subject: x\r\n\r\nline one\r\nline two\r\n";
  built.reserve(built.size() + 3);
  const char* buffer = built.data();
  const std::string w = into_wire_data(std::move(built));
  CHECK(w == "Subject: x\r\n\r\nline one\r\nline two\r\n.\r\n");
  CHECK(w.data() == buffer);  // no copy
  // Each of these needs more than the terminator: a dot to stuff, a bare line end, no final CRLF.
  for (const std::string& m : {".first\r\n"s, "a\r\n.b\r\n"s, "a\nb\r\n"s, "a\rb\r\n"s, "a\r\n\r"s, "a\r\nb"s,
                              "\r\n."s, ""s, "\r"s, "\n"s}) {
    INFO(::Catch::Detail::stringify(m));
    CHECK(into_wire_data(std::string(m)) == to_wire_data(m));
    CHECK(into_wire_data(std::string(m)) == reference_wire(m));
  }
}

TEST_CASE("wire: a large message round-trips") {
  std::string m;
  for (int i = 0; i < 100000; ++i) m += "line number " + std::to_string(i) + (i % 10 == 0 ? "\n.dot\r\n" : "\r\n");
  auto w = to_wire_data(m);
  CHECK(w.size() > m.size());
  CHECK(from_wire_data(w) == normalised(m));
}

TEST_CASE("wire: the BDAT chunk is the message without stuffed dots or terminator") {
  using volley::smtp::bdat_content;
  const auto plain = to_wire_data("Subject: x\r\n\r\nbody\r\n");
  CHECK(bdat_content(plain).size() == 1);  // one part, written as it is
  CHECK(chunk_of(plain) == "Subject: x\r\n\r\nbody\r\n");
  CHECK(bdat_content(to_wire_data("")).empty());
  CHECK(chunk_of(to_wire_data(".first\r\nmid\r\n..two\r\n.\r\nlast.\r\n.")) ==
        ".first\r\nmid\r\n..two\r\n.\r\nlast.\r\n.\r\n");
  CHECK(bdat_content(to_wire_data(".a\r\n.b\r\n")).size() == 2);
}

// The line ends are found sixteen bytes at a time: every kind of line end, and a dot after it, at
// every place of a block and of the tail after the last whole block.
TEST_CASE("wire: line ends and dots at every offset agree with the definition") {
  for (const std::string& end : {"\r\n"s, "\n"s, "\r"s, "\r\r"s, "\n\n"s, "\n\r"s}) {
    for (std::size_t len = 0; len <= 40; ++len) {
      for (std::size_t at = 0; at <= len; ++at) {
        std::string m(len, 'x');
        m.insert(at, end);
        INFO("length " << len << ", line end at " << at);
        REQUIRE(to_wire_data(m) == reference_wire(m));
        REQUIRE(volley::smtp::into_wire_data(std::string(m)) == reference_wire(m));
        std::string dotted = m;
        dotted.insert(at + end.size(), ".");
        REQUIRE(to_wire_data(dotted) == reference_wire(dotted));
        REQUIRE(volley::smtp::into_wire_data(std::string(dotted)) == reference_wire(dotted));
        // Ended with CRLF, as Volley builds messages: the ones that need only the terminator.
        for (const std::string& whole : {m + "\r\n", dotted + "\r\n"}) {
          REQUIRE(volley::smtp::into_wire_data(std::string(whole)) == reference_wire(whole));
        }
      }
    }
  }
}
