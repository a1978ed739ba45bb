#pragma once
// Message ids: 24 lower-case hex characters, time-ordered (48-bit milliseconds, then 48 random
// bits), unique across restarts and processes without coordination, safe in URLs and keys.
#include <cstdint>
#include <string>

namespace volley {

std::string new_message_id();
// Milliseconds since the Unix epoch (system clock).
std::int64_t now_unix_ms();

}  // namespace volley
