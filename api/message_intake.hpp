#pragma once
// What every way into Volley does with a message once it is a JSON request: the HTTP API's
// requests, and the SMTP submission listener's messages turned into raw-form requests. Both
// validate with core/message/prepare, choose the IP pool the same way, leave out suppressed
// recipients the same way and give the spool the same records, so a message behaves alike
// whichever way it came in.
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/delivery/ip_pool.hpp"
#include "core/message/prepare.hpp"
#include "core/spool/records.hpp"
#include "core/unsubscribe/headers.hpp"

namespace volley::storage {
class SuppressionList;
}

namespace volley::api {

// A recipient left out at injection because its address is on its tenant's suppression list:
// what an event about it needs.
struct SuppressedRecipient {
  std::string message_id, rcpt_id, recipient, tenant, campaign, pool;
  std::vector<std::string> tags;
  std::string metadata_json;
  std::string reason;  // the suppression entry's
  std::int64_t at_ms = 0;
};

// A validated message and the IP pool it leaves from.
struct Prepared {
  message::PreparedMessage message;
  std::string pool;
  unsubscribe::Plan unsubscribe;  // List-Unsubscribe (HTTP only: api/unsubscribe_injection.hpp)
  std::int64_t send_at_ms = 0;    // "send_at" (core/schedule/send_at.hpp): 0 = at once
};

// Why a request was refused: the HTTP status (400, 413, 503 no_pool), the error code, a message
// for people and the JSON path of the offending field.
struct IntakeError {
  int status = 400;
  std::string code, message, field;
};

// Validates one message request (prepare_message with the member "pool" allowed) and chooses
// its pool ("pool" when given, else the rules for the tenant and sender domain); an error's
// field is prefixed with `field_prefix`.
std::variant<Prepared, IntakeError> prepare_request(const nlohmann::json& request, const message::PrepareOptions& opts,
                                                    const delivery::IpPools& pools, const std::string& tenant,
                                                    const std::string& field_prefix);

// A validated message, turned into what the spool stores and what the client is told.
struct Accepted {
  std::optional<spool::NewMessage> message;  // nullopt: every recipient is suppressed
  nlohmann::json answer;                     // {"id", "recipients": [{"email","id","status"}]}
  std::vector<SuppressedRecipient> suppressed;
  unsubscribe::Plan unsubscribe;
};

// Gives the message its id and its recipients theirs, leaving out those on the tenant's list
// (null: no list).
Accepted accept_message(Prepared&& ready, const std::string& tenant, const storage::SuppressionList* list);

}  // namespace volley::api
