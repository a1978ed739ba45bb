#pragma once
// What decides how a connection to one MX host is protected: the operator's TLS mode for the
// destination (a shaping key), the domain's MTA-STS policy (RFC 8461) and the MX host's
// authenticated TLSA records (DANE, RFC 7672). Plain data shared by the DNS side, the MTA-STS
// side and the TLS policy decision, so that none of them needs the others' code.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace volley::tls {

// The operator's choice per destination ([shaping.*] tls = "...").
//   disabled:             never STARTTLS
//   opportunistic:        STARTTLS when offered, certificate not judged; a failed handshake is
//                         retried in clear text (Postfix's "may")
//   opportunistic_verify: as opportunistic, but the certificate is checked and the result shown
//                         (mail still goes when it does not verify)
//   required:             TLS with a certificate that verifies against the MX name, else defer
//   required_insecure:    TLS always, certificate not judged, else defer
enum class Mode : std::uint8_t { disabled, opportunistic, opportunistic_verify, required, required_insecure };

inline std::optional<Mode> parse_mode(std::string_view s) {
  if (s == "disabled") return Mode::disabled;
  if (s == "opportunistic") return Mode::opportunistic;
  if (s == "opportunistic_verify") return Mode::opportunistic_verify;
  if (s == "required") return Mode::required;
  if (s == "required_insecure") return Mode::required_insecure;
  return std::nullopt;
}

inline std::string_view mode_name(Mode m) {
  switch (m) {
    case Mode::disabled: return "disabled";
    case Mode::opportunistic: return "opportunistic";
    case Mode::opportunistic_verify: return "opportunistic_verify";
    case Mode::required: return "required";
    case Mode::required_insecure: return "required_insecure";
  }
  return "opportunistic";
}

// A domain's MTA-STS policy as fetched (RFC 8461 §3.2).
struct StsPolicy {
  enum class Mode : std::uint8_t { none, testing, enforce };
  Mode mode = Mode::none;
  std::vector<std::string> mx;         // "mx:" patterns, lower case: "mail.example.com", "*.example.net"
  std::chrono::seconds max_age{0};
  std::string id;                      // the _mta-sts TXT id it was fetched under
  friend bool operator==(const StsPolicy&, const StsPolicy&) = default;
};

// One TLSA record (RFC 6698 §2.1): usage 3 = DANE-EE, 2 = DANE-TA; selector 0 = full
// certificate, 1 = SubjectPublicKeyInfo; mtype 0 = exact, 1 = SHA-256, 2 = SHA-512.
struct Tlsa {
  std::uint8_t usage = 3;
  std::uint8_t selector = 1;
  std::uint8_t mtype = 1;
  std::string data;  // binary association data
  friend bool operator==(const Tlsa&, const Tlsa&) = default;
};

}  // namespace volley::tls
