#include "core/smtp/wire.hpp"

#include <algorithm>
#include <cstring>

namespace volley::smtp {

std::string to_wire_data(std::string_view message) {
  std::string out;
  // Room for the terminator, a final CRLF and some stuffed dots or widened line ends; one more
  // growth at worst for bodies that are all bare-LF short lines.
  out.reserve(message.size() + message.size() / 32 + 8);
  const char* p = message.data();
  const char* const end = p + message.size();
  // memchr is vectorised; the next CR and the next LF are each searched for only once they
  // have been passed, so a CRLF body costs two short scans per line.
  auto find = [end](const char* from, char c) {
    if (from == end) return end;  // also keeps a null data() of an empty view away from memchr
    auto* hit = static_cast<const char*>(std::memchr(from, c, static_cast<std::size_t>(end - from)));
    return hit ? hit : end;
  };
  const char* next_cr = find(p, '\r');
  const char* next_lf = find(p, '\n');
  bool line_start = true;
  while (p != end) {
    if (line_start && *p == '.') out += '.';
    // Copy the run up to the next line end in one append.
    if (next_cr < p) next_cr = find(p, '\r');
    if (next_lf < p) next_lf = find(p, '\n');
    const char* run = p;
    p = std::min(next_cr, next_lf);
    out.append(run, p);
    if (p == end) {
      line_start = false;
      break;
    }
    // CRLF, bare LF and bare CR all end a line as CRLF.
    if (*p == '\r' && p + 1 != end && p[1] == '\n') ++p;
    ++p;
    out += "\r\n";
    line_start = true;
  }
  if (!line_start) out += "\r\n";
  out += ".\r\n";
  return out;
}

std::string from_wire_data(std::string_view wire) {
  std::string out;
  out.reserve(wire.size());
  while (!wire.empty()) {
    auto nl = wire.find('\n');
    auto line = wire.substr(0, nl == std::string_view::npos ? wire.size() : nl + 1);
    wire.remove_prefix(line.size());
    if (line.front() == '.') {
      // A lone "." ends the data; anything after it is not part of the message.
      if (line == ".\r\n" || line == ".\n" || line == ".") break;
      line.remove_prefix(1);
    }
    out.append(line);
  }
  return out;
}

}  // namespace volley::smtp
