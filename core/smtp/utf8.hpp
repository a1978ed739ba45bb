#pragma once
// UTF-8 as SMTP lets it through (RFC 6531 addresses, RFC 6532 text): well-formed per RFC 3629 —
// no overlongs, no surrogates, nothing above U+10FFFF. Internal to core/smtp: the server checks
// addresses with it, replies are cleaned with it before they reach logs.
#include <cstddef>
#include <string_view>

namespace volley::smtp {

// Length of the well-formed multi-byte sequence starting at s[i], or 0 when the bytes there are
// not one (an ASCII byte included: callers handle ASCII themselves).
std::size_t utf8_sequence_length(std::string_view s, std::size_t i);

bool valid_utf8(std::string_view s);

}  // namespace volley::smtp
