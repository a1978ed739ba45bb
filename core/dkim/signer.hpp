#pragma once
// DKIM signing of whole messages (RFC 6376 §5): which keys sign a message (its From: domain and
// its tenant), which header fields each signature covers, and the DKIM-Signature fields, folded
// to 78 columns, ready to be put in front of the message. Time is passed in.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/dkim/canonical.hpp"
#include "core/dkim/header_fields.hpp"
#include "core/dkim/key.hpp"
#include "core/dkim/signature_info.hpp"

namespace volley::dkim {

// The header fields signed by default, where present (names compared without case).
const std::vector<std::string>& default_signed_headers();
// Signed once more than they occur, so that nobody can add one the signature does not cover.
const std::vector<std::string>& default_over_signed_headers();

struct SigningKey {
  std::string domain;    // d=, lower case
  bool subdomains = false;  // also signs mail from <anything>.domain (d= stays domain)
  std::string selector;  // s=
  PrivateKey key;
  Canonicalization canonicalization;
  std::vector<std::string> headers = default_signed_headers();
  std::vector<std::string> over_sign = default_over_signed_headers();
  std::chrono::seconds expiration{0};  // x= is t= + this; 0: no x=
  std::string tenant;                  // "": any tenant's mail
};

// The h= list for a message with these fields: every name of `headers` as often as it occurs
// (a name in `over_sign` once more, even when absent, and even when `headers` does not list it),
// in the order of `headers` then `over_sign`. X-Volley-ID is never in it. Empty when the message has no From field.
std::vector<std::string> signed_header_names(const std::vector<HeaderField>& fields,
                                             const std::vector<std::string>& headers,
                                             const std::vector<std::string>& over_sign);

// The header hash input (RFC 6376 §3.7, §5.4.2) without the DKIM-Signature field: the fields of
// `names`, each name taking the next instance from the bottom up; a name with no instance left
// adds nothing.
std::string signed_headers_data(const std::vector<HeaderField>& fields, const std::vector<std::string>& names, Canon c);

// Completes a DKIM-Signature field whose text so far ends with "b=" (the unsigned field, with
// its CRLFs, no final CRLF): signs headers_data + the canonical unsigned field and returns the
// field with b= filled in, folded, ending CRLF.
std::string complete_signature(const PrivateKey& key, Canon header_canon, std::string_view headers_data,
                               std::string unsigned_field);

// The domain of the message's one From: address, lower case; "" when there is none, several, or
// it cannot be read.
std::string from_domain(const std::vector<HeaderField>& fields);

struct SignResult {
  std::string fields;      // the DKIM-Signature fields to put in front of the message ("" none)
  SignatureInfos signatures;
  std::string error;       // why nothing was signed although keys would apply ("" otherwise)
};

// The keys of the configuration, and signing with them.
class Signer {
 public:
  explicit Signer(std::vector<SigningKey> keys) : keys_(std::move(keys)) {}

  bool empty() const { return keys_.empty(); }
  const std::vector<SigningKey>& keys() const { return keys_; }

  // Signs with every key for the message's From domain and tenant. message: CRLF text, or the
  // spool's wire form when wire_form (dot-stuffed, ending CRLF.CRLF: the fields returned go in
  // front of it as they are). now: t= (seconds since the epoch).
  SignResult sign(std::string_view message, bool wire_form, std::string_view tenant, std::int64_t now) const;

 private:
  std::vector<SigningKey> keys_;
};

}  // namespace volley::dkim
