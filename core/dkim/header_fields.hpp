#pragma once
// A message cut into its header fields and its body, as DKIM needs them (RFC 6376 §3.4): each
// field whole (name, colon, value, folded lines, final CRLF), the body as the bytes after the
// empty line. Reads either a CRLF message or the spool's SMTP wire form (core/smtp/wire.hpp:
// dot-stuffed, ending CRLF.CRLF) without copying the body.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace volley::dkim {

struct HeaderField {
  std::string raw;  // the whole field with its CRLF; dot-unstuffed when read from wire form
  std::size_t name_size = 0;

  // As written (compare without case), without whitespace before the colon.
  std::string_view name() const { return std::string_view(raw).substr(0, name_size); }
};

struct MessageParts {
  std::vector<HeaderField> fields;  // in message order
  // The body, still dot-stuffed in wire form, without the CRLF.CRLF terminator; "" when the
  // message has no body. Points into the text given to split_message().
  std::string_view body;
};

// nullopt when a header line is neither a field nor a continuation (no colon, a continuation
// first) or when wire form does not end with CRLF.CRLF. Lines must end with CRLF (the wire form
// guarantees it; a bare LF is taken as part of its line).
std::optional<MessageParts> split_message(std::string_view text, bool wire_form);

}  // namespace volley::dkim
