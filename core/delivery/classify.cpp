#include "core/delivery/classify.hpp"

#include <algorithm>
#include <cctype>

namespace volley::delivery {

Disposition disposition(const smtp::Reply& reply) {
  if (reply.code >= 200 && reply.code < 300) return Disposition::delivered;
  if (reply.code >= 500 && reply.code < 600) return Disposition::bounced;
  // 4xx, and anything out of range that a broken peer sent: try again later.
  return Disposition::deferred;
}

namespace {

bool text_mentions(const smtp::Reply& reply, const char* word) {
  std::string text = reply.text();
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text.find(word) != std::string::npos;
}

}  // namespace

std::string bounce_category(const smtp::Reply& reply) {
  const std::string& e = reply.enhanced;  // "5.1.1"
  if (e.size() >= 5) {
    const std::string subject_detail = e.substr(2);
    if (subject_detail == "1.1" || subject_detail == "1.0" || subject_detail == "1.3") return "bad-mailbox";
    if (subject_detail == "1.2" || subject_detail == "1.10") return "bad-domain";
    if (subject_detail == "1.6" || subject_detail == "2.1") return "inactive-mailbox";
    if (subject_detail == "2.2" || subject_detail == "3.1") return "quota-issues";
    if (subject_detail == "3.4" || subject_detail == "2.3") return "content-related";
    if (subject_detail == "4.4" || subject_detail == "4.3") return "routing-errors";
    if (subject_detail == "4.1" || subject_detail == "4.2" || subject_detail == "4.7") return "bad-connection";
    if (subject_detail == "7.1" && text_mentions(reply, "spam")) return "spam-related";
    if (e[2] == '7') return "policy-related";
    if (e[2] == '6') return "content-related";
    if (e[2] == '5') return "protocol-errors";
  }
  if (text_mentions(reply, "spam")) return "spam-related";
  if (reply.code == 550 || reply.code == 551 || reply.code == 553) {
    if (text_mentions(reply, "user unknown") || text_mentions(reply, "no such user") ||
        text_mentions(reply, "does not exist"))
      return "bad-mailbox";
  }
  if (reply.code == 552) return "quota-issues";
  if (reply.code == 500 || reply.code == 501 || reply.code == 502 || reply.code == 503 || reply.code == 504)
    return "protocol-errors";
  return "other";
}

}  // namespace volley::delivery
