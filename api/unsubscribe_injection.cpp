#include "api/unsubscribe_injection.hpp"

#include <nlohmann/json.hpp>

#include "core/unsubscribe/split.hpp"
#include "core/util/ids.hpp"

namespace volley::api {

std::variant<unsubscribe::Plan, HttpResponse> unsubscribe_plan(const nlohmann::json& request,
                                                               const message::PreparedMessage& message,
                                                               const UnsubscribeHeaders* headers,
                                                               const std::string& field_prefix) {
  static const unsubscribe::Endpoints kNone;
  auto located = [&](const std::string& field) { return field_prefix.empty() ? field : field_prefix + "." + field; };
  auto result = unsubscribe::plan_for(request, !message.campaign.empty(), headers ? headers->endpoints : kNone,
                                      message.message);
  if (auto* err = std::get_if<unsubscribe::PlanError>(&result)) {
    const std::string text = field_prefix.empty() ? err->message : field_prefix + ": " + err->message;
    return error_response(400, err->code, text, located(err->field));
  }
  auto plan = std::get<unsubscribe::Plan>(std::move(result));
  if (plan.kind == unsubscribe::Plan::Kind::per_recipient &&
      message.message.size() * message.recipients.size() > kMaxSplitBytes) {
    return error_response(413, "too_large",
                          std::to_string(message.recipients.size()) + " recipients of a " +
                              std::to_string(message.message.size()) +
                              "-byte message with per-recipient List-Unsubscribe are stored as one message each, "
                              "over the " + std::to_string(kMaxSplitBytes >> 20) +
                              " MiB a request may make: send fewer recipients per request",
                          located("to"));
  }
  return plan;
}

void add_with_unsubscribe(spool::NewMessage&& message, const unsubscribe::Plan& plan,
                          const UnsubscribeHeaders* headers, nlohmann::json& answer,
                          std::vector<spool::NewMessage>& out) {
  using Kind = unsubscribe::Plan::Kind;
  if (plan.kind == Kind::own) unsubscribe::prepend_fields(message, unsubscribe::header_fields(plan.url, plan.mailto));
  if (plan.kind != Kind::per_recipient || !headers || !headers->key) {
    out.push_back(std::move(message));
    return;
  }
  std::vector<std::string> old_ids;
  for (const auto& r : message.recipients) old_ids.push_back(r.id);
  auto parts = unsubscribe::split_per_recipient(std::move(message), *headers->key, headers->endpoints,
                                                [] { return new_message_id(); });
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string& id = parts[i].recipients.front().id;
    if (id != old_ids[i]) {
      for (auto& r : answer["recipients"])
        if (r["id"] == old_ids[i]) r["id"] = id;
    }
    out.push_back(std::move(parts[i]));
  }
}

}  // namespace volley::api
