// Finding line ends (CR or LF) in a text, fast: the hot loop of every body transformation.
#pragma once

#include <algorithm>
#include <cstring>
#include <string_view>

namespace volley::util {

// Walks a text from line end to line end. memchr is vectorised, so each of CR and LF is searched
// for with one memchr, and searched again only once the scan has passed its last hit: a CRLF text
// costs two short scans per line instead of a test per byte (std::string_view::find_first_of
// calls memchr once per byte of the text).
class LineEndScanner {
 public:
  explicit LineEndScanner(std::string_view text)
      : end_(text.data() + text.size()), next_cr_(find(text.data(), '\r')), next_lf_(find(text.data(), '\n')) {}

  // The first CR or LF at or after `from`, or end() when there is none.
  const char* next(const char* from) {
    if (next_cr_ < from) next_cr_ = find(from, '\r');
    if (next_lf_ < from) next_lf_ = find(from, '\n');
    return std::min(next_cr_, next_lf_);
  }

  const char* end() const { return end_; }

 private:
  const char* find(const char* from, char c) const {
    if (from == end_) return end_;  // also keeps a null data() of an empty view away from memchr
    auto* hit = static_cast<const char*>(std::memchr(from, c, static_cast<std::size_t>(end_ - from)));
    return hit ? hit : end_;
  }

  const char* end_;
  const char* next_cr_;
  const char* next_lf_;
};

}  // namespace volley::util
