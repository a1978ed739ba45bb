// Parsing a request body into a nlohmann::json document, fast and with precise errors.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

namespace volley::json {

struct JsonError {
  // "invalid_json": malformed text, or nested deeper than allowed. "duplicate_key": well-formed,
  // but an object repeats a member name (refused at every depth, as I-JSON, RFC 7493, requires:
  // a gateway reading the first "to" and Volley the last must never see different messages).
  std::string code;
  std::string message;  // "malformed JSON at byte N: ...", the nesting limit, or the repeated name
  std::string path;     // duplicate_key: the repeated member's path, e.g. "messages[0].from"
};

// The document in `text`, or why it is refused. Deeper nesting than `max_depth` is refused before
// any tree is built (a hostile body of 10,000 '[' must not cost a deep recursion).
//
// Why two parsers: simdjson validates and unescapes a 10 KiB message body about twenty times
// faster than nlohmann's character-at-a-time lexer (17 % of injection CPU in a profile), but its
// errors say only what went wrong, not where. Well-formed input (nearly all of it) takes the fast
// path; anything simdjson refuses is parsed again by nlohmann, whose answer (a document, or an
// error with its byte position) is the one given, so both paths accept exactly the same texts.
// Both refuse repeated member names the same way; malformed text is invalid_json even when it
// also repeats a name.
//
// `readable_after`: bytes past the end of `text` that may be read (their values do not matter).
// With kReadAhead or more, simdjson parses the text where it is; otherwise it is copied first.
inline constexpr std::size_t kReadAhead = 64;  // SIMDJSON_PADDING, without simdjson's header
std::variant<nlohmann::json, JsonError> parse_request_json(std::string_view text, std::size_t max_depth,
                                                           std::size_t readable_after = 0);

}  // namespace volley::json
