#include "core/message/transfer_encoding.hpp"

#include <array>
#include <cstdint>
#include <cstring>

#include "core/util/byte_scan.hpp"
#include "core/util/line_ends.hpp"

namespace volley::message {

namespace {

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kHex[] = "0123456789ABCDEF";

constexpr std::array<signed char, 256> make_b64_table() {
  std::array<signed char, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(kB64[i])] = static_cast<signed char>(i);
  return t;
}
constexpr auto kB64Value = make_b64_table();

void append_base64(std::string& out, std::string_view data) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  std::size_t n = data.size(), i = 0;
  for (; i + 3 <= n; i += 3) {
    unsigned v = (p[i] << 16) | (p[i + 1] << 8) | p[i + 2];
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
  }
  if (n - i == 1) {
    unsigned v = p[i] << 16;
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += "==";
  } else if (n - i == 2) {
    unsigned v = (p[i] << 16) | (p[i + 1] << 8);
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += '=';
  }
}

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

}  // namespace

namespace {

// The first byte in [p, end) that is not printable ASCII (below 0x20, or 0x7F and above: TAB, CR
// and LF included, which the caller judges), or end. In a plain text line it stops at the CRLF
// and nowhere else: one pass, where a memchr for the line end and a second loop over the line
// cost twice (loadtest/README.md, issue 14, ninth round).
const char* next_not_printable(const char* p, const char* end) {
  return util::find_first(
      p, end,
#if defined(__SSE2__)
      [](__m128i v) {
        // Signed: bytes of 0x80 and above are negative, so below 0x20 too.
        return _mm_movemask_epi8(_mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)), _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7F))));
      },
#else
      nullptr,
#endif
      [](unsigned char c) { return c < 0x20 || c >= 0x7F; });
}

}  // namespace

std::string to_crlf(std::string_view text) {
  bool fits = false;  // the one conversion loop serves both; only the judgement goes unused
  return to_crlf(text, &fits);
}

std::string to_crlf(std::string_view text, bool* fits_7bit) {
  // While the text may still be 7bit, the scan stops at every byte that is not printable ASCII:
  // line ends, TABs and whatever rules 7bit out; after that only at line ends, as to_crlf's.
  // The lines keep their lengths (only their ends change), so they are measured in the text.
  constexpr std::ptrdiff_t kMaxLine = 998;
  std::string out;
  out.reserve(text.size() + text.size() / 32);
  util::LineEndScanner scan(text);
  const char* p = text.data();
  const char* const end = scan.end();
  const char* run = p;   // not yet copied
  const char* line = p;  // the current line's start
  bool fits = true;
  for (;;) {
    const char* stop = fits ? next_not_printable(p, end) : scan.next(p);
    if (stop == end) break;
    if (*stop != '\r' && *stop != '\n') {
      fits = fits && *stop == '\t';
      p = stop + 1;
      continue;
    }
    fits = fits && stop - line <= kMaxLine;
    // A run between line ends in one append: most of a body is such runs (profiled hot).
    out.append(run, stop);
    out += "\r\n";
    p = stop + 1;
    if (*stop == '\r' && p != end && *p == '\n') ++p;
    run = line = p;
  }
  out.append(run, end);
  *fits_7bit = fits && end - line <= kMaxLine;
  return out;
}

std::string base64_encode(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  append_base64(out, data);
  return out;
}

std::string base64_encode_lines(std::string_view data) {
  constexpr std::size_t kChunk = 57;  // 57 octets -> 76 characters
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4 + (data.size() / kChunk + 1) * 2);
  for (std::size_t i = 0; i < data.size(); i += kChunk) {
    append_base64(out, data.substr(i, kChunk));
    out += "\r\n";
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text, std::size_t* bad_offset) {
  auto fail = [&](std::size_t at) -> std::optional<std::string> {
    if (bad_offset) *bad_offset = at;
    return std::nullopt;
  };
  std::string out;
  out.reserve(text.size() / 4 * 3);
  unsigned acc = 0;
  int have = 0;        // sextets in the current quantum
  int padding = 0;     // '=' seen so far
  std::size_t symbols = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    if (c == '=') {
      // Padding only completes a quantum of 2 or 3 sextets, at most two of it.
      if ((padding == 0 && have < 2) || padding >= 2) return fail(i);
      ++padding;
      ++symbols;
      continue;
    }
    int v = kB64Value[static_cast<unsigned char>(c)];
    if (v < 0 || padding > 0) return fail(i);
    acc = (acc << 6) | static_cast<unsigned>(v);
    ++symbols;
    if (++have == 4) {
      out += static_cast<char>((acc >> 16) & 0xFF);
      out += static_cast<char>((acc >> 8) & 0xFF);
      out += static_cast<char>(acc & 0xFF);
      acc = 0;
      have = 0;
    }
  }
  if (symbols % 4 != 0) return fail(text.size());
  if (have == 2) {
    out += static_cast<char>((acc >> 4) & 0xFF);
  } else if (have == 3) {
    out += static_cast<char>((acc >> 10) & 0xFF);
    out += static_cast<char>((acc >> 2) & 0xFF);
  }
  return out;
}

std::string quoted_printable_encode(std::string_view text) {
  // A literal is kept <= 73 columns before a soft break so that, if it ends in whitespace,
  // rewriting that whitespace as =20 still leaves room for the "=" (76 in all).
  constexpr std::size_t kSoftLimit = 73;
  constexpr std::size_t kHardLimit = 76;
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  std::size_t col = 0;
  auto soft_break = [&] {
    if (!out.empty() && is_wsp(out.back())) {
      char ws = out.back();
      out.pop_back();
      out += ws == ' ' ? "=20" : "=09";
    }
    out += "=\r\n";
    col = 0;
  };
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t eol = text.find("\r\n", i);
    std::size_t end = eol == std::string_view::npos ? text.size() : eol;
    for (std::size_t k = i; k < end; ++k) {
      auto c = static_cast<unsigned char>(text[k]);
      bool last = k + 1 == end;
      char tok[4] = {static_cast<char>(c), 0, 0, 0};
      std::size_t len = 1;
      bool literal = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last);
      if (!literal) {
        tok[0] = '=';
        tok[1] = kHex[c >> 4];
        tok[2] = kHex[c & 15];
        len = 3;
      }
      if (col + len > (last ? kHardLimit : kSoftLimit)) soft_break();
      out.append(tok, len);
      col += len;
    }
    if (eol == std::string_view::npos) break;
    out += "\r\n";
    col = 0;
    i = eol + 2;
  }
  return out;
}

bool fits_7bit(std::string_view text) {
  const char* p = text.data();
  const char* const end = p + text.size();
  const char* line = p;
  for (;;) {
    p = next_not_printable(p, end);
    if (p == end) break;
    if (*p == '\t') {
      ++p;
    } else if (*p == '\r' && end - p >= 2 && p[1] == '\n') {
      if (p - line > 998) return false;
      p += 2;
      line = p;
    } else {
      // A control character, a byte above 0x7E, a CR without its LF or a LF without its CR (a bare
      // line end, which 7bit does not allow).
      return false;
    }
  }
  return end - line <= 998;
}

}  // namespace volley::message
