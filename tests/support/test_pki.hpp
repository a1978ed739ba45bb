#pragma once
// Test support: a throwaway certificate authority made with OpenSSL's API at test time (EC
// P-256, so it is quick), issuing server certificates for given DNS names, as PEM (to write
// for a receiver) and as DER (to hash into TLSA records). Header-only; needs OpenSSL::Crypto.
//
//   volley::test::TestPki pki;
//   auto leaf = pki.issue({"mx.example.test"});
//   TLSA 3 1 1 = sha256(leaf.spki_der());  TLSA 2 0 1 = sha256(pki.ca().cert_der())
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace volley::test {

struct PkiX509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct PkiKeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkiBioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};

// One certificate and its private key.
class TestCert {
 public:
  TestCert(std::unique_ptr<X509, PkiX509Free> cert, std::unique_ptr<EVP_PKEY, PkiKeyFree> key)
      : cert_(std::move(cert)), key_(std::move(key)) {}

  X509* cert() const { return cert_.get(); }
  EVP_PKEY* key() const { return key_.get(); }

  // The whole certificate: what a TLSA record with selector 0 matches.
  std::string cert_der() const { return to_der(i2d_X509, cert_.get()); }
  // The SubjectPublicKeyInfo: what a TLSA record with selector 1 matches.
  std::string spki_der() const { return to_der(i2d_PUBKEY, key_.get()); }
  std::string cert_pem() const {
    return to_pem([&](BIO* b) { return PEM_write_bio_X509(b, cert_.get()); });
  }
  std::string key_pem() const {
    return to_pem([&](BIO* b) {
      return PEM_write_bio_PrivateKey(b, key_.get(), nullptr, nullptr, 0, nullptr, nullptr);
    });
  }

 private:
  template <class T>
  static std::string to_der(int (*i2d)(const T*, unsigned char**), const T* object) {
    unsigned char* out = nullptr;
    const int n = i2d(object, &out);
    if (n <= 0) throw std::runtime_error("DER encoding failed");
    std::string der(reinterpret_cast<char*>(out), static_cast<std::size_t>(n));
    OPENSSL_free(out);
    return der;
  }

  template <class Write>
  static std::string to_pem(Write write) {
    std::unique_ptr<BIO, PkiBioFree> bio(BIO_new(BIO_s_mem()));
    if (!bio || write(bio.get()) != 1) throw std::runtime_error("PEM write failed");
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
  }

  std::unique_ptr<X509, PkiX509Free> cert_;
  std::unique_ptr<EVP_PKEY, PkiKeyFree> key_;
};

class TestPki {
 public:
  explicit TestPki(const std::string& ca_name = "Volley Test CA")
      : ca_(make(ca_name, {}, nullptr, true)) {}

  const TestCert& ca() const { return ca_; }

  // A server certificate for `dns_names` (the first is also the CN), signed by this CA.
  TestCert issue(const std::vector<std::string>& dns_names) const {
    return make(dns_names.empty() ? "localhost" : dns_names.front(), dns_names, &ca_, false);
  }

  // The leaf's PEM followed by the CA's: a server's chain file.
  static std::string chain_pem(const TestCert& leaf, const TestCert& ca) {
    return leaf.cert_pem() + ca.cert_pem();
  }

 private:
  static TestCert make(const std::string& cn, const std::vector<std::string>& sans,
                       const TestCert* issuer, bool is_ca) {
    std::unique_ptr<EVP_PKEY, PkiKeyFree> key(EVP_EC_gen("P-256"));
    std::unique_ptr<X509, PkiX509Free> cert(X509_new());
    if (!key || !cert) throw std::runtime_error("cannot make a test key or certificate");
    static long serial = 1;
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial++);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400);
    X509_set_pubkey(cert.get(), key.get());
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
    X509* issuer_cert = issuer != nullptr ? issuer->cert() : cert.get();
    X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer_cert));
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer_cert, cert.get(), nullptr, nullptr, 0);
    std::vector<std::pair<int, std::string>> exts;
    if (is_ca) {
      exts = {{NID_basic_constraints, "critical,CA:TRUE"},
              {NID_key_usage, "critical,keyCertSign,cRLSign"},
              {NID_subject_key_identifier, "hash"}};
    } else {
      std::string san;
      for (const auto& n : sans) san += (san.empty() ? "DNS:" : ",DNS:") + n;
      exts = {{NID_basic_constraints, "CA:FALSE"},
              {NID_ext_key_usage, "serverAuth"},
              {NID_authority_key_identifier, "keyid"}};
      if (!san.empty()) exts.emplace_back(NID_subject_alt_name, san);
    }
    for (const auto& [nid, value] : exts) {
      X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
      if (ext == nullptr) throw std::runtime_error("bad test certificate extension " + value);
      X509_add_ext(cert.get(), ext, -1);
      X509_EXTENSION_free(ext);
    }
    EVP_PKEY* signer = issuer != nullptr ? issuer->key() : key.get();
    if (X509_sign(cert.get(), signer, EVP_sha256()) <= 0) {
      throw std::runtime_error("cannot sign a test certificate");
    }
    return TestCert(std::move(cert), std::move(key));
  }

  TestCert ca_;
};

}  // namespace volley::test
