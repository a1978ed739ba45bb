#pragma once
// What an SMTP reply means for a recipient: delivered, deferred or bounced. Which bounce category
// or temporary-failure kind it falls in is reply_classifier.hpp's to say.
#include "core/smtp/reply.hpp"

namespace volley::delivery {

enum class Disposition { delivered, deferred, bounced };

Disposition disposition(const smtp::Reply& reply);

}  // namespace volley::delivery
