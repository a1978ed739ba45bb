#include "daemon/wiring.hpp"

#include <algorithm>
#include <fstream>
#include <functional>
#include <iterator>
#include <utility>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/recipient_status.hpp"
#include "storage/rocksdb_logger.hpp"
#include "core/util/address_domain.hpp"
#include "net/tls_context.hpp"

namespace volley {

DeliverySettings delivery_settings(const Config& cfg) {
  DeliverySettings s;
  s.smtp_port = cfg.delivery.smtp_port;
  s.connect_timeout = cfg.delivery.connect_timeout;
  s.chunking = cfg.delivery.chunking;
  s.pools = cfg.ip_pools;
  s.shaping = cfg.shaping;
  for (const auto& r : cfg.routes) s.routes[r.domain] = StaticRouteTarget{r.host, r.port};
  s.dane = cfg.delivery.dane;
  return s;
}

// key: the spool's instance secret, which signs VERP addresses and X-Volley-ID.
delivery::ReturnPaths return_paths(const Config& cfg, std::string key) {
  return delivery::ReturnPaths(cfg.return_paths, std::move(key));
}

WebhookOptions webhook_options(const Config& cfg) {
  WebhookOptions w;
  w.queue_path = cfg.events.webhook_queue;
  for (const auto& h : cfg.webhooks) w.endpoints.push_back(WebhookEndpoint{h, {}});
  return w;
}

// What the listener accepts: every return-path domain and the extra ([smtp_in] domains).
SmtpListenerOptions listener_options(const Config& cfg) {
  SmtpListenerOptions o;
  o.hostname = cfg.smtp_in.hostname;
  o.accept_domains = return_paths(cfg, "").bounce_domains();
  for (const auto& d : cfg.smtp_in.domains) {
    if (std::find(o.accept_domains.begin(), o.accept_domains.end(), d) == o.accept_domains.end())
      o.accept_domains.push_back(d);
  }
  o.max_message_size = cfg.smtp_in.max_message_size;
  o.max_connections = cfg.smtp_in.max_connections;
  o.command_timeout = cfg.smtp_in.timeout;
  o.data_timeout = cfg.smtp_in.data_timeout;
  o.tls_certificate_file = cfg.smtp_in.tls_certificate;
  o.tls_private_key_file = cfg.smtp_in.tls_private_key;
  return o;
}

// Events for recipients left out at injection because their address is suppressed.
std::vector<Outcome> suppressed_events(std::vector<api::SuppressedRecipient>&& list) {
  std::vector<Outcome> out;
  out.reserve(list.size());
  for (auto& r : list) {
    Outcome o;
    o.kind = OutcomeKind::suppressed;
    o.rcpt_id = std::move(r.rcpt_id);
    o.message_id = std::move(r.message_id);
    o.domain = util::domain_of(r.recipient);
    o.recipient = std::move(r.recipient);
    o.tenant = std::move(r.tenant);
    o.campaign = std::move(r.campaign);
    o.pool = std::move(r.pool);
    o.category = std::move(r.reason);
    o.at_ms = r.at_ms;
    o.received_at_ms = r.at_ms;
    const bool metadata = !r.metadata_json.empty() && r.metadata_json != "{}";
    if (!r.tags.empty() || metadata) {
      auto extras = std::make_shared<MessageExtras>();
      extras->tags = std::move(r.tags);
      if (metadata) extras->metadata_json = std::move(r.metadata_json);
      o.extras = std::move(extras);
    }
    out.push_back(std::move(o));
  }
  return out;
}

// RocksDB's info logs, into volleyd's own log (never into LOG files on a disk that may fill).
void log_rocksdb_to_spdlog() {
  storage::set_log_sink([](storage::LogLevel level, std::string_view database, std::string_view line) {
    constexpr spdlog::level::level_enum levels[] = {spdlog::level::debug, spdlog::level::info, spdlog::level::warn,
                                                    spdlog::level::err};
    spdlog::log(levels[static_cast<int>(level)], "rocksdb {}: {}", database, line);
  });
}

// The databases' filesystems, measured by the disk guard.
api::DiskGuardOptions disk_guard_options(const Config& cfg) {
  api::DiskGuardOptions o;
  o.databases.push_back({"spool", cfg.spool.path});
  o.databases.push_back({"suppressions", cfg.suppression.path});
  if (!cfg.webhooks.empty()) o.databases.push_back({"webhooks", cfg.events.webhook_queue});
  o.min_free = disk::MinFreeSpace{cfg.spool.min_free_bytes, cfg.spool.min_free_percent};
  return o;
}

// GET /api/v1/messages/{id}: a short-lived actor asks the events actor, then the spool, and
// answers the API. Final statuses the events actor has not handed to the spool yet are only there
// (and newer than the spool's record); the rest are in the spool: open ones in their records,
// final ones in the history. A recipient id the events actor knows needs no second question.
api::StatusLookup status_lookup(caf::actor_system& sys, events_actor events, caf::actor spool) {
  return [&sys, events, spool](std::string id, std::function<void(std::optional<api::StatusFound>)> answer) {
    using Answer = std::function<void(std::optional<api::StatusFound>)>;
    sys.spawn([](caf::event_based_actor* self, events_actor events, caf::actor spool, std::string id, Answer answer) {
      auto reply = [id, answer](const RecipientStatuses& found) {
        if (found.empty()) return answer(std::nullopt);
        answer(api::StatusFound{found.front().tenant, render_answer(id, found)});
      };
      auto from_spool = [self, spool, id, reply](RecipientStatuses newer) {
        self->request(spool, std::chrono::seconds(5), status_atom::value, id)
            .then([reply, newer](RecipientStatuses& older) { reply(merge_statuses(newer, std::move(older))); },
                  [reply, newer](const caf::error&) { reply(newer); });
      };
      self->request(events, std::chrono::seconds(5), status_atom::value, id)
          .then(
              [id, reply, from_spool](RecipientStatuses& newer) {
                if (names_recipient(id) && !newer.empty()) return reply(newer);
                from_spool(std::move(newer));
              },
              [from_spool](const caf::error&) { from_spool({}); });
    }, events, spool, std::move(id), std::move(answer));
  };
}

// The shipped bounce rules, with the operator's file (delivery.bounce_rules) tried first.
std::variant<std::shared_ptr<const delivery::ReplyClassifier>, std::string> load_classifier(const Config& cfg) {
  if (cfg.delivery.bounce_rules.empty())
    return std::make_shared<const delivery::ReplyClassifier>(delivery::ReplyClassifier::builtin());
  std::ifstream in(cfg.delivery.bounce_rules, std::ios::binary);
  if (!in) return cfg.delivery.bounce_rules + ": cannot read the bounce rules file";
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto built = delivery::ReplyClassifier::with_user_rules(text, cfg.delivery.bounce_rules);
  if (auto* error = std::get_if<std::string>(&built)) return *error;
  return std::make_shared<const delivery::ReplyClassifier>(std::get<delivery::ReplyClassifier>(std::move(built)));
}

std::shared_ptr<boost::asio::ssl::context> api_tls_context(const Config& cfg) {
  if (cfg.http.tls_certificate.empty()) return nullptr;
  return make_server_tls_context(cfg.http.tls_certificate, cfg.http.tls_private_key);
}


}  // namespace volley
