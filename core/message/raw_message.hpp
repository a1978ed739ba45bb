#pragma once
// The raw injection form: a complete RFC 5322 message from the client. It is checked and
// passed on nearly untouched (a DKIM signature made by the client must survive): line ends
// become CRLF, Bcc fields are removed, and Date / Message-ID are added only when missing.
#include <optional>
#include <string>
#include <string_view>

namespace volley::message {

struct RawMessage {
  std::string message;     // normalised message, ends with CRLF
  std::string message_id;  // existing Message-ID value (unfolded, trimmed) or the added one
  bool header_8bit = false;  // non-ASCII in the header section (RFC 6532: needs SMTPUTF8)
};

struct RawProblem {
  std::string code;     // "header_injection" or "invalid_field"
  std::string message;  // short reason, with a line number where there is one
};

// `date` and `new_message_id` ("<...>") are used only when the message lacks them.
std::optional<RawProblem> normalise_raw_message(std::string_view raw, std::string_view date,
                                                std::string_view new_message_id, RawMessage* out);

}  // namespace volley::message
