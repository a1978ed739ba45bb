#pragma once
// The server side of the SASL mechanisms an SMTP submission server offers (RFC 4954): PLAIN
// (RFC 4616) and LOGIN (draft-murchison-sasl-login). Sans-IO: the SMTP machine hands it the
// AUTH command's mechanism and initial response and then each client line; it answers with the
// next challenge, the credentials, or why the exchange failed. Checking the credentials is the
// owner's business.
#include <optional>
#include <string>
#include <string_view>

namespace volley::smtp {

enum class SaslMechanism { plain, login };

// "PLAIN" or "LOGIN", case-insensitive; nullopt for any other.
std::optional<SaslMechanism> parse_sasl_mechanism(std::string_view name);
std::string_view sasl_mechanism_name(SaslMechanism m);

struct SaslCredentials {
  std::string authzid;   // PLAIN's authorization identity ("" when absent)
  std::string username;  // authentication identity
  std::string password;
};

struct SaslStep {
  enum class Kind { challenge, done, failed };
  Kind kind = Kind::failed;
  std::string challenge;        // challenge: base64 text to send after "334 " ("" allowed)
  SaslCredentials credentials;  // done
  int code = 501;               // failed: the reply (501 5.5.2 bad base64, 501 5.7.0 cancelled, ...)
  std::string enhanced;
  std::string text;
};

// One exchange, from the AUTH command to its credentials.
class SaslExchange {
 public:
  // Longest identity or password taken (RFC 4616 allows 255 octets each).
  static constexpr std::size_t kMaxField = 255;

  explicit SaslExchange(SaslMechanism m) : mechanism_(m) {}
  // The AUTH command's initial response, if it had one ("=" is an empty one, RFC 4954 §4).
  SaslStep start(std::optional<std::string_view> initial_response);
  // One line from the client after a challenge, line end removed; "*" cancels (RFC 4954 §4).
  SaslStep respond(std::string_view line);
  SaslMechanism mechanism() const { return mechanism_; }

 private:
  SaslStep plain(std::string_view b64);
  SaslStep login(std::string_view b64);

  SaslMechanism mechanism_;
  bool have_username_ = false;
  std::string username_;
};

}  // namespace volley::smtp
