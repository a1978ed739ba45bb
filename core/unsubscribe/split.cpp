#include "core/unsubscribe/split.hpp"

#include <utility>

namespace volley::unsubscribe {

void prepend_fields(spool::NewMessage& m, std::string_view fields) {
  m.wire_data.insert(0, fields);  // a header line never starts with '.': the stuffing holds
  m.message.message_size += fields.size();
}

std::vector<spool::NewMessage> split_per_recipient(spool::NewMessage&& m, const TokenKey& key,
                                                   const Endpoints& endpoints,
                                                   const std::function<std::string()>& new_id) {
  std::vector<spool::NewMessage> parts;
  parts.reserve(m.recipients.size());
  std::vector<spool::RecipientRecord> recipients = std::move(m.recipients);
  m.recipients.clear();
  m.message.recipient_count = 1;
  for (std::size_t i = 0; i < recipients.size(); ++i) {
    spool::NewMessage part;
    if (i + 1 == recipients.size()) {
      part = std::move(m);  // the last part takes the original body instead of a copy
    } else {
      part.message = m.message;
      part.wire_data = m.wire_data;
    }
    spool::RecipientRecord r = std::move(recipients[i]);
    if (i > 0) {
      part.message.id = new_id();
      r.id = spool::recipient_id(part.message.id, 0);
    } else {
      part.message.id = r.message_id;
    }
    r.message_id = part.message.id;
    const std::string token = key.token(Recipient{part.message.tenant, r.id, r.recipient, part.message.campaign});
    const std::string mailto = mailto_address(endpoints, key.mailto_local_part(r.id));
    prepend_fields(part, header_fields(one_click_url(endpoints, token), mailto));
    part.recipients.push_back(std::move(r));
    parts.push_back(std::move(part));
  }
  return parts;
}

}  // namespace volley::unsubscribe
