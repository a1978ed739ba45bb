// Parsing a request body into a nlohmann::json document, fast and with precise errors.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

namespace volley::json {

struct JsonError {
  std::string message;  // "malformed JSON at byte N: ...", or the nesting limit that was hit
};

// The document in `text`, or why it is refused. Deeper nesting than `max_depth` is refused before
// any tree is built (a hostile body of 10,000 '[' must not cost a deep recursion).
//
// Why two parsers: simdjson validates and unescapes a 10 KiB message body about twenty times
// faster than nlohmann's character-at-a-time lexer (17 % of injection CPU in a profile), but its
// errors say only what went wrong, not where. Well-formed input (nearly all of it) takes the fast
// path; anything simdjson refuses is parsed again by nlohmann, whose answer (a document, or an
// error with its byte position) is the one given, so both paths accept exactly the same texts.
std::variant<nlohmann::json, JsonError> parse_request_json(std::string_view text, std::size_t max_depth);

}  // namespace volley::json
