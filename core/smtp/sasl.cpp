#include "core/smtp/sasl.hpp"

#include <algorithm>

#include "core/message/transfer_encoding.hpp"
#include "core/util/ascii.hpp"

namespace volley::smtp {

namespace {

constexpr std::string_view kUsernameChallenge = "VXNlcm5hbWU6";  // "Username:"
constexpr std::string_view kPasswordChallenge = "UGFzc3dvcmQ6";  // "Password:"

SaslStep failed(int code, std::string enhanced, std::string text) {
  SaslStep s;
  s.kind = SaslStep::Kind::failed;
  s.code = code;
  s.enhanced = std::move(enhanced);
  s.text = std::move(text);
  return s;
}

SaslStep challenge(std::string_view b64) {
  SaslStep s;
  s.kind = SaslStep::Kind::challenge;
  s.challenge = std::string(b64);
  return s;
}

SaslStep cannot_decode() { return failed(501, "5.5.2", "Cannot decode the authentication response"); }

// A response decoded; "=" is the empty response. nullopt on bad base64.
std::optional<std::string> decode(std::string_view b64) {
  if (b64 == "=") return std::string();
  if (b64.empty()) return std::string();
  std::size_t bad = 0;
  return message::base64_decode(b64, &bad);
}

bool has_nul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

}  // namespace

std::optional<SaslMechanism> parse_sasl_mechanism(std::string_view name) {
  if (util::ascii_iequals(name, "PLAIN")) return SaslMechanism::plain;
  if (util::ascii_iequals(name, "LOGIN")) return SaslMechanism::login;
  return std::nullopt;
}

std::string_view sasl_mechanism_name(SaslMechanism m) { return m == SaslMechanism::plain ? "PLAIN" : "LOGIN"; }

SaslStep SaslExchange::start(std::optional<std::string_view> initial_response) {
  if (mechanism_ == SaslMechanism::plain) {
    if (!initial_response) return challenge("");
    return plain(*initial_response);
  }
  if (!initial_response) return challenge(kUsernameChallenge);
  return login(*initial_response);
}

SaslStep SaslExchange::respond(std::string_view line) {
  if (line == "*") return failed(501, "5.7.0", "Authentication cancelled");
  return mechanism_ == SaslMechanism::plain ? plain(line) : login(line);
}

// authzid NUL authcid NUL passwd (RFC 4616 §2).
SaslStep SaslExchange::plain(std::string_view b64) {
  const auto decoded = decode(b64);
  if (!decoded) return cannot_decode();
  const std::string_view m(*decoded);
  const auto first = m.find('\0');
  const auto second = first == std::string_view::npos ? first : m.find('\0', first + 1);
  if (second == std::string_view::npos || m.find('\0', second + 1) != std::string_view::npos)
    return failed(501, "5.5.2", "Malformed PLAIN response");
  SaslStep s;
  s.kind = SaslStep::Kind::done;
  s.credentials.authzid = std::string(m.substr(0, first));
  s.credentials.username = std::string(m.substr(first + 1, second - first - 1));
  s.credentials.password = std::string(m.substr(second + 1));
  const auto& c = s.credentials;
  if (c.username.empty() || c.authzid.size() > kMaxField || c.username.size() > kMaxField ||
      c.password.size() > kMaxField)
    return failed(501, "5.5.2", "Malformed PLAIN response");
  return s;
}

SaslStep SaslExchange::login(std::string_view b64) {
  const auto decoded = decode(b64);
  if (!decoded) return cannot_decode();
  if (has_nul(*decoded) || decoded->size() > kMaxField) return failed(501, "5.5.2", "Malformed LOGIN response");
  if (!have_username_) {
    if (decoded->empty()) return failed(501, "5.5.2", "Malformed LOGIN response");
    have_username_ = true;
    username_ = *decoded;
    return challenge(kPasswordChallenge);
  }
  SaslStep s;
  s.kind = SaslStep::Kind::done;
  s.credentials.username = std::move(username_);
  s.credentials.password = *decoded;
  return s;
}

}  // namespace volley::smtp
