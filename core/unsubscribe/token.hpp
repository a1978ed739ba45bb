#pragma once
// Unsubscribe tokens (RFC 8058 one-click URLs and RFC 2369 mailto addresses): what a mailbox
// provider sends back to unsubscribe one recipient, signed so that a guessed or altered token
// unsubscribes nobody.
//
// The URL token carries everything the unsubscribe needs (tenant, recipient id, address,
// campaign), so it keeps working after delivery history has forgotten the message; it is
// base64url (RFC 4648 section 5, no padding) of
//   version 1 | message id (12 bytes) | recipient index (4 bytes, big endian) |
//   tenant, address, campaign (each one length byte and its bytes) | tag (16 bytes)
// where the tag is the first 16 bytes of HMAC-SHA256(key, everything before it). Only the
// canonical encoding is read, so a token with any one character changed is refused.
//
// A mailto address has to fit a local part of 64 octets (RFC 5321 section 4.5.3.1.1), which an
// address does not: the mailto form is the signed recipient id alone, "u+<rcpt id>.<tag>", the
// same form as a VERP address, and is resolved through delivery history.
//
// The key is HMAC-SHA256(instance secret, "unsubscribe"): the spool's instance secret that also
// keys the VERP tags, so tokens survive restarts, but a VERP tag is never a valid unsubscribe
// tag.
#include <optional>
#include <string>
#include <string_view>

#include "core/delivery/return_path.hpp"

namespace volley::unsubscribe {

// Who unsubscribes: one recipient of one message.
struct Recipient {
  std::string tenant;
  std::string rcpt_id;  // spool recipient id: "<24 hex>-<index>"
  std::string address;  // addr-spec, as the message was sent to it
  std::string campaign;  // "" = none

  friend bool operator==(const Recipient&, const Recipient&) = default;
};

// The mailto local part's prefix: u+<signed recipient id>.
inline constexpr std::string_view kMailtoPrefix = "u+";

class TokenKey {
 public:
  // instance_secret: the spool's (Spool::instance_secret).
  explicit TokenKey(std::string_view instance_secret);

  // The URL token of r. Throws std::invalid_argument when r cannot be encoded (a recipient id
  // that is not one, a field over 255 bytes): the injection path never makes such a recipient.
  std::string token(const Recipient& r) const;
  // The recipient a token names, or nullopt and *error (why, for logs) when it is malformed or
  // its tag is wrong.
  std::optional<Recipient> read(std::string_view token, std::string* error = nullptr) const;

  // "u+<rcpt id>.<tag>": the local part of the mailto address.
  std::string mailto_local_part(std::string_view rcpt_id) const;
  // The recipient id in a mailto local part whose tag is right (case-insensitive: relays may
  // change the case of local parts), else "".
  std::string mailto_rcpt_id(std::string_view local_part) const;

 private:
  std::string key_;
  delivery::ReturnPaths signer_;  // the short signed-id form, with this key
};

}  // namespace volley::unsubscribe
