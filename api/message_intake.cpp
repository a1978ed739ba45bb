#include "api/message_intake.hpp"

#include <utility>

#include "core/json/members.hpp"
#include "core/schedule/send_at.hpp"
#include "core/smtp/wire.hpp"
#include "core/util/address_domain.hpp"
#include "core/util/ids.hpp"
#include "storage/suppression_list.hpp"

namespace volley::api {

using message::prepare_message;
using message::PreparedMessage;
using message::PrepareError;
using message::PrepareOptions;
using message::PrepareResult;
using nlohmann::json;

namespace {

// Members a message request has for this layer (prepare_message knows the rest): anything else
// is 400 unknown_field.
constexpr volley::json::Members kMessageForApi{"pool", "list_unsubscribe", "send_at"};

IntakeError intake_error(int status, std::string code, std::string message, std::string field) {
  return IntakeError{status, std::move(code), std::move(message), std::move(field)};
}

// The pool a message asks for ("pool": a configured pool's name), else the one the rules give its
// tenant and sender domain, else the default pool.
std::variant<std::string, IntakeError> choose_pool(const json& request, const delivery::IpPools& pools,
                                                   const std::string& tenant, const PreparedMessage& message,
                                                   const std::string& field) {
  std::string requested;
  if (auto it = request.find(kMessageForApi("pool").name); it != request.end()) {
    if (!it->is_string() || it->get_ref<const std::string&>().empty())
      return intake_error(400, "invalid_field", "pool must be the name of a configured IP pool", field);
    requested = it->get<std::string>();
  }
  const auto at = message.envelope_from.rfind('@');
  const std::string_view sender_domain =
      at == std::string::npos ? std::string_view() : std::string_view(message.envelope_from).substr(at + 1);
  const delivery::Pool* pool = delivery::choose_pool(pools, requested, tenant, sender_domain);
  if (!pool) {
    if (!requested.empty())
      return intake_error(400, "unknown_pool", "no IP pool named \"" + requested.substr(0, 64) + "\"", field);
    return intake_error(503, "no_pool", "no IP pool is configured for this message", "");
  }
  return pool->name;
}

}  // namespace

std::variant<Prepared, IntakeError> prepare_request(const json& request, const PrepareOptions& opts,
                                                    const delivery::IpPools& pools, const std::string& tenant,
                                                    const std::string& field_prefix) {
  auto located = [&](const std::string& field) {
    if (field_prefix.empty()) return field;
    return field.empty() ? field_prefix : field_prefix + "." + field;
  };
  PrepareResult result;
  try {
    result = prepare_message(request, opts, kMessageForApi.names());
  } catch (const json::exception& e) {
    // A field of an unexpected JSON type that validation let through: still the client's input.
    return intake_error(400, "invalid_field", std::string("invalid request: ") + e.what(), located(""));
  }
  if (auto* err = std::get_if<PrepareError>(&result)) {
    const int status = (err->http_status >= 400 && err->http_status <= 499) ? err->http_status : 400;
    std::string message = field_prefix.empty() ? err->message : field_prefix + ": " + err->message;
    return intake_error(status, err->code, message, located(err->field));
  }
  auto& message = std::get<PreparedMessage>(result);
  auto pool = choose_pool(request, pools, tenant, message, located("pool"));
  if (auto* err = std::get_if<IntakeError>(&pool)) return std::move(*err);
  std::int64_t send_at_ms = 0;  // scheduling (issue 16): a past send_at is sent at once
  if (auto it = request.find(kMessageForApi("send_at").name); it != request.end()) {
    auto when = it->is_string() ? schedule::resolve_send_at(it->get_ref<const std::string&>(), now_unix_ms())
                                : schedule::resolve_send_at("", 0);
    if (auto* err = std::get_if<schedule::SendAtError>(&when))
      return intake_error(400, err->code, err->message, located("send_at"));
    send_at_ms = std::get<std::int64_t>(when);
  }
  return Prepared{std::move(message), std::get<std::string>(std::move(pool)), {}, send_at_ms};
}

Accepted accept_message(Prepared&& ready, const std::string& tenant, const storage::SuppressionList* list) {
  PreparedMessage& prepared = ready.message;
  Accepted out;
  spool::NewMessage spooled;
  auto& rec = spooled.message;
  rec.id = new_message_id();
  rec.envelope_from = std::move(prepared.envelope_from);
  rec.tenant = tenant;
  rec.campaign = std::move(prepared.campaign);
  rec.tags = std::move(prepared.tags);
  rec.metadata_json = prepared.metadata_json.empty() ? "{}" : std::move(prepared.metadata_json);
  rec.message_id_header = std::move(prepared.message_id);
  rec.received_at_ms = now_unix_ms();
  rec.message_size = prepared.message.size();
  rec.body_8bit = prepared.body_8bit;
  rec.needs_smtputf8 = prepared.needs_smtputf8;
  rec.pool = std::move(ready.pool);
  rec.send_at_ms = ready.send_at_ms;
  out.unsubscribe = std::move(ready.unsubscribe);

  json recipients = json::array();
  spooled.recipients.reserve(prepared.recipients.size());
  std::string reason;
  for (std::size_t i = 0; i < prepared.recipients.size(); ++i) {
    // The id keeps the recipient's index even when others before it are suppressed: ids given
    // out never depend on the list.
    std::string id = spool::recipient_id(rec.id, static_cast<std::uint32_t>(i));
    if (list && list->contains(tenant, prepared.recipients[i], &reason)) {
      recipients.push_back({{"email", prepared.recipients[i]}, {"id", id}, {"status", "suppressed"}, {"reason", reason}});
      out.suppressed.push_back(SuppressedRecipient{rec.id, std::move(id), std::move(prepared.recipients[i]), tenant,
                                                   rec.campaign, rec.pool, rec.tags, rec.metadata_json,
                                                   std::move(reason), rec.received_at_ms});
      continue;
    }
    spool::RecipientRecord r;
    r.id = std::move(id);
    r.message_id = rec.id;
    r.recipient = std::move(prepared.recipients[i]);
    r.domain = util::domain_of(r.recipient);
    recipients.push_back({{"email", r.recipient}, {"id", r.id}, {"status", rec.send_at_ms > 0 ? "scheduled" : "queued"}});
    spooled.recipients.push_back(std::move(r));
  }
  out.answer = {{"id", rec.id}, {"recipients", std::move(recipients)}};
  if (spooled.recipients.empty()) return out;
  rec.recipient_count = static_cast<std::uint32_t>(spooled.recipients.size());
  spooled.wire_data = smtp::into_wire_data(std::move(prepared.message));
  out.message = std::move(spooled);
  return out;
}

}  // namespace volley::api
