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
// The same, from a message the caller gives up: one that needs nothing but the terminator (every
// line end a CRLF, none followed by ".", a final CRLF: what Volley builds from text, html and
// attachments, unless a text line starts with ".") becomes the payload in its own buffer, where
// to_wire_data copies it line by line (a third of the body passes' time at 100 KiB: loadtest/
// README.md, issue 14). Reserve 3 bytes beyond the message for the terminator to avoid a copy.
std::string into_wire_data(std::string&& message);
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
