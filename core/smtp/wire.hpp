#pragma once
// The DATA payload as it goes on the wire (RFC 5321 §4.5.2): every line ending CRLF (bare LF and
// bare CR become CRLF, so no bare LF or CR ever leaves Volley), lines starting with "." doubled,
// and the terminating "CRLF.CRLF". Built once per message at injection, stored in the spool, and
// shared by every recipient and every attempt.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace volley::smtp {

std::string to_wire_data(std::string_view message);
// The inverse, for readers of the spool (status API, later DSNs): the message with CRLF endings.
std::string from_wire_data(std::string_view wire);

// The message in a payload of to_wire_data as a BDAT chunk sends it (RFC 3030: no dot-stuffing,
// no terminator): the parts of `wire` between the dots stuffing added, so the chunk is written
// from the payload's own bytes. A message with no line starting with "." is one part.
struct WireSpan {
  std::size_t offset = 0;
  std::size_t length = 0;
};
std::vector<WireSpan> bdat_content(std::string_view wire);

}  // namespace volley::smtp
