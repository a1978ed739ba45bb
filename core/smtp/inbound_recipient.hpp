#pragma once
// What Volley's inbound SMTP listener takes: bounces and feedback reports for its own domains,
// never mail to relay (net/smtp_listener answers everything else 550 5.7.1).
#include <string>
#include <vector>

namespace volley::smtp {

// True when `address` (a RCPT forward path, without <>) is one the listener takes: a plain
// dot-atom local part at one of `domains` (lower case), or bare "postmaster" (RFC 5321 §4.5.1).
// '%' and '!' paths and quoted local parts are refused: they are how old relays were tricked into
// forwarding.
bool inbound_recipient_allowed(const std::string& address, const std::vector<std::string>& domains);

}  // namespace volley::smtp
