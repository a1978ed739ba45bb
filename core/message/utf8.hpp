#pragma once
// Byte-level text checks shared by address parsing, header building and body encoding.
#include <string_view>

#include "core/util/utf8.hpp"

namespace volley::message {

using util::is_ascii;  // one copy, with the UTF-8 check (core/util/utf8.hpp)

// C0 controls other than TAB, DEL, and the C1 controls (U+0080..U+009F as UTF-8).
// Assumes valid UTF-8.
bool has_control_chars(std::string_view s);
// Length in octets of the UTF-8 sequence that starts with `lead` (1 for continuation bytes,
// so a walk over malformed input still advances).
std::size_t utf8_sequence_length(unsigned char lead);

}  // namespace volley::message
