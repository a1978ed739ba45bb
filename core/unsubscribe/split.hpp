#pragma once
// Messages that carry Volley's per-recipient List-Unsubscribe: one spooled message per
// recipient. The spool keeps one body for all of a message's recipients, and DKIM signs it once
// before the spool (docs/auth-dkim.md); a header that names its recipient cannot be added later
// without breaking that signature (List-Unsubscribe is signed, and over-signed when absent). So
// such a message is split at injection, as SendGrid and Mailgun do for per-recipient
// substitutions: each part is signed with its own header. The body is copied once per
// recipient: the price of the feature, paid only by mail that asks for it.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/spool/records.hpp"
#include "core/unsubscribe/headers.hpp"
#include "core/unsubscribe/token.hpp"

namespace volley::unsubscribe {

// Puts header fields (header_fields()) in front of a spooled message's wire form.
void prepend_fields(spool::NewMessage& m, std::string_view fields);

// The parts of m, one per recipient, in recipient order, each with its own List-Unsubscribe
// (token of its tenant, recipient id, address and campaign). The first keeps m's message id
// and its recipient's id; every other gets new_id() as its message id and "<id>-0" as its
// recipient's. A message with one recipient is one part.
std::vector<spool::NewMessage> split_per_recipient(spool::NewMessage&& m, const TokenKey& key,
                                                   const Endpoints& endpoints,
                                                   const std::function<std::string()>& new_id);

}  // namespace volley::unsubscribe
