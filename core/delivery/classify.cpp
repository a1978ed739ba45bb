#include "core/delivery/classify.hpp"

#include "core/delivery/reply_classifier.hpp"

namespace volley::delivery {

Disposition disposition(const smtp::Reply& reply) {
  if (reply.code >= 200 && reply.code < 300) return Disposition::delivered;
  if (reply.code >= 500 && reply.code < 600) return Disposition::bounced;
  // 4xx, and anything out of range that a broken peer sent: try again later.
  return Disposition::deferred;
}

std::string bounce_category(const smtp::Reply& reply) {
  return ReplyClassifier::builtin().classify_permanent(reply).category;
}

TempfailKind classify_tempfail(const smtp::Reply& reply) { return ReplyClassifier::builtin().classify_temporary(reply).kind; }

}  // namespace volley::delivery
