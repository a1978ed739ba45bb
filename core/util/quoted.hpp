#pragma once
// Text someone else wrote (a config value, a key, a peer's bytes), made safe and short for an error
// message: it cannot break the message's line or quoting, nor flood the log.
#include <cstddef>
#include <string>
#include <string_view>

namespace volley::util {

// Characters of the text shown before it is cut with "...".
inline constexpr std::size_t kMaxQuoted = 64;

// `text` in double quotes: '"' and '\' escaped with '\', control bytes as \xNN, cut with "..."
// after `max_shown` characters (kMaxQuoted by default).
std::string quoted(std::string_view text, std::size_t max_shown = kMaxQuoted);

}  // namespace volley::util
