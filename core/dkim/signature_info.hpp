#pragma once
// Which DKIM signature a message was given: what the spool keeps with the message record and the
// delivered event reports ("dkim": [{"domain","selector","algorithm"}]). Header only, so the
// spool and events areas can hold it without linking the signer.
#include <string>
#include <vector>

namespace volley::dkim {

struct SignatureInfo {
  std::string domain;     // d=
  std::string selector;   // s=
  std::string algorithm;  // a=: "rsa-sha256" or "ed25519-sha256"

  bool operator==(const SignatureInfo&) const = default;
};
using SignatureInfos = std::vector<SignatureInfo>;

}  // namespace volley::dkim
