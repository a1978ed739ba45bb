#pragma once
// What the submission server checks in a message before it takes the same path as an HTTP
// injection: line ends (a bare LF or bare CR is refused, the SMTP smuggling defence: a message
// with one would be read one way here and another way by the next hop), and whether the
// sender's domains are the user's.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace volley::submission {

// "bare LF at line 3" / "bare CR at line 1"; nullopt when every line ends with CRLF.
std::optional<std::string> bare_line_end(std::string_view content);

// The domain of the message's one From: address (lower case), as DKIM signing reads it; "" when
// there is none, several, or it cannot be read.
std::string header_from_domain(std::string_view content);

// `domain` is one of `allowed` (lower case), compared without ASCII case; "" never is.
bool sender_domain_allowed(std::string_view domain, const std::vector<std::string>& allowed);

}  // namespace volley::submission
