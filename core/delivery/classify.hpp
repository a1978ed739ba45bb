#pragma once
// What an SMTP reply means for a recipient: delivered, deferred or bounced; and, with the shipped
// rules of reply_classifier.hpp, which bounce category or temporary-failure kind it falls in.
#include <string>

#include "core/delivery/tempfail.hpp"
#include "core/smtp/reply.hpp"

namespace volley::delivery {

enum class Disposition { delivered, deferred, bounced };

Disposition disposition(const smtp::Reply& reply);

// One of kBounceCategories (reply_classifier.hpp), by the shipped rules.
std::string bounce_category(const smtp::Reply& reply);

// The kind of a temporary failure, by the shipped rules.
TempfailKind classify_tempfail(const smtp::Reply& reply);

}  // namespace volley::delivery
