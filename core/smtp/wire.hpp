#pragma once
// The DATA payload as it goes on the wire (RFC 5321 §4.5.2): every line ending CRLF (bare LF and
// bare CR become CRLF, so no bare LF or CR ever leaves Volley), lines starting with "." doubled,
// and the terminating "CRLF.CRLF". Built once per message at injection, stored in the spool, and
// shared by every recipient and every attempt.
#include <string>
#include <string_view>

namespace volley::smtp {

std::string to_wire_data(std::string_view message);
// The inverse, for readers of the spool (status API, later DSNs): the message with CRLF endings.
std::string from_wire_data(std::string_view wire);

}  // namespace volley::smtp
