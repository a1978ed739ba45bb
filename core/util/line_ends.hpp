// Finding line ends (CR or LF) in a text, fast: the hot loop of every body transformation.
#pragma once

#include <string_view>

#include "core/util/byte_scan.hpp"

namespace volley::util {

// The first CR or LF in [p, end), or end: both at once, inline (util::find_first). Two memchr
// calls a line (one for CR, one for LF), each with its own set-up, cost more than a short line's
// bytes (loadtest/README.md, issue 14, ninth round).
inline const char* find_line_end(const char* p, const char* end) {
  return find_first(
      p, end,
#if defined(__SSE2__)
      [](__m128i v) {
        return _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\r')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\n'))));
      },
#else
      nullptr,
#endif
      [](unsigned char c) { return c == '\r' || c == '\n'; });
}

// Walks a text from line end to line end.
class LineEndScanner {
 public:
  explicit LineEndScanner(std::string_view text) : end_(text.data() + text.size()) {}

  // The first CR or LF at or after `from`, or end() when there is none.
  const char* next(const char* from) const { return find_line_end(from, end_); }

  const char* end() const { return end_; }

 private:
  const char* end_;
};

}  // namespace volley::util
