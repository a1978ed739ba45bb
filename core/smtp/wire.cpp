#include "core/smtp/wire.hpp"

#include "core/util/line_ends.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace volley::smtp {

std::string to_wire_data(std::string_view message) {
  std::string out;
  // Room for the terminator, a final CRLF and some stuffed dots or widened line ends; one more
  // growth at worst for bodies that are all bare-LF short lines.
  out.reserve(message.size() + message.size() / 32 + 8);
  const char* p = message.data();
  util::LineEndScanner scan(message);
  const char* const end = scan.end();
  bool line_start = true;
  while (p != end) {
    if (line_start && *p == '.') out += '.';
    // Copy the run up to the next line end in one append.
    const char* run = p;
    p = scan.next(p);
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

namespace {

// Whether message is already its wire form but for the terminator: ends with CRLF, every CR or LF
// is part of a CRLF, and no line starts with ".". Sixteen bytes a step, as masks: the CRs moved one
// place on must be the LFs, and the LFs moved one place on must meet no dot (a line-by-line walk
// spent its time on the short lines' ends, 9 us of 100 KiB).
bool needs_only_terminator(std::string_view message) {
  if (message.size() < 2 || message.front() == '.' || message.substr(message.size() - 2) != "\r\n") return false;
  const char* p = message.data();
  const char* const end = p + message.size();
  unsigned after_cr = 0;  // the byte before p was a CR
  unsigned after_lf = 0;  // ... an LF
#if defined(__SSE2__)
  for (; end - p >= 16; p += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const auto cr = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('\r'))));
    const auto lf = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('\n'))));
    const auto dot = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('.'))));
    if ((((cr << 1) | after_cr) & 0xFFFFu) != lf) return false;
    if ((((lf << 1) | after_lf) & dot) != 0) return false;
    after_cr = cr >> 15;
    after_lf = lf >> 15;
  }
#endif
  for (; p != end; ++p) {
    if ((*p == '\n') != (after_cr != 0) || (*p == '.' && after_lf != 0)) return false;
    after_cr = *p == '\r';
    after_lf = *p == '\n';
  }
  return true;  // the last byte is an LF: no CR waits for one
}

}  // namespace

std::string into_wire_data(std::string&& message) {
  if (!needs_only_terminator(message)) return to_wire_data(message);
  std::string out = std::move(message);
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

std::vector<WireSpan> bdat_content(std::string_view wire) {
  std::vector<WireSpan> out;
  // The terminator is the payload's last line, ".\r\n"; the message's own last CRLF stays.
  const std::size_t end = wire.size() >= 3 ? wire.size() - 3 : 0;
  std::size_t from = 0;
  if (end > 0 && wire[0] == '.') from = 1;  // the first line was stuffed
  for (std::size_t hit = wire.find("\r\n.", from); hit != std::string_view::npos && hit + 2 < end;
       hit = wire.find("\r\n.", from)) {
    out.push_back(WireSpan{from, hit + 2 - from});
    from = hit + 3;  // past the stuffed dot; the line's own dot follows
  }
  if (end > from) out.push_back(WireSpan{from, end - from});
  return out;
}

}  // namespace volley::smtp
