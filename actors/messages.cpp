#include "actors/messages.hpp"

namespace volley {

MessageExtrasPtr extras_of(const spool::MessageRecord& record) {
  const bool no_metadata = record.metadata_json.empty() || record.metadata_json == "{}";
  if (record.tags.empty() && no_metadata && record.dkim.empty()) return nullptr;
  auto extras = std::make_shared<MessageExtras>();
  extras->tags = record.tags;
  extras->dkim = record.dkim;
  if (!no_metadata) extras->metadata_json = record.metadata_json;
  return extras;
}

QueuedMessage::QueuedMessage(spool::MessageRecord&& record)
    : id(std::move(record.id)),
      envelope_from(std::move(record.envelope_from)),
      tenant(std::move(record.tenant)),
      campaign(std::move(record.campaign)),
      pool(std::move(record.pool)),
      extras(extras_of(record)),
      received_at_ms(record.received_at_ms),
      message_size(record.message_size),
      body_8bit(record.body_8bit),
      needs_smtputf8(record.needs_smtputf8),
      send_at_ms(record.send_at_ms) {}

}  // namespace volley
