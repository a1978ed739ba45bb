#pragma once
// Reading a received message back the way a mail client would, independently of Volley's
// builder: header fields (unfolded, RFC 2047 decoded), and the text/plain part with its
// Content-Transfer-Encoding undone. Enough MIME for checking what the builder produced.
#include <cctype>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace volley::test {

inline std::string to_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Bare LF -> CRLF (CRLF stays as it is): how SMTP wants line ends.
inline std::string crlf_normalise(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 32);
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) out += '\r';
    out += s[i];
  }
  return out;
}

// CRLF -> LF, for comparing text whatever line ends carried it.
inline std::string lf_normalise(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i)
    if (!(s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n')) out += s[i];
  return out;
}

inline std::string base64_decode(std::string_view in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  unsigned acc = 0;
  int bits = 0;
  for (char c : in) {
    const int v = value(c);
    if (v < 0) continue;  // line breaks, padding
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

// Quoted-printable (RFC 2045 §6.7); `header_q` is RFC 2047's Q variant, where "_" is a space.
inline std::string qp_decode(std::string_view in, bool header_q = false) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '=' && in.substr(i + 1, 2) == "\r\n") {
      i += 2;  // soft line break
    } else if (c == '=' && i + 1 < in.size() && in[i + 1] == '\n') {
      i += 1;
    } else if (c == '=' && i + 2 < in.size() && hex(in[i + 1]) >= 0 && hex(in[i + 2]) >= 0) {
      out += static_cast<char>(hex(in[i + 1]) * 16 + hex(in[i + 2]));
      i += 2;
    } else if (header_q && c == '_') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

// Decodes RFC 2047 encoded words (any charset is passed through as bytes: tests use UTF-8);
// whitespace between two adjacent encoded words is dropped, as the RFC says.
inline std::string decode_rfc2047(std::string_view value) {
  std::string out;
  std::size_t i = 0;
  bool last_was_word = false;
  std::string pending_space;
  while (i < value.size()) {
    const std::size_t start = value.find("=?", i);
    if (start == std::string_view::npos) {
      out += pending_space;
      out += value.substr(i);
      break;
    }
    const std::size_t q1 = value.find('?', start + 2);
    const std::size_t q2 = q1 == std::string_view::npos ? q1 : value.find('?', q1 + 1);
    const std::size_t end = q2 == std::string_view::npos ? q2 : value.find("?=", q2 + 1);
    if (end == std::string_view::npos) {
      out += pending_space;
      out += value.substr(i);
      break;
    }
    const std::string_view between = value.substr(i, start - i);
    const bool only_space = between.find_first_not_of(" \t\r\n") == std::string_view::npos;
    if (!(last_was_word && only_space)) out += between;
    const char enc = static_cast<char>(std::toupper(static_cast<unsigned char>(value[q1 + 1])));
    const std::string_view text = value.substr(q2 + 1, end - q2 - 1);
    out += enc == 'B' ? base64_decode(text) : qp_decode(text, true);
    last_was_word = true;
    i = end + 2;
  }
  return out;
}

struct MimeEntity {
  std::vector<std::pair<std::string, std::string>> headers;  // name as written, value unfolded
  std::string body;                                           // raw, still encoded

  std::optional<std::string> header(std::string_view name) const {
    const std::string want = to_lower(name);
    for (const auto& [n, v] : headers)
      if (to_lower(n) == want) return v;
    return std::nullopt;
  }
  std::size_t count(std::string_view name) const {
    const std::string want = to_lower(name);
    std::size_t n = 0;
    for (const auto& h : headers) n += to_lower(h.first) == want;
    return n;
  }
};

inline MimeEntity parse_entity(std::string_view data) {
  MimeEntity e;
  std::size_t pos = 0;
  while (pos < data.size()) {
    std::size_t eol = data.find("\r\n", pos);
    if (eol == std::string_view::npos) eol = data.size();
    const std::string_view line = data.substr(pos, eol - pos);
    pos = std::min(eol + 2, data.size());
    if (line.empty()) break;  // end of the header section
    if ((line[0] == ' ' || line[0] == '\t') && !e.headers.empty()) {
      e.headers.back().second += std::string(line);  // unfold: drop the CRLF only
      continue;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string value(line.substr(colon + 1));
    value.erase(0, value.find_first_not_of(" \t"));
    e.headers.emplace_back(std::string(line.substr(0, colon)), std::move(value));
  }
  e.body = std::string(data.substr(pos));
  return e;
}

// The value of a Content-Type parameter (boundary, charset), unquoted.
inline std::string content_type_param(const std::string& content_type, std::string_view name) {
  const std::string lower = to_lower(content_type);
  const std::string key = std::string(name) + "=";
  std::size_t at = 0;
  while ((at = lower.find(key, at)) != std::string::npos) {
    if (at == 0 || lower[at - 1] == ';' || lower[at - 1] == ' ' || lower[at - 1] == '\t') break;
    at += key.size();
  }
  if (at == std::string::npos) return {};
  std::size_t v = at + key.size();
  if (v < content_type.size() && content_type[v] == '"') {
    const std::size_t close = content_type.find('"', v + 1);
    return content_type.substr(v + 1, close == std::string::npos ? close : close - v - 1);
  }
  const std::size_t end = content_type.find_first_of("; \t", v);
  return content_type.substr(v, end == std::string::npos ? end : end - v);
}

inline std::string decode_body(const MimeEntity& e) {
  const std::string cte = to_lower(e.header("Content-Transfer-Encoding").value_or("7bit"));
  if (cte.find("base64") != std::string::npos) return base64_decode(e.body);
  if (cte.find("quoted-printable") != std::string::npos) return qp_decode(e.body);
  return e.body;
}

// The decoded part of a message whose type is `type` ("text/plain", "text/html"; searching
// multipart bodies depth-first), or nullopt when there is none.
inline std::optional<std::string> part_of_type(const MimeEntity& e, std::string_view type_wanted, int depth = 0) {
  const std::string type = e.header("Content-Type").value_or("text/plain");
  const std::string lower = to_lower(type);
  if (lower.rfind("multipart/", 0) == 0) {
    if (depth > 5) return std::nullopt;
    const std::string boundary = content_type_param(type, "boundary");
    if (boundary.empty()) return std::nullopt;
    const std::string delim = "--" + boundary;
    std::size_t pos = e.body.find(delim);
    while (pos != std::string::npos) {
      std::size_t start = pos + delim.size();
      if (e.body.compare(start, 2, "--") == 0) break;  // closing delimiter
      start = e.body.find("\r\n", start);
      if (start == std::string::npos) break;
      start += 2;
      const std::size_t next = e.body.find("\r\n" + delim, start);
      if (next == std::string::npos) break;
      auto part = parse_entity(std::string_view(e.body).substr(start, next - start));
      if (auto text = part_of_type(part, type_wanted, depth + 1)) return text;
      pos = next + 2;
    }
    return std::nullopt;
  }
  if (lower.rfind(type_wanted, 0) == 0) return decode_body(e);
  return std::nullopt;
}

inline std::optional<std::string> text_plain_part(const MimeEntity& e) { return part_of_type(e, "text/plain"); }

}  // namespace volley::test
