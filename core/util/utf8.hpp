#pragma once
// Well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF), the one
// check for every place that lets UTF-8 through: SMTP addresses (RFC 6531), replies cleaned for
// logs, and the fields and addresses of injected messages.
#include <cstddef>
#include <string_view>

namespace volley::util {

// Length of the well-formed multi-byte sequence starting at s[i], or 0 when the bytes there are
// not one (an ASCII byte included: callers handle ASCII themselves).
std::size_t utf8_sequence_length(std::string_view s, std::size_t i);

bool valid_utf8(std::string_view s);
// No byte above 0x7F (checked a block at a time: most text is ASCII).
bool is_ascii(std::string_view s);

}  // namespace volley::util
