#pragma once
// DKIM canonicalisation (RFC 6376 §3.4): the "simple" and "relaxed" forms of a header field and
// of a body, and the body hash (bh=) computed while the body streams through, without a copy of
// the body.
#include <optional>
#include <string>
#include <string_view>

#include "core/util/sha256.hpp"

namespace volley::dkim {

enum class Canon { simple, relaxed };

// c=<header>/<body>
struct Canonicalization {
  Canon header = Canon::relaxed;
  Canon body = Canon::relaxed;
  bool operator==(const Canonicalization&) const = default;
};

// "relaxed/relaxed", "simple/simple", "relaxed/simple", "simple/relaxed"; also "relaxed" or
// "simple" alone (the body then defaults to simple, RFC 6376 §3.5 c=). nullopt otherwise.
std::optional<Canonicalization> parse_canonicalization(std::string_view text);
std::string to_string(Canonicalization c);

// One whole header field (name, colon, value, folds, final CRLF) in canonical form, ending CRLF.
std::string canonical_header(Canon c, std::string_view field);

// The SHA-256 of the canonical body. `body` is what follows the header's empty line, with CRLF
// line ends; dot_stuffed: lines starting with "." had one more "." added (SMTP wire form, without
// the final "." line), removed here as the hash is computed.
util::Sha256 body_hash(Canon c, std::string_view body, bool dot_stuffed);

}  // namespace volley::dkim
