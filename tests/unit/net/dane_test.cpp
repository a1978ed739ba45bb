// DANE set-up of one connection (net/dane.hpp), proven by real TLS handshakes in memory (a BIO
// pair) against certificates made at test time.
#include "net/dane.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <catch2/catch.hpp>

#include <memory>

#include "core/util/sha256.hpp"
#include "tests/support/test_pki.hpp"

using namespace volley;
using volley::test::TestCert;
using volley::test::TestPki;

namespace {

struct CtxFree {
  void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
};
struct SslFree {
  void operator()(SSL* p) const { SSL_free(p); }
};
using CtxPtr = std::unique_ptr<SSL_CTX, CtxFree>;
using SslPtr = std::unique_ptr<SSL, SslFree>;

std::string sha256_of(const std::string& bytes) {
  const auto h = util::sha256(bytes);
  return std::string(reinterpret_cast<const char*>(h.data()), h.size());
}

const std::string mx = "mx.example.test";

struct Outcome {
  bool enabled = false;  // enable_dane said yes
  std::string error;
  bool handshake = false;
  long verify_result = -1;
  int dane_usage = -1;  // the usage of the TLSA record that matched, if one did
  std::string sni;      // what the server saw
};

// A server presenting `leaf` (and `chain`, if any), a DANE client for `host` with `records`.
Outcome connect(const TestCert& leaf, const TestCert* chain, const std::string& host,
                const std::vector<tls::Tlsa>& records) {
  CtxPtr server_ctx(SSL_CTX_new(TLS_server_method()));
  REQUIRE(server_ctx);
  REQUIRE(SSL_CTX_use_certificate(server_ctx.get(), leaf.cert()) == 1);
  REQUIRE(SSL_CTX_use_PrivateKey(server_ctx.get(), leaf.key()) == 1);
  if (chain != nullptr) REQUIRE(SSL_CTX_add1_chain_cert(server_ctx.get(), chain->cert()) == 1);

  CtxPtr client_ctx(SSL_CTX_new(TLS_client_method()));
  REQUIRE(client_ctx);
  SSL_CTX_set_min_proto_version(client_ctx.get(), TLS1_2_VERSION);
  std::string error;
  REQUIRE(enable_dane_on_context(client_ctx.get(), &error));
  REQUIRE(enable_dane_on_context(client_ctx.get(), &error));  // twice is harmless

  SslPtr server(SSL_new(server_ctx.get()));
  SslPtr client(SSL_new(client_ctx.get()));
  BIO* client_bio = nullptr;
  BIO* server_bio = nullptr;
  REQUIRE(BIO_new_bio_pair(&client_bio, 0, &server_bio, 0) == 1);
  SSL_set_bio(client.get(), client_bio, client_bio);
  SSL_set_bio(server.get(), server_bio, server_bio);
  SSL_set_connect_state(client.get());
  SSL_set_accept_state(server.get());

  Outcome out;
  out.enabled = enable_dane(client.get(), host, records, &out.error);
  if (!out.enabled) return out;
  for (int round = 0; round < 50; ++round) {
    const int c = SSL_do_handshake(client.get());
    const int s = SSL_do_handshake(server.get());
    if (c == 1 && s == 1) {
      out.handshake = true;
      break;
    }
    const auto stuck = [](SSL* ssl, int rc) {
      if (rc == 1) return false;
      const int e = SSL_get_error(ssl, rc);
      return e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE;
    };
    if (stuck(client.get(), c) || stuck(server.get(), s)) break;
  }
  ERR_clear_error();
  out.verify_result = SSL_get_verify_result(client.get());
  std::uint8_t usage = 0, selector = 0, mtype = 0;
  const unsigned char* data = nullptr;
  std::size_t dlen = 0;
  if (SSL_get0_dane_tlsa(client.get(), &usage, &selector, &mtype, &data, &dlen) >= 0) {
    out.dane_usage = usage;
  }
  if (const char* name = SSL_get_servername(server.get(), TLSEXT_NAMETYPE_host_name)) {
    out.sni = name;
  }
  return out;
}

}  // namespace

TEST_CASE("DANE: a matching TLSA 3 1 1 passes, a wrong one fails the handshake", "[net][dane]") {
  TestPki pki;
  const TestCert leaf = pki.issue({mx});
  const std::string spki_hash = sha256_of(leaf.spki_der());

  auto ok = connect(leaf, nullptr, mx, {tls::Tlsa{3, 1, 1, spki_hash}});
  INFO(ok.error);
  CHECK(ok.enabled);
  CHECK(ok.handshake);
  CHECK(ok.verify_result == X509_V_OK);
  CHECK(ok.dane_usage == 3);
  CHECK(ok.sni == mx);

  std::string wrong = spki_hash;
  wrong[0] = static_cast<char>(wrong[0] ^ 1);
  auto bad = connect(leaf, nullptr, mx, {tls::Tlsa{3, 1, 1, wrong}});
  CHECK(bad.enabled);
  CHECK_FALSE(bad.handshake);
  CHECK(bad.verify_result != X509_V_OK);

  SECTION("one matching record among several is enough") {
    auto some = connect(leaf, nullptr, mx,
                        {tls::Tlsa{3, 1, 1, wrong}, tls::Tlsa{3, 1, 1, spki_hash}});
    CHECK(some.handshake);
  }
  SECTION("DANE-EE checks no name: a certificate for another host still passes") {
    const TestCert other = pki.issue({"elsewhere.example.test"});
    auto r = connect(other, nullptr, mx, {tls::Tlsa{3, 1, 1, sha256_of(other.spki_der())}});
    CHECK(r.handshake);
    CHECK(r.verify_result == X509_V_OK);
  }
  SECTION("3 0 1 (the whole certificate) works too") {
    auto r = connect(leaf, nullptr, mx, {tls::Tlsa{3, 0, 1, sha256_of(leaf.cert_der())}});
    CHECK(r.handshake);
  }
}

TEST_CASE("DANE: a 2 0 1 on the issuing CA passes, and then the MX name counts",
          "[net][dane]") {
  TestPki pki;
  const TestCert leaf = pki.issue({mx});
  const tls::Tlsa ta{2, 0, 1, sha256_of(pki.ca().cert_der())};

  auto ok = connect(leaf, &pki.ca(), mx, {ta});
  INFO(ok.error);
  CHECK(ok.handshake);
  CHECK(ok.verify_result == X509_V_OK);
  CHECK(ok.dane_usage == 2);

  // DANE-TA checks the name against the MX host (RFC 7672 §3.2.2).
  const TestCert misnamed = pki.issue({"elsewhere.example.test"});
  auto wrong_name = connect(misnamed, &pki.ca(), mx, {ta});
  CHECK_FALSE(wrong_name.handshake);
  CHECK(wrong_name.verify_result == X509_V_ERR_HOSTNAME_MISMATCH);

  // Another CA's hash does not make this one a trust anchor.
  TestPki other;
  auto foreign =
      connect(leaf, &pki.ca(), mx, {tls::Tlsa{2, 0, 1, sha256_of(other.ca().cert_der())}});
  CHECK_FALSE(foreign.handshake);
}

TEST_CASE("DANE: records that cannot be used leave DANE off with a reason", "[net][dane]") {
  TestPki pki;
  const TestCert leaf = pki.issue({mx});
  const std::string spki_hash = sha256_of(leaf.spki_der());

  // PKIX-TA(0) and PKIX-EE(1) are unusable in SMTP (RFC 7672 §3.1.3), even when they match.
  auto pkix =
      connect(leaf, nullptr, mx, {tls::Tlsa{1, 1, 1, spki_hash}, tls::Tlsa{0, 1, 1, spki_hash}});
  CHECK_FALSE(pkix.enabled);
  CHECK(pkix.error.find("no usable TLSA record") != std::string::npos);

  // Unknown selector and matching type, and a digest of the wrong length.
  auto odd = connect(leaf, nullptr, mx,
                     {tls::Tlsa{3, 7, 1, spki_hash}, tls::Tlsa{3, 1, 9, spki_hash},
                      tls::Tlsa{3, 1, 1, "short"}, tls::Tlsa{2, 0, 0, "not a certificate"}});
  CHECK_FALSE(odd.enabled);

  auto none = connect(leaf, nullptr, mx, {});
  CHECK_FALSE(none.enabled);

  // Unusable records beside a usable one are skipped.
  auto mixed = connect(leaf, nullptr, mx,
                       {tls::Tlsa{3, 1, 1, "short"}, tls::Tlsa{3, 1, 1, spki_hash}});
  CHECK(mixed.enabled);
  CHECK(mixed.handshake);

  std::string error;
  CHECK_FALSE(enable_dane(nullptr, mx, {}, &error));
  CHECK_FALSE(error.empty());
  CHECK_FALSE(enable_dane_on_context(nullptr, &error));
}
