// DKIM signing: canonicalisation (RFC 6376 §3.4.5), the RFC 8463 Appendix A test vector, the
// signed header list, folding, and key checks.
#include <catch2/catch.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "core/dkim/canonical.hpp"
#include "core/dkim/header_fields.hpp"
#include "core/dkim/key.hpp"
#include "core/dkim/signer.hpp"
#include "core/message/transfer_encoding.hpp"
#include "core/smtp/wire.hpp"
#include "core/util/sha256.hpp"

using namespace volley::dkim;
using volley::message::base64_encode;

namespace {

std::string b64(const volley::util::Sha256& d) {
  return base64_encode(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

// RFC 8463 Appendix A.1: the Ed25519 secret key (seed nWGxne/9...) as PKCS#8 PEM.
const char* kRfc8463Key =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
    "-----END PRIVATE KEY-----\n";

// RFC 8463 Appendix A.3: the message without its signatures.
const char* kRfc8463Message =
    "From: Joe SixPack <joe@football.example.com>\r\n"
    "To: Suzie Q <suzie@shopping.example.net>\r\n"
    "Subject: Is dinner ready?\r\n"
    "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
    "Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n"
    "\r\n"
    "Hi.\r\n"
    "\r\n"
    "We lost the game.  Are you hungry yet?\r\n"
    "\r\n"
    "Joe.\r\n"
    "\r\n";

std::string key_pem(const char* type, int bits_or_zero) {
  EVP_PKEY* k = bits_or_zero ? EVP_PKEY_Q_keygen(nullptr, nullptr, type, static_cast<size_t>(bits_or_zero))
                             : EVP_PKEY_Q_keygen(nullptr, nullptr, type, "P-256");
  REQUIRE(k != nullptr);
  BIO* bio = BIO_new(BIO_s_mem());
  REQUIRE(PEM_write_bio_PrivateKey(bio, k, nullptr, nullptr, 0, nullptr, nullptr) == 1);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  EVP_PKEY_free(k);
  return out;
}

PrivateKey parsed(const std::string& pem) {
  std::string error;
  auto key = parse_private_key(pem, &error);
  INFO(error);
  REQUIRE(key);
  return *key;
}

// The b= value of a DKIM-Signature field, folding removed.
std::string b_value(const std::string& field) {
  const auto at = field.rfind("b=");
  std::string out;
  for (char c : field.substr(at + 2))
    if (c != '\r' && c != '\n' && c != ' ' && c != '\t') out += c;
  return out;
}

std::string tag(const std::string& field, const std::string& name) {
  std::string flat;
  for (char c : field)
    if (c != '\r' && c != '\n') flat += c;
  const auto at = flat.find(" " + name + "=");
  REQUIRE(at != std::string::npos);
  const auto start = at + name.size() + 2;
  return flat.substr(start, flat.find(';', start) - start);
}

bool verifies(const PrivateKey& key, const std::string& data, const std::string& b) {
  std::size_t bad = 0;
  const auto sig = volley::message::base64_decode(b, &bad);
  REQUIRE(sig);
  const bool ed = key.algorithm() == Algorithm::ed25519_sha256;
  std::string input = data;
  if (ed) {
    const auto d = volley::util::sha256(data);
    input.assign(reinterpret_cast<const char*>(d.data()), d.size());
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  REQUIRE(EVP_DigestVerifyInit(ctx, nullptr, ed ? nullptr : EVP_sha256(), nullptr, key.get()) == 1);
  const int ok = EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig->data()), sig->size(),
                                  reinterpret_cast<const unsigned char*>(input.data()), input.size());
  EVP_MD_CTX_free(ctx);
  return ok == 1;
}

}  // namespace

TEST_CASE("RFC 6376 3.4.5 canonicalisation example") {
  CHECK(canonical_header(Canon::relaxed, "A: X\r\n") == "a:X\r\n");
  CHECK(canonical_header(Canon::relaxed, "B : Y\t\r\n\tZ  \r\n") == "b:Y Z\r\n");
  CHECK(canonical_header(Canon::simple, "B : Y\t\r\n\tZ  \r\n") == "B : Y\t\r\n\tZ  \r\n");
  const std::string body = " C \r\nD \t E\r\n\r\n\r\n";
  CHECK(b64(body_hash(Canon::relaxed, body, false)) == b64(volley::util::sha256(" C\r\nD E\r\n")));
  CHECK(b64(body_hash(Canon::simple, body, false)) == b64(volley::util::sha256(" C \r\nD \t E\r\n")));
}

TEST_CASE("empty bodies hash as CRLF in simple and as nothing in relaxed") {
  CHECK(b64(body_hash(Canon::simple, "", false)) == b64(volley::util::sha256("\r\n")));
  CHECK(b64(body_hash(Canon::simple, "\r\n\r\n", false)) == b64(volley::util::sha256("\r\n")));
  CHECK(b64(body_hash(Canon::relaxed, "", false)) == b64(volley::util::sha256("")));
  CHECK(b64(body_hash(Canon::relaxed, " \r\n\t\r\n", false)) == b64(volley::util::sha256("")));
}

// The canonical body spelled out the slow way (RFC 6376 §3.4.3, §3.4.4), line by line into a copy.
std::string reference_canonical_body(Canon c, std::string_view body, bool dot_stuffed) {
  std::vector<std::string> lines;
  std::size_t pos = 0;
  while (pos < body.size()) {
    const auto eol = body.find("\r\n", pos);
    std::string line(body.substr(pos, (eol == std::string_view::npos ? body.size() : eol) - pos));
    pos = eol == std::string_view::npos ? body.size() : eol + 2;
    if (dot_stuffed && !line.empty() && line.front() == '.') line.erase(0, 1);
    if (c == Canon::relaxed) {
      std::string out;
      for (char ch : line) {
        const bool wsp = ch == ' ' || ch == '\t';
        if (wsp && !out.empty() && out.back() == ' ') continue;
        out += wsp ? ' ' : ch;
      }
      while (!out.empty() && out.back() == ' ') out.pop_back();
      line = out;
    }
    lines.push_back(line);
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  std::string out;
  for (const auto& l : lines) out += l + "\r\n";
  if (out.empty() && c == Canon::simple) out = "\r\n";
  return out;
}

TEST_CASE("body hashes match a line-by-line canonicalisation on generated bodies") {
  // Pieces that exercise every rule: WSP runs, tabs, trailing WSP, empty and blank lines,
  // dot-stuffed lines, a last line without CRLF, long unchanged runs.
  const std::vector<std::string> pieces{"a", "word", " ", "  ", "\t", " \t ", "\r\n", "\r\n", "\r\n.", "..",
                                        ".", std::string(300, 'x'), "\r\n\r\n", " \r\n"};
  std::uint32_t seed = 12345;
  auto next = [&seed] {
    seed = seed * 1103515245u + 12345u;
    return (seed >> 16) & 0x7fff;
  };
  for (int round = 0; round < 400; ++round) {
    std::string body;
    const int count = static_cast<int>(next() % 60);
    for (int i = 0; i < count; ++i) body += pieces[next() % pieces.size()];
    if (next() % 2 == 0) body += "\r\n";
    for (const Canon c : {Canon::simple, Canon::relaxed}) {
      for (const bool stuffed : {false, true}) {
        INFO("round " << round << " canon " << (c == Canon::relaxed ? "relaxed" : "simple") << " stuffed " << stuffed);
        CHECK(b64(body_hash(c, body, stuffed)) == b64(volley::util::sha256(reference_canonical_body(c, body, stuffed))));
      }
    }
  }
}

TEST_CASE("canonicalization names") {
  CHECK(parse_canonicalization("relaxed/relaxed") == Canonicalization{Canon::relaxed, Canon::relaxed});
  CHECK(parse_canonicalization("simple/relaxed") == Canonicalization{Canon::simple, Canon::relaxed});
  CHECK(parse_canonicalization("relaxed") == Canonicalization{Canon::relaxed, Canon::simple});
  CHECK_FALSE(parse_canonicalization("relaxed/loose"));
  CHECK(to_string(Canonicalization{Canon::relaxed, Canon::simple}) == "relaxed/simple");
}

TEST_CASE("RFC 8463 Appendix A Ed25519 test vector, exact bh and b") {
  const auto key = parsed(kRfc8463Key);
  CHECK(key.algorithm() == Algorithm::ed25519_sha256);
  CHECK(public_key_base64(key) == "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
  const auto parts = split_message(kRfc8463Message, false);
  REQUIRE(parts);
  CHECK(b64(body_hash(Canon::relaxed, parts->body, false)) == "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=");
  const std::vector<std::string> names{"from", "to", "subject", "date", "message-id", "from", "subject", "date"};
  const auto data = signed_headers_data(parts->fields, names, Canon::relaxed);
  const std::string field = complete_signature(key, Canon::relaxed, data,
                                               "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n"
                                               " d=football.example.com; i=@football.example.com;\r\n"
                                               " q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r\n"
                                               " subject : date : message-id : from : subject : date;\r\n"
                                               " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
                                               " b=");
  CHECK(b_value(field) == "/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11BusFa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==");
}

TEST_CASE("Ed25519 signatures from libsodium are the bytes OpenSSL makes") {
  std::string error;
  const auto key = generate_key(Algorithm::ed25519_sha256, 0, &error);
  REQUIRE(key);
  REQUIRE(key->sodium() != nullptr);
  const auto reread = parse_private_key(private_key_pem(*key), &error);
  REQUIRE(reread);
  for (const std::string& data : {std::string(), std::string("from:a@example.com\r\n"), std::string(5000, 'x')}) {
    const auto fast = sign_data(*key, data);
    CHECK(fast.size() == 64);
    CHECK(fast == sign_data_openssl(*key, data));
    CHECK(sign_data(*reread, data) == fast);
  }
}

TEST_CASE("the same message signs alike from CRLF text and from the spool's wire form") {
  const auto key = parsed(kRfc8463Key);
  SigningKey k{"football.example.com", false, "brisbane", key, {}, default_signed_headers(),
               default_over_signed_headers(), std::chrono::seconds{0}, ""};
  const std::string message = std::string(kRfc8463Message) + ".dot line\r\n..two dots\r\n";
  const Signer signer({k});
  const auto plain = signer.sign(message, false, "default", 1528637909);
  const auto wire = signer.sign(volley::smtp::to_wire_data(message), true, "default", 1528637909);
  REQUIRE(plain.signatures.size() == 1);
  CHECK(plain.fields == wire.fields);
  CHECK(plain.signatures[0] == SignatureInfo{"football.example.com", "brisbane", "ed25519-sha256"});
}

TEST_CASE("over-signing lists From, Subject and List-Unsubscribe once more than they occur") {
  const auto parts = split_message(
      "From: a@example.com\r\nTo: b@example.net\r\nTo: c@example.net\r\nSubject: hi\r\n"
      "X-Volley-ID: abc\r\nDate: now\r\n\r\nbody\r\n",
      false);
  REQUIRE(parts);
  auto headers = default_signed_headers();
  headers.push_back("X-Volley-ID");
  const auto names = signed_header_names(parts->fields, headers, default_over_signed_headers());
  CHECK(names == std::vector<std::string>{"from", "from", "to", "to", "subject", "subject", "date",
                                          "list-unsubscribe", "list-unsubscribe-post"});
  CHECK(signed_header_names(parts->fields, {"From", "Cc"}, {}) == std::vector<std::string>{"from"});
}

TEST_CASE("signed headers are taken from the bottom up") {
  const auto parts = split_message("To: first\r\nFrom: a@example.com\r\nTo: second\r\n\r\n", false);
  REQUIRE(parts);
  CHECK(signed_headers_data(parts->fields, {"to", "to", "to"}, Canon::relaxed) == "to:second\r\nto:first\r\n");
}

TEST_CASE("signature fields are folded to 78 columns and verify") {
  const auto rsa = parsed(key_pem("RSA", 2048));
  const auto ed = parsed(key_pem("ED25519", 0));
  std::vector<SigningKey> keys;
  keys.push_back({"example.com", false, "s2026r", rsa, {}, default_signed_headers(), default_over_signed_headers(),
                  std::chrono::seconds{7 * 86400}, ""});
  keys.push_back({"example.com", false, "s2026e", ed, {Canon::simple, Canon::simple}, default_signed_headers(),
                  default_over_signed_headers(), std::chrono::seconds{0}, ""});
  const std::string message =
      "From: \"Sender, Ltd\" <news@Example.COM>\r\nTo: x@example.net\r\nSubject: a subject\r\n"
      "Message-ID: <1@example.com>\r\nList-Unsubscribe: <https://example.com/u>\r\n\r\nHello  \r\n\r\n";
  const auto result = Signer(keys).sign(message, false, "default", 1700000000);
  REQUIRE(result.signatures.size() == 2);
  std::size_t pos = 0;
  while (pos < result.fields.size()) {
    const auto eol = result.fields.find("\r\n", pos);
    REQUIRE(eol != std::string::npos);
    CHECK(eol - pos <= 78);
    pos = eol + 2;
  }
  const auto second = result.fields.find("\r\nDKIM-Signature:") + 2;
  const std::string rsa_field = result.fields.substr(0, second);
  const std::string ed_field = result.fields.substr(second);
  CHECK(tag(rsa_field, "x") == "1700604800");
  CHECK(tag(rsa_field, "c") == "relaxed/relaxed");
  CHECK(tag(ed_field, "c") == "simple/simple");
  const auto parts = split_message(message, false);
  REQUIRE(parts);
  // Each signature verifies over its own header hash input.
  for (const auto* f : {&rsa_field, &ed_field}) {
    const bool is_rsa = f == &rsa_field;
    const auto canon = is_rsa ? Canon::relaxed : Canon::simple;
    std::vector<std::string> names;
    std::string h = tag(*f, "h");
    for (std::size_t p = 0; p <= h.size();) {
      auto colon = h.find(':', p);
      if (colon == std::string::npos) colon = h.size();
      std::string n = h.substr(p, colon - p);
      n.erase(std::remove(n.begin(), n.end(), ' '), n.end());
      names.push_back(n);
      p = colon + 1;
    }
    CHECK(names.front() == "from");
    std::string unsigned_field = f->substr(0, f->rfind("b=") + 2);
    std::string own = canonical_header(canon, unsigned_field + "\r\n");
    own.resize(own.size() - 2);
    CHECK(verifies(is_rsa ? rsa : ed, signed_headers_data(parts->fields, names, canon) + own, b_value(*f)));
  }
}

TEST_CASE("keys are chosen by From domain, subdomains and tenant") {
  const auto ed = parsed(key_pem("ED25519", 0));
  SigningKey base{"example.com", false, "s", ed, {}, default_signed_headers(), default_over_signed_headers(),
                  std::chrono::seconds{0}, ""};
  SigningKey sub = base;
  sub.subdomains = true;
  sub.selector = "sub";
  SigningKey acme = base;
  acme.tenant = "acme";
  acme.selector = "acme";
  const Signer signer({base, sub, acme});
  auto selectors = [&](const std::string& from, const std::string& tenant) {
    std::vector<std::string> out;
    for (const auto& s : signer.sign("From: " + from + "\r\n\r\nx\r\n", false, tenant, 1).signatures)
      out.push_back(s.selector + "/" + s.domain);
    return out;
  };
  CHECK(selectors("a@example.com", "default") == std::vector<std::string>{"s/example.com", "sub/example.com"});
  CHECK(selectors("a@example.com", "acme") ==
        std::vector<std::string>{"s/example.com", "sub/example.com", "acme/example.com"});
  CHECK(selectors("a@news.example.com", "default") == std::vector<std::string>{"sub/example.com"});
  CHECK(selectors("a@badexample.com", "default").empty());
  CHECK(selectors("a@example.org", "default").empty());
  CHECK(signer.sign("To: a@example.com\r\n\r\nx\r\n", false, "default", 1).signatures.empty());
  CHECK(signer.sign("From: a@example.com\r\nFrom: b@example.com\r\n\r\n", false, "default", 1).signatures.empty());
}

TEST_CASE("bad keys are refused with a reason") {
  std::string error;
  CHECK_FALSE(parse_private_key("hello", &error));
  CHECK(error.find("not a PEM") != std::string::npos);
  CHECK_FALSE(parse_private_key(key_pem("EC", 0), &error));
  CHECK(error.find("an EC key") != std::string::npos);
  CHECK_FALSE(parse_private_key(key_pem("RSA", 512), &error));
  CHECK(error.find("512 bits") != std::string::npos);
  CHECK_FALSE(parse_private_key("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", &error));
  CHECK(error.find("not a PEM private key") != std::string::npos);
  CHECK(parse_private_key(key_pem("RSA", 1024), &error));
}

TEST_CASE("the DNS record is cut into strings of at most 255 bytes") {
  std::string error;
  const auto rsa = generate_key(Algorithm::rsa_sha256, 2048, &error);
  REQUIRE(rsa);
  const std::string line = dns_txt_line("example.com", "s2026r", *rsa);
  CHECK(line.rfind("s2026r._domainkey.example.com. TXT \"v=DKIM1; k=rsa; p=", 0) == 0);
  std::size_t strings = 0;
  for (std::size_t p = line.find('"'); p != std::string::npos; p = line.find('"', p + 1)) {
    const auto close = line.find('"', p + 1);
    CHECK(close - p - 1 <= 255);
    p = close;
    ++strings;
  }
  CHECK(strings == 2);
  const auto ed = generate_key(Algorithm::ed25519_sha256, 0, &error);
  REQUIRE(ed);
  CHECK(parse_private_key(private_key_pem(*ed), &error));
  CHECK(dns_txt_line("example.com", "e", *ed).find("k=ed25519; p=") != std::string::npos);
}
