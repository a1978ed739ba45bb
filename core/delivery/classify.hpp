#pragma once
// What an SMTP reply means for a recipient, and which bounce category a permanent failure falls
// in (RFC 3463 enhanced status codes first, the basic code otherwise).
#include <string>

#include "core/smtp/reply.hpp"

namespace volley::delivery {

enum class Disposition { delivered, deferred, bounced };

Disposition disposition(const smtp::Reply& reply);

// Category names shared by events and metrics: bad-mailbox, bad-domain, inactive-mailbox,
// quota-issues, policy-related, spam-related, content-related, routing-errors, protocol-errors,
// bad-connection, message-expired, other.
std::string bounce_category(const smtp::Reply& reply);

}  // namespace volley::delivery
