#pragma once
// SMTP status codes found in free text (a Diagnostic-Code, a bounce's prose): the enhanced
// status code of RFC 3463 when the text has one, else one made from the basic reply code.
#include <cstddef>
#include <string>
#include <string_view>

namespace volley::feedback {

// "5.1.1" for "550 5.1.1 user unknown" or "#5.1.1"; "5.0.0" for "550 user unknown"; "" when the
// text holds neither.
std::string status_in(std::string_view text);

// Offset of the first basic reply code ("550 ", "451-") standing as a word in `text`, or npos.
std::size_t reply_code_at(std::string_view text);

// "failed" for 5.x.x, "delayed" for 4.x.x, "delivered" for 2.x.x, else "".
std::string action_for_status(std::string_view status);

}  // namespace volley::feedback
