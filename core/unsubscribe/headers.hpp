#pragma once
// Which injected messages leave with List-Unsubscribe (RFC 2369) and List-Unsubscribe-Post
// (RFC 8058), and those header fields' text. The request's "list_unsubscribe" member decides,
// with the message's campaign and whether [unsubscribe] is configured:
//   absent       a message with a campaign gets Volley's headers when [unsubscribe] is
//                configured; without a campaign, or without the configuration, none
//   true         Volley's headers; 400 unsubscribe_not_configured without [unsubscribe]
//   false        none, even with a campaign (mail that must not offer it: a receipt)
//   {"url", "mailto"}  the application's own: written as given (url https://, mailto an
//                address; at least one), the same for every recipient
// A message whose own headers already hold a List-Unsubscribe field keeps it: with a campaign
// nothing is added; asking for headers as well is a 400 (which of the two should go?).
//
// Volley's headers name each recipient (core/unsubscribe/token.hpp), and DKIM signs them, so a
// message that gets them is stored as one message per recipient (docs/unsubscribe.md).
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json_fwd.hpp>

namespace volley::unsubscribe {

// The request member this file reads (the injection API passes it on to prepare_message as one
// of its own).
inline constexpr std::string_view kRequestMember = "list_unsubscribe";

// The [unsubscribe] settings headers are made from.
struct Endpoints {
  std::string base_url;       // "https://mta.example.com", no trailing '/'; "" = not configured
  std::string mailto_domain;  // "" = no mailto
};

struct Plan {
  enum class Kind { none, per_recipient, own } kind = Kind::none;
  std::string url;     // own: "" or an https URL
  std::string mailto;  // own: "" or an address
  friend bool operator==(const Plan&, const Plan&) = default;
};

// A refusal in the injection API's terms (status 400).
struct PlanError {
  std::string code;  // "invalid_field", "header_injection", "unsubscribe_not_configured"
  std::string message;
  std::string field;  // "list_unsubscribe", "list_unsubscribe.url", ...
};

// request: the injection request (an object); message: the prepared RFC 5322 message.
std::variant<Plan, PlanError> plan_for(const nlohmann::json& request, bool has_campaign, const Endpoints& endpoints,
                                       std::string_view message);

// The two header fields, each ending CRLF: List-Unsubscribe with <url> and <mailto:...> (each
// when not empty; the mailto folded onto its own line), and List-Unsubscribe-Post only with a
// URL (RFC 8058 section 3.1). "" when both are empty.
std::string header_fields(std::string_view url, std::string_view mailto);

// Volley's one-click URL and mailto address for a token and a mailto local part.
std::string one_click_url(const Endpoints& endpoints, std::string_view token);
std::string mailto_address(const Endpoints& endpoints, std::string_view local_part);  // "" without a domain

// Whether the header section of a CRLF message has a List-Unsubscribe field.
bool has_list_unsubscribe(std::string_view message);

// The token in a request path "/u/<token>" (nullopt for any other path).
std::optional<std::string_view> token_in_path(std::string_view path);

}  // namespace volley::unsubscribe
