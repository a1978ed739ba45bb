#pragma once
// Content-Transfer-Encodings (RFC 2045) and line-end normalisation for message bodies.
#include <optional>
#include <string>
#include <string_view>

namespace volley::message {

// LF, CR and CRLF all become CRLF.
std::string to_crlf(std::string_view text);
// The same, and *fits_7bit = fits_7bit() of the result, found in the same pass (a second pass
// over the result was a third of the text passes' time at 100 KiB: loadtest/README.md, issue 14).
std::string to_crlf(std::string_view text, bool* fits_7bit);

// Base64 in lines of 76 characters, each ended by CRLF ("" for empty input).
std::string base64_encode_lines(std::string_view data);
// Base64 on one line, no line ends (for RFC 2047 encoded words).
std::string base64_encode(std::string_view data);
// Strict decoder for API input: standard alphabet, whitespace ignored, padding required.
// On failure returns nullopt and sets *bad_offset to the offending input offset.
std::optional<std::string> base64_decode(std::string_view text, std::size_t* bad_offset);

// Quoted-printable of text whose line ends are already CRLF. Encoded lines are at most 76
// characters; trailing whitespace and whitespace before a soft break are always encoded.
std::string quoted_printable_encode(std::string_view crlf_text);

// True when text (CRLF line ends) may travel as 7bit: printable ASCII, TAB, lines <= 998.
bool fits_7bit(std::string_view crlf_text);

}  // namespace volley::message
