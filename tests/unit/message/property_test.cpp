// Randomised checks: hostile input never crashes, and what the encoders produce always
// decodes back to the input and respects the line limits.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>

#include "core/message/address.hpp"
#include "core/message/header_encoding.hpp"
#include "core/message/raw_message.hpp"
#include "core/message/transfer_encoding.hpp"
#include "core/message/utf8.hpp"
#include "core/util/utf8.hpp"
#include "message_test_support.hpp"

using namespace volley;
using volley::message::parse_address;

namespace {

// Every test case seeds its own generator, so it draws the same inputs whether it runs alone or
// after others, and a failure reproduces from the seed it reports.
using Rng = std::mt19937;

std::string random_from(Rng& rng, const std::vector<std::string>& pieces, std::size_t max_pieces) {
  std::uniform_int_distribution<std::size_t> count(0, max_pieces), pick(0, pieces.size() - 1);
  std::string s;
  for (std::size_t n = count(rng); n > 0; --n) s += pieces[pick(rng)];
  return s;
}

const std::vector<std::string> kAddressPieces = {
    "a", "Z", "0", ".", "@", "\"", "\\", "-", "[", "]", ":", " ", "\t", "\r", "\n", std::string(1, '\0'),
    "é", "日", "\xff", "\xc2\x85", "<", ">", "(", ")", ",", "+", "IPv6:", "1.2.3.4", "example.com", "xn--"};

// Long runs of whitespace and long plain words matter as much as the characters: whitespace
// opens the line a fold makes, and a plain word must fit one.
const std::vector<std::string> kTextPieces = {
    "a", "word", " ", "  ", "\t", " \t   \t ", "é", "日本", "🙂", "=", "=?", "?=", "=?utf-8?B?QQ==?=", ".", "\"",
    "\\", std::string(90, 'x'), std::string(30, 'y') + "é", std::string(150, ' '), std::string(300, 'z')};

std::string trim(const std::string& s) {
  std::size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

}  // namespace

TEST_CASE("parse_address never crashes and what it accepts is header- and SMTP-safe") {
  Rng rng(12345);
  for (int i = 0; i < 20000; ++i) {
    std::string s = random_from(rng, kAddressPieces, 12);
    std::string err;
    auto box = parse_address(s, &err);
    if (!box) {
      REQUIRE_FALSE(err.empty());
      continue;
    }
    INFO(s);
    REQUIRE(box->address() == s);
    REQUIRE(s.find_first_of(std::string("\r\n\t<>\0", 6)) == std::string::npos);
    REQUIRE(util::valid_utf8(s));
    REQUIRE(box->local.size() <= 64);
    REQUIRE(s.size() <= 254);
  }
}

TEST_CASE("unstructured fields decode back to their value") {
  // A short name, a long one, and the longest whose first encoded word still fits the fold column.
  const std::vector<std::string> names = {"Subject", "X-A-Rather-Long-Custom-Header-Name",
                                          "X-" + std::string(54, 'n')};
  const auto seed = GENERATE(range(1u, 9u));
  CAPTURE(seed);
  Rng rng(seed);
  for (int i = 0; i < 1500; ++i) {
    std::string v = random_from(rng, kTextPieces, 40);
    const std::string& name = names[static_cast<std::size_t>(i) % names.size()];
    INFO(name << ": [" << v << "]");
    std::string f = message::unstructured_field(name, v);
    std::string too_long;  // the first line past its limit, shown when there is one
    for (const auto& line : test::crlf_lines(f)) {
      if (line.size() <= message::kFoldColumn) continue;
      auto toks = test::tokens_of(line);
      bool encoded = std::any_of(toks.begin(), toks.end(), test::is_encoded_word);
      if (line.size() > (encoded ? message::kFoldColumn : message::kMaxLineLength)) {
        too_long = line;
        break;
      }
    }
    REQUIRE(too_long.empty());
    REQUIRE(message::is_ascii(f));
    REQUIRE(test::read_unstructured(f) == trim(v));
  }
}

TEST_CASE("quoted-printable round-trips random bytes within 76 columns") {
  Rng rng(12345);
  std::uniform_int_distribution<int> byte(0, 255), len(0, 400);
  for (int i = 0; i < 2000; ++i) {
    std::string in;
    for (int n = len(rng); n > 0; --n) {
      char c = static_cast<char>(byte(rng));
      if (c == '\r' || c == '\n') c = ' ';
      in += c;
      if (byte(rng) < 8) in += "\r\n";
    }
    std::string enc = message::quoted_printable_encode(in);
    std::string dec;
    for (std::size_t k = 0; k < enc.size(); ++k) {
      if (enc.compare(k, 3, "=\r\n") == 0) {
        k += 2;
      } else if (enc[k] == '=') {
        dec += static_cast<char>(std::stoi(enc.substr(k + 1, 2), nullptr, 16));
        k += 2;
      } else {
        dec += enc[k];
      }
    }
    REQUIRE(dec == in);
    for (const auto& line : test::crlf_lines(enc)) {
      REQUIRE(line.size() <= 76);
      if (!line.empty()) REQUIRE((line.back() != ' ' && line.back() != '\t'));
    }
  }
}

TEST_CASE("raw normalisation never crashes and its output is CRLF-clean") {
  const std::vector<std::string> pieces = {"From: a@example.com", "X: y", "\r\n", "\n", "\r", " cont", ":", "Bcc: z",
                                           std::string(1, '\0'), "body", std::string(500, 'b'), "é", "\r\n\r\n"};
  Rng rng(12345);
  for (int i = 0; i < 5000; ++i) {
    std::string raw = random_from(rng, pieces, 16);
    message::RawMessage out;
    auto problem = message::normalise_raw_message(raw, "Tue, 01 Jul 2025 12:00:00 +0000", "<x@y>", &out);
    if (problem) continue;
    INFO(raw);
    const std::string& m = out.message;
    for (std::size_t k = 0; k < m.size(); ++k) {
      if (m[k] == '\r') REQUIRE((k + 1 < m.size() && m[k + 1] == '\n'));
      if (m[k] == '\n') REQUIRE((k > 0 && m[k - 1] == '\r'));
      REQUIRE(m[k] != '\0');
    }
    for (const auto& line : test::crlf_lines(m)) REQUIRE(line.size() <= 998);
    REQUIRE(m.find("\r\n\r\n") != std::string::npos);
    std::string head = "\r\n" + test::header_section(m);
    REQUIRE(head.find("\r\nBcc:") == std::string::npos);
  }
}

namespace {

// Byte-at-a-time definitions of the vectorised checks: the fast code must agree with them.
bool reference_is_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

bool reference_fits_7bit(std::string_view text) {
  std::size_t line = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      line = 0;
      ++i;
      continue;
    }
    if (c >= 0x7F || (c < 0x20 && c != '\t')) return false;
    if (++line > 998) return false;
  }
  return true;
}

std::string reference_to_crlf(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r') {
      out += "\r\n";
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else if (text[i] == '\n') {
      out += "\r\n";
    } else {
      out += text[i];
    }
  }
  return out;
}

}  // namespace

TEST_CASE("the block-wise body checks agree with byte-at-a-time definitions") {
  Rng rng(20261123);
  const std::vector<std::string> pieces = {"a",  "word", " ",    "\t", "\r\n", "\n", "\r", "\x7f", "\x01", "é",
                                           "\xff", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82", std::string(40, 'q'),
                                           std::string(997, 'L'), std::string(998, 'M'), std::string(999, 'N')};
  for (int i = 0; i < 3000; ++i) {
    const std::string s = random_from(rng, pieces, 12);
    INFO("case " << i);
    REQUIRE(message::is_ascii(s) == reference_is_ascii(s));
    REQUIRE(message::fits_7bit(s) == reference_fits_7bit(s));
    REQUIRE(message::to_crlf(s) == reference_to_crlf(s));
    const std::string crlf = message::to_crlf(s);
    REQUIRE(message::fits_7bit(crlf) == reference_fits_7bit(crlf));
    bool fits = !reference_fits_7bit(crlf);
    REQUIRE(message::to_crlf(s, &fits) == crlf);
    REQUIRE(fits == reference_fits_7bit(crlf));
  }
  // Each byte the checks stop at, at every place of a 16-byte block and of the tail after the last
  // whole block, and lines just under, at and over 998 that end in another block.
  for (const std::string odd : {"\r\n", "\n", "\r", "\t", "\x7f", "\x1f", "\x80", "\xff", " ", "~"}) {
    for (std::size_t len = 0; len <= 40; ++len) {
      for (std::size_t at = 0; at <= len; ++at) {
        std::string s(len, 'x');
        s.insert(at, odd);
        INFO("byte(s) " << odd.size() << " long at " << at << " of " << len);
        REQUIRE(message::fits_7bit(s) == reference_fits_7bit(s));
        REQUIRE(message::to_crlf(s) == reference_to_crlf(s));
        const std::string crlf = reference_to_crlf(s);
        bool fits = !reference_fits_7bit(crlf);
        REQUIRE(message::to_crlf(s, &fits) == crlf);
        REQUIRE(fits == reference_fits_7bit(crlf));
      }
    }
  }
  for (std::size_t len = 990; len <= 1010; ++len) {
    for (std::size_t lead = 0; lead < 17; ++lead) {
      const std::string s = std::string(lead, 'a') + "\r\n" + std::string(len, 'b') + "\r\n" + std::string(lead, 'c');
      INFO("line of " << len << " after " << lead);
      REQUIRE(message::fits_7bit(s) == reference_fits_7bit(s));
      REQUIRE(message::fits_7bit(s) == (len <= 998 && lead <= 998));
      // The same lines with bare line ends, judged while they are made CRLF.
      for (const std::string eol : {"\n", "\r"}) {
        const std::string bare = std::string(lead, 'a') + eol + std::string(len, 'b') + eol + std::string(lead, 'c');
        bool fits = len > 998;  // the wrong answer, so that one never set fails
        REQUIRE(message::to_crlf(bare, &fits) == s);
        REQUIRE(fits == (len <= 998));
      }
    }
  }
  // Misplaced bytes at every offset of a long ASCII run: the block boundaries must not hide them.
  for (std::size_t at = 0; at < 100; ++at) {
    std::string s(100, 'x');
    s[at] = '\xc3';
    CHECK_FALSE(message::is_ascii(s));
    CHECK_FALSE(util::valid_utf8(s));  // a lead byte without its continuation
    s.insert(at + 1, 1, '\xa9');
    CHECK(util::valid_utf8(s));
    CHECK_FALSE(message::fits_7bit(s));
  }
}
