// Finding the first byte of a kind in a text, sixteen bytes a step: the loop under the body
// transformations (line ends, 7bit checks), whose lines are short, so that a call with its own
// set-up per line (memchr) costs more than the bytes.
#pragma once

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace volley::util {

// The first byte in [p, end) for which byte(c) holds, or end. block(v) must give the same test
// for the sixteen bytes of v as a mask (_mm_movemask_epi8 of a comparison). SSE2 is in every
// x86-64 CPU; elsewhere the bytes are tested one at a time.
template <class Block, class Byte>
inline const char* find_first(const char* p, const char* end, [[maybe_unused]] Block block, Byte byte) {
#if defined(__SSE2__)
  for (; end - p >= 16; p += 16) {
    const int hits = block(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    if (hits != 0) return p + __builtin_ctz(static_cast<unsigned>(hits));
  }
#endif
  for (; p != end; ++p) {
    if (byte(static_cast<unsigned char>(*p))) return p;
  }
  return end;
}

}  // namespace volley::util
