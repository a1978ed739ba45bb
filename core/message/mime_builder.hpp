#pragma once
// The MIME structure of a built message (RFC 2045/2046):
//   text only            -> text/plain
//   html only            -> text/html
//   text + html          -> multipart/alternative (plain first: readers show the last they can)
//   with inline images   -> the html part becomes multipart/related (RFC 2387) [ html, image, ... ]
//                           (inside the alternative when there is text too)
//   with attachments     -> multipart/mixed [ body above, attachment, ... ]
// Text parts are utf-8, 7bit when they already fit, quoted-printable otherwise; attachments are
// base64 with an RFC 2231 filename.
#include <optional>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace volley::message {

struct AttachmentPart {
  std::string filename;      // UTF-8, checked (no control characters)
  std::string content_type;  // "type/subtype[; attr=value...]", checked by parse_content_type
  std::string data;          // decoded octets
  // RFC 2392: the html refers to it as "cid:<content_id>". Without <>, checked by the caller.
  // An inline part with one goes into the html's multipart/related; an attachment may carry
  // one too (then it stays in multipart/mixed).
  std::string content_id;
  bool inline_disposition = false;  // Content-Disposition: inline (needs content_id and html)
};

struct MimeContent {
  // UTF-8, any line ends. Views: the caller keeps the bytes (prepare_message: the request's JSON)
  // until build_mime returns, so a 100 KiB text is not copied once more on its way in.
  std::optional<std::string_view> text;
  std::optional<std::string_view> html;
  std::vector<AttachmentPart> attachments;
};

struct MimeEntity {
  std::string headers;  // "MIME-Version: 1.0\r\nContent-Type: ...\r\n..." (no blank line)
  std::string body;     // ends with CRLF
};

// At least one of text, html or an attachment must be present; inline parts need html (else
// std::invalid_argument: prepare_message refuses that request first).
MimeEntity build_mime(const MimeContent& content);

// Checks a Content-Type given by a client for an attachment and returns it normalised
// ("type/subtype" lower-cased, parameters kept); "" with *error set when unusable.
// multipart/* and message/* are refused: they cannot be base64-encoded as an attachment.
std::string normalise_content_type(std::string_view value, std::string* error);

// `bytes` random bytes from the OS CSPRNG as lower-case hex: MIME boundaries, Message-ID left
// sides. Throws std::runtime_error if no randomness can be had.
std::string random_hex(std::size_t bytes);

}  // namespace volley::message
