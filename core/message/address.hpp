#pragma once
// Email addresses as the injection API accepts them: RFC 5321 mailbox (local@domain), with an
// optional display name for headers. Refuses anything that could break a header or an SMTP
// command (CR, LF, NUL, control characters, unbalanced quotes, "<" ">" in the addr-spec).
#include <optional>
#include <string>
#include <string_view>

namespace volley::message {

struct Mailbox {
  std::string local;         // local part, as given (case preserved)
  std::string domain;        // domain as given; compare with domain_key()
  std::string display_name;  // "" when none; may be UTF-8

  std::string address() const { return local + "@" + domain; }
  // Lower-cased domain: the key that routes to a delivery actor.
  std::string domain_key() const;
  // True when the local part or domain is not ASCII (needs SMTPUTF8).
  bool needs_smtputf8() const;
};

// Parses an addr-spec ("a@b.example"). On failure returns nullopt and sets *error to a short
// reason fit for an API answer ("missing @", "domain has an empty label", ...).
std::optional<Mailbox> parse_address(std::string_view addr_spec, std::string* error);

}  // namespace volley::message
