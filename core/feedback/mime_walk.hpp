#pragma once
// The MIME structure of a received message, as GMime parses it, flattened into the list of parts
// a report reader looks at. GMime stays behind this file: nothing else includes its headers.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace volley::feedback {

struct MimePart {
  std::string type, subtype;  // lower case: "message", "delivery-status"
  std::size_t depth = 0;      // MIME levels below the top-level message (the top's body is 0)
  std::size_t message_level = 0;  // message/rfc822 parts this one is inside
  bool embedded_message = false;  // message/rfc822, message/global, message/news: has headers()

  bool is(std::string_view t, std::string_view s) const { return type == t && subtype == s; }
};

class MimeTree {
 public:
  // Parses `message` (any line ends). A message GMime cannot make anything of gives ok() false.
  explicit MimeTree(std::string_view message);
  ~MimeTree();
  MimeTree(const MimeTree&) = delete;
  MimeTree& operator=(const MimeTree&) = delete;

  bool ok() const;
  // Parts in document order (depth first), at most kMaxParts, at most kMaxNesting deep; parts
  // inside an embedded message are listed too (with message_level > 0).
  const std::vector<MimePart>& parts() const { return parts_; }
  // The top-level message's header block, as text.
  std::string top_headers() const;
  // Content of leaf part `i`, transfer-decoded, cut at `max_bytes`; "" for a multipart.
  std::string body(std::size_t i, std::size_t max_bytes) const;
  // Header block of the message embedded in part `i` (embedded_message), as text.
  std::string headers(std::size_t i) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::vector<MimePart> parts_;
};

}  // namespace volley::feedback
