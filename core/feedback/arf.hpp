#pragma once
// Complaints: the fields of a message/feedback-report part (RFC 5965 §3.1), and the
// non-compliant feedback-loop formats still in use (Microsoft JMRP style).
#include <optional>
#include <string_view>

#include "core/feedback/fields.hpp"
#include "core/feedback/report.hpp"

namespace volley::feedback {

// `original` and `standard` are left for the caller.
Arf read_feedback_report(std::string_view text);

// Whether a part of another type (text/plain, from non-compliant senders) carries ARF fields.
bool looks_like_feedback_report(std::string_view text);

// A complaint without a feedback-report part: the reporter's note (`text`) and the complained-of
// message's headers (`original`) say it is one. nullopt when they do not.
std::optional<Arf> read_nonstandard_complaint(const Fields& top_headers, std::string_view text,
                                              const OriginalHeaders& original);

}  // namespace volley::feedback
