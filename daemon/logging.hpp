#pragma once
// volleyd's own log (not the event log): text for people, or `[log] format = "json"` for log
// shippers: one object per line, {"ts","level","component","msg", fields...}, where component is the
// word before the first ": " of a message that starts with one ("spool: recovered 3 ..." -> "spool"),
// "volleyd" otherwise, and the fields are the line's key=value pairs after " | "
// (core/util/log_fields.hpp).
#include <string>

namespace volley {

// Installs the format on every spdlog logger (the default one writes to stderr).
void set_log_format(const std::string& format);

}  // namespace volley
