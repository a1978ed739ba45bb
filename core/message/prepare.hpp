#pragma once
// Turns one JSON injection request (builder form or raw form) into a message ready to spool:
// validated envelope, and a complete RFC 5322 message with CRLF line ends. All API input
// validation lives here, so the HTTP layer only maps the error to a status code.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace volley::message {

struct PrepareOptions {
  std::string hostname = "localhost";  // right side of generated Message-IDs
  std::int64_t now_unix = 0;           // for the Date header (seconds); 0 = use the clock
  std::size_t max_message_size = 25 * 1024 * 1024;
  std::size_t max_recipients = 1000;
};

struct PreparedMessage {
  std::string envelope_from;            // "" = null reverse-path
  std::vector<std::string> recipients;  // to + cc + bcc addr-specs, duplicates removed, in order
  std::string message;                  // RFC 5322 message, CRLF line ends, no Bcc header
  std::string message_id;               // the Message-ID header value, with <>
  std::vector<std::string> tags;
  std::string metadata_json;            // the "metadata" object serialised, "{}" when absent
  std::string campaign;                 // "campaign" string field, "" when absent
  bool body_8bit = false;               // any byte >= 0x80 in the message
  bool needs_smtputf8 = false;          // any non-ASCII envelope address, or UTF-8 in the header
                                        // section (RFC 6532 addresses; raw-form headers)
};

struct PrepareError {
  int http_status = 400;  // 400, or 413 over max_message_size
  std::string code;       // machine-readable: "invalid_json", "missing_field", "invalid_address",
                          // "header_injection", "too_large", "invalid_field", "too_many_recipients",
                          // "unknown_field"
  std::string message;    // for people
  std::string field;      // JSON path of the offending field, e.g. "to[2].email"; "" if none
};

using PrepareResult = std::variant<PreparedMessage, PrepareError>;

// Request rules (details and limits in prepare.cpp):
// - Addresses are "a@b" or {"email", "name"}; to/cc/bcc/reply_to take one or an array. At least
//   one recipient in to+cc+bcc; Bcc never reaches the headers. "envelope_from": "" asks for
//   the null reverse-path; absent means from's address.
// - Builder form needs text, html or attachments. Custom "headers" may not set From, To, Cc,
//   Bcc, Reply-To, Subject, Date, MIME-Version, Content-Type, Content-Transfer-Encoding,
//   Content-Disposition or Return-Path; a valid "Message-ID" replaces the generated one.
// - Raw form ("raw": a whole message) takes from/to/cc/bcc/envelope_from and the labels only;
//   it is passed on except for CRLF line ends, Bcc fields removed, Date/Message-ID added when
//   missing.
// - CR, LF or NUL in anything that reaches a header is "header_injection".
// - A member that the request, an address or an attachment does not have is "unknown_field"
//   (e.g. "subjet", "send_at", "to[1].nmae", "attachments[0].cid"); `caller_members` are
//   the request members its caller reads itself (the HTTP layer's "pool"). "headers" and
//   "metadata" take any names.
PrepareResult prepare_message(const nlohmann::json& request, const PrepareOptions& opts,
                              std::span<const std::string_view> caller_members = {});

}  // namespace volley::message
