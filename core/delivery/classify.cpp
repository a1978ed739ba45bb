#include "core/delivery/classify.hpp"

namespace volley::delivery {

Disposition disposition(const smtp::Reply& reply) {
  if (reply.code >= 200 && reply.code < 300) return Disposition::delivered;
  if (reply.code >= 500 && reply.code < 600) return Disposition::bounced;
  // 4xx, and anything out of range that a broken peer sent: try again later.
  return Disposition::deferred;
}

}  // namespace volley::delivery
