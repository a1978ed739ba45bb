#pragma once
// Bounces that are prose rather than RFC 3464: qmail, Exim, Postfix and Sendmail without DSN,
// Exchange / Office 365 text NDRs, Yahoo and old Hotmail. Recognised by the phrases these mailers
// write, read by the shapes they share: a recipient alone on a line (or "<a@b>:"), its reasons on
// the lines that follow, and the original message quoted after a marker line.
#include <optional>
#include <string_view>

#include "core/feedback/report.hpp"

namespace volley::feedback {

// `text`: the bounce's human-readable body. A Dsn with standard == false and at least one
// recipient, its `original` from a quoted header block when there is one; nullopt when the text
// is not a bounce this knows.
std::optional<Dsn> read_bounce_text(std::string_view subject, std::string_view text);

}  // namespace volley::feedback
