#include "daemon/reload.hpp"

#include <exception>
#include <string_view>
#include <tuple>
#include <utility>
#include <variant>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "core/suppression/policy.hpp"
#include "core/util/join.hpp"
#include "daemon/dkim_setup.hpp"
#include "daemon/schedule_setup.hpp"
#include "daemon/wiring.hpp"
#include "net/tls_context.hpp"
#include "core/util/log_fields.hpp"

namespace volley {

namespace {

// Sections read only at start: a change is reported, not applied. One line per section, in the
// file's vocabulary, so the warning reads like the file.
std::vector<std::string> restart_only_changes(const Config& a, const Config& b) {
  std::vector<std::string> out;
  auto check = [&](bool same, const char* name) {
    if (!same) out.emplace_back(name);
  };
  check(a.http == b.http, "http");
  check(a.spool == b.spool, "spool");
  check(a.dns == b.dns, "dns");
  Config::Delivery da = a.delivery, db = b.delivery;
  da.bounce_rules = db.bounce_rules;  // reloaded
  check(da == db, "delivery");
  check(a.tls == b.tls, "tls");
  check(a.tls_reporting == b.tls_reporting, "tls_reporting");
  // ip_pools: a change of sources is named by reload() itself.
  Config::Log la = a.log, lb = b.log;
  la.level = lb.level;  // reloaded
  check(la == lb, "log");
  check(a.smtp_in == b.smtp_in, "smtp_in");
  check(a.return_paths == b.return_paths, "return_path");
  check(a.suppression.path == b.suppression.path, "suppression.path");
  check(a.webhooks == b.webhooks, "webhook");
  check(a.events == b.events, "events");
  check(a.metrics == b.metrics, "metrics");
  check(a.submission == b.submission, "submission");
  check(a.unsubscribe == b.unsubscribe, "unsubscribe");
  check(a.hostname == b.hostname, "hostname");
  check(a.worker_threads == b.worker_threads, "worker_threads");
  check(a.scheduling_policy == b.scheduling_policy, "scheduling_policy");
  return out;
}

}  // namespace

namespace {

// A listener's certificate and key files in a configuration, by its table's name (references:
// compared, and assigned from one configuration to another, as a pair).
template <class C>
auto listener_files(C& c, std::string_view table) {
  if (table == "http") return std::tie(c.http.tls_certificate, c.http.tls_private_key);
  if (table == "smtp_in") return std::tie(c.smtp_in.tls_certificate, c.smtp_in.tls_private_key);
  if (table == "submission") return std::tie(c.submission.tls_certificate, c.submission.tls_private_key);
  return std::tie(c.unsubscribe.tls_certificate, c.unsubscribe.tls_private_key);
}

}  // namespace

Reloader::Reloader(std::string path, Config running, ReloadTargets targets)
    : path_(std::move(path)), running_(std::move(running)), targets_(std::move(targets)) {
  // What each TLS listener serves at start, to tell a renewed certificate at the first reload.
  std::vector<ListenerTls> loaded;
  if (load_listener_tls(running_, &loaded).empty())
    for (auto& l : loaded) listener_tls_[l.table] = std::move(l.context);
}

std::string Reloader::load_listener_tls(const Config& next, std::vector<ListenerTls>* out) const {
  const std::pair<const char*, const ReloadTargets::RenewTls*> renewers[] = {
      {"http", &targets_.set_http_tls},
      {"smtp_in", &targets_.set_smtp_in_tls},
      {"submission", &targets_.set_submission_tls},
      {"unsubscribe", &targets_.set_unsubscribe_tls}};
  for (const auto& [table, renew] : renewers) {
    const auto [certificate, key] = listener_files(next, table);
    if (!*renew || certificate.empty()) continue;  // no TLS running there: on or off needs a restart
    try {
      out->push_back(ListenerTls{table, renew, make_server_tls_context(certificate, key)});
    } catch (const std::exception& e) {
      return std::string("[") + table + "]: " + e.what();
    }
  }
  return "";
}

void Reloader::apply_listener_tls(const Config& next, std::vector<ListenerTls>& loaded, Config& applied,
                                  std::vector<std::string>& changed) {
  for (auto& l : loaded) {
    const auto& running = listener_tls_[l.table];
    if (listener_files(next, l.table) != listener_files(running_, l.table) || !running ||
        !same_certificate(*running, *l.context))
      changed.push_back(std::string(l.table) + ".tls");
    listener_files(applied, l.table) = listener_files(next, l.table);
    (*l.renew)(l.context);
    listener_tls_[l.table] = std::move(l.context);
  }
}

api::ReloadAnswer Reloader::reload(const std::string& who) {
  std::lock_guard lock(mu_);
  api::ReloadAnswer answer;
  auto refuse = [&](std::string why) {
    spdlog::error("reload: asked by {}, refused; the running configuration stays: {}{}", who, why,
                  util::log_fields("by", who, "outcome", "refused"));
    answer.error = std::move(why);
    return answer;
  };
  if (path_.empty()) return refuse("volleyd was started without --config: there is no file to read again");

  // Everything is read and checked before anything is applied.
  LoadResult loaded = load_config_file(path_);
  if (!loaded.ok()) return refuse(loaded.error);
  const Config& next = *loaded.config;
  auto classifier = load_classifier(next);
  if (auto* error = std::get_if<std::string>(&classifier)) return refuse(*error);
  auto windows = load_sending_windows(next);
  if (!windows) return refuse("[[tenant]] send_window: a time zone cannot be read (logged above)");
  std::shared_ptr<const dkim::Signer> signer;
  if (targets_.dkim) {
    std::string error;
    signer = load_dkim_signer(next, &error);
    if (!error.empty()) return refuse("dkim: " + error);
    if (!signer) return refuse("dkim: the running keys cannot all be removed by a reload (restart without [[dkim]])");
  }
  // Renewed certificates for the listeners that run TLS; turning TLS on or off needs a restart.
  std::vector<ListenerTls> listener_tls;
  if (const std::string why = load_listener_tls(next, &listener_tls); !why.empty()) return refuse(why);

  Config applied = running_;  // the sections read only at start keep their running values
  auto& changed = answer.changed;
  // Delivery: shaping, routes, bounce rules (the file is read again even when its name is the
  // same) and the tenants' sending windows. Sent every time: delivery actors compare cheaply.
  applied.shaping = next.shaping;
  applied.routes = next.routes;
  applied.delivery.bounce_rules = next.delivery.bounce_rules;
  applied.tenants = next.tenants;
  // Sources, pools and pool rules. Queues key their lanes by source name: a source added is used at
  // once by the pools that name it; a removed one's idle sessions quit, busy ones after their
  // transaction, and its queued mail goes to its pools' other sources. (A pool left without a
  // source does not load: its members must name configured sources.)
  if (next.ip_pools != running_.ip_pools) {
    applied.ip_pools = next.ip_pools;
    changed.emplace_back(next.ip_pools.sources == running_.ip_pools.sources ? "pool/pool_rule" : "source/pool/pool_rule");
    targets_.pools->set(std::make_shared<const delivery::IpPools>(next.ip_pools));
  }
  if (next.shaping != running_.shaping) changed.emplace_back("shaping");
  if (next.routes != running_.routes) changed.emplace_back("route");
  if (next.tenants != running_.tenants) changed.emplace_back("tenant");
  if (!next.delivery.bounce_rules.empty()) changed.emplace_back("bounce_rules");  // its file, read again
  ReloadedDelivery delivery{delivery_settings(applied), *windows};
  delivery.settings.return_paths = return_paths(applied, targets_.secret);
  auto rules = std::get<std::shared_ptr<const delivery::ReplyClassifier>>(std::move(classifier));
  delivery.settings.classifier = rules;
  caf::anon_send(targets_.router, reload_atom::value, std::move(delivery));

  applied.suppression.bounce_categories = next.suppression.bounce_categories;
  applied.suppression.complaints = next.suppression.complaints;
  if (!(applied.suppression == running_.suppression)) changed.emplace_back("suppression");
  const suppression::Policy policy(applied.suppression.bounce_categories, applied.suppression.complaints);
  caf::anon_send(targets_.events, reload_atom::value, policy);
  caf::anon_send(targets_.feedback, reload_atom::value, rules, policy);

  if (next.api_keys != running_.api_keys) {
    changed.emplace_back("api_key");
    applied.api_keys = next.api_keys;
    targets_.api_keys->set(std::make_shared<const api::ApiKeyList>(next.api_keys));
  }
  if (targets_.dkim) {
    targets_.dkim->set(signer);  // the key files are read again even when the section is the same
    applied.dkim = next.dkim;
    changed.emplace_back("dkim");
  } else if (!next.dkim.empty()) {
    answer.restart_required.emplace_back("dkim");
  }
  if (next.webhooks != running_.webhooks) {
    if (const std::string refused = reload_webhooks(next.webhooks); refused.empty()) {
      applied.webhooks = next.webhooks;
      changed.emplace_back("webhook");
    } else {
      spdlog::warn("reload: [[webhook]] kept as it runs: {}", refused);
    }
  }
  if (next.submission_users != running_.submission_users) {
    applied.submission_users = next.submission_users;
    changed.emplace_back("submission_user");
    if (targets_.submission_users) targets_.submission_users(next.submission_users);
  }
  apply_listener_tls(next, listener_tls, applied, changed);
  if (next.log.level != running_.log.level) {
    applied.log.level = next.log.level;
    changed.emplace_back("log.level");
    spdlog::set_level(spdlog::level::from_str(next.log.level));
  }
  for (auto& s : restart_only_changes(applied, next)) answer.restart_required.push_back(std::move(s));
  running_ = std::move(applied);
  answer.ok = true;
  spdlog::info("reload: asked by {}: {} now in force{}", who, util::joined(answer.changed, "nothing"),
               util::log_fields("by", who, "outcome", "applied", "changed", util::joined(answer.changed, "nothing")));
  if (!answer.restart_required.empty())
    spdlog::warn("reload: asked by {}: {} changed, which takes effect only at the next start{}", who,
                 util::joined(answer.restart_required, "nothing"),
                 util::log_fields("by", who, "restart_required", util::joined(answer.restart_required, "nothing")));
  return answer;
}

webhook_actor Reloader::webhooks() {
  std::lock_guard lock(mu_);
  return targets_.webhooks;
}

std::string Reloader::reload_webhooks(const std::vector<Config::Webhook>& next) {
  const bool started = !targets_.webhooks && !next.empty();
  if (started) {
    if (!targets_.start_webhooks) return "no [[webhook]] was configured at start";
    try {
      targets_.webhooks = targets_.start_webhooks();
    } catch (const std::exception& e) {
      return e.what();
    }
  }
  if (!targets_.webhooks) return "";  // none before, none now
  std::vector<WebhookEndpoint> endpoints;
  for (const auto& h : next) endpoints.push_back(WebhookEndpoint{h, {}});
  std::string refused;
  caf::scoped_actor self{*targets_.system};
  self->request(targets_.webhooks, std::chrono::seconds(10), reload_atom::value, std::move(endpoints))
      .receive([&](const std::string& why) { refused = why; },
               [&](const caf::error& e) { refused = "the webhook actor did not answer: " + to_string(e); });
  // The events actor feeds the webhook actor while it has endpoints: from the first one added on,
  // until the last one is removed (the actor then stays, idle, for the next one).
  if (refused.empty())
    caf::anon_send(targets_.events, webhook_atom::value, next.empty() ? webhook_actor{} : targets_.webhooks);
  return refused;
}

}  // namespace volley
