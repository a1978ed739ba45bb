#pragma once
// The fields of a delivery-status part (RFC 3464 §2.2-2.3; RFC 6533's global form).
#include <string_view>

#include "core/feedback/report.hpp"

namespace volley::feedback {

// Per-message fields, then one DsnRecipient per recipient group that names a recipient.
// `original` and `standard` are left for the caller.
Dsn read_delivery_status(std::string_view text);

// Whether a part of another type (text/plain, from non-compliant senders) carries DSN fields.
bool looks_like_delivery_status(std::string_view text);

}  // namespace volley::feedback
