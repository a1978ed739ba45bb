#include "actors/webhook_actor.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <set>
#include <stdexcept>
#include <optional>
#include <utility>
#include <variant>

#include <caf/all.hpp>

#include "actors/messages.hpp"
#include "net/webhook_client.hpp"
#include "storage/event_queue.hpp"
#include "core/events/webhook_backoff.hpp"
#include "core/events/webhook_signature.hpp"
#include "core/events/webhook_url.hpp"
#include "core/util/log_fields.hpp"

namespace volley {

namespace {

// A POST holds at most this much event JSON, whatever max_batch allows: a receiver's request
// size limit must not turn big events into a queue that never drains.
constexpr std::size_t kMaxPostBytes = 4u << 20;
// Events the queue refused to store (disk full, I/O error) are kept in memory and appended again
// every second, up to this many per endpoint; beyond it the oldest are dropped, with an error.
constexpr std::size_t kMaxUnwritten = 1'000'000;
constexpr auto kAppendRetry = std::chrono::seconds(1);

struct Endpoint {
  std::uint64_t id = 0;  // for the messages about it: a reload may add, remove and reorder endpoints
  WebhookEndpoint cfg;
  std::unique_ptr<WebhookClient> client;
  bool in_flight = false;
  std::uint64_t post_id = 0;        // tags the completion of the POST in flight
  std::uint64_t in_flight_last_seq = 0;
  std::uint64_t in_flight_events = 0;
  bool retry_armed = false;
  std::uint64_t timer_gen = 0;      // delayed_send cannot be cancelled: stale ticks are ignored
  std::uint32_t failures = 0;       // consecutive
  std::vector<std::string> unwritten;  // refused by the queue, appended again by a tick
  // A reload's settings, waiting for the POST in flight to end.
  std::optional<WebhookEndpoint> next_cfg;
  std::unique_ptr<WebhookClient> next_client;

  bool wants(const WebhookEvent& e) const {
    auto has = [](const std::vector<std::string>& list, const std::string& v) {
      return list.empty() || std::find(list.begin(), list.end(), v) != list.end();
    };
    return has(cfg.events, e.type) && has(cfg.tenants, e.tenant);
  }
};

// An endpoint ready to send, or why its settings cannot be used.
std::variant<Endpoint, std::string> make_endpoint(boost::asio::io_context& io, WebhookEndpoint cfg) {
  const std::string where = "webhook endpoint '" + cfg.name + "': ";
  if (cfg.name.empty() || cfg.name.find('\0') != std::string::npos)
    return "webhook endpoint with an empty or invalid name (url " + cfg.url + ")";
  if (cfg.max_batch == 0) return where + "max_batch must be at least 1";
  std::string error;
  auto url = events::parse_webhook_url(cfg.url, &error);
  if (!url) return where + error;
  Endpoint ep;
  try {
    ep.client = std::make_unique<WebhookClient>(io, std::move(*url), cfg.ca_file);
  } catch (const std::exception& e) {  // an unreadable CA file
    return where + e.what();
  }
  ep.cfg = std::move(cfg);
  return ep;
}

bool retried_silently(unsigned status) { return status == 0 || status == 408 || status == 429 || status >= 500; }

class WebhookActor : public webhook_actor::base {
 public:
  WebhookActor(caf::actor_config& config, boost::asio::io_context& io, std::unique_ptr<storage::EventQueue> queue,
               std::vector<Endpoint> endpoints, metrics_actor metrics)
      : webhook_actor::base(config),
        io_(io),
        queue_(std::move(queue)),
        endpoints_(std::move(endpoints)),
        metrics_(std::move(metrics)),
        rng_(std::random_device{}()) {}

  behavior_type make_behavior() override {
    std::set<std::string> configured;
    for (auto& ep : endpoints_) {
      ep.id = ++last_id_;
      configured.insert(ep.cfg.name);
      report(ep, "", 0);
    }
    for (const auto& name : queue_->endpoints_with_events()) {
      if (configured.count(name) == 0) {
        spdlog::warn("webhook: events queued for an endpoint no longer configured stay queued{}",
                     util::log_fields("endpoint", name, "pending", queue_->depth(name)));
      }
    }
    for (auto& ep : endpoints_) pump(ep);
    return {
        // Answered once the events are in the queue: the events actor then releases their spool records.
        [this](event_atom, const WebhookEvents& events) {
          on_events(events);
          return true;
        },
        [this](stop_atom) {
          shut();
          quit();
          return true;
        },
        [this](webhook_atom, std::uint64_t id, std::uint64_t post_id, std::uint32_t status,
               const std::string& error) { on_answer(id, post_id, status, error); },
        [this](tick_atom, std::uint64_t id, std::uint64_t gen) {
          auto* ep = find(id);
          if (!queue_ || !ep) return;  // a stale timer of a removed endpoint
          if (!ep->retry_armed || gen != ep->timer_gen) return;
          ep->retry_armed = false;
          pump(*ep);
        },
        [this](tick_atom) {
          append_retry_armed_ = false;
          on_events({});
        },
        [this](reload_atom, std::vector<WebhookEndpoint>& next) { return reload(std::move(next)); },
    };
  }

  void on_exit() override { shut(); }

 private:
  Endpoint* find(std::uint64_t id) {
    auto it = std::find_if(endpoints_.begin(), endpoints_.end(), [id](const Endpoint& ep) { return ep.id == id; });
    return it == endpoints_.end() ? nullptr : &*it;
  }

  void on_events(const WebhookEvents& events) {
    if (!queue_) return;
    for (auto& ep : endpoints_) {
      // Older refused events first, so the endpoint still gets them in order.
      std::vector<std::string> picked = std::move(ep.unwritten);
      ep.unwritten.clear();
      for (const auto& e : events) {
        if (ep.wants(e)) picked.push_back(e.json);
      }
      if (picked.empty()) continue;
      std::string error;
      if (!queue_->append(ep.cfg.name, picked, &error)) {
        if (picked.size() > kMaxUnwritten) {
          spdlog::error("webhook: events dropped: the queue has refused writes for too long{}",
                        util::log_fields("endpoint", ep.cfg.name, "dropped", picked.size() - kMaxUnwritten));
          picked.erase(picked.begin(), picked.end() - static_cast<std::ptrdiff_t>(kMaxUnwritten));
        }
        spdlog::error("webhook: events not queued yet; trying again{}",
                      util::log_fields("endpoint", ep.cfg.name, "events", picked.size(), "error", error));
        ep.unwritten = std::move(picked);
        if (!append_retry_armed_) {
          append_retry_armed_ = true;
          delayed_send(this, kAppendRetry, tick_atom::value);
        }
        continue;
      }
      pump(ep);
    }
  }

  // Sends the oldest queued events unless a POST is in flight or a retry is pending.
  void pump(Endpoint& ep) {
    if (!queue_ || ep.in_flight || ep.retry_armed) return;
    auto batch = queue_->peek(ep.cfg.name, ep.cfg.max_batch, kMaxPostBytes);
    if (batch.events.empty()) return;
    // The queued objects are joined as they are: they were JSON when they went in.
    std::string body;
    body.reserve(batch.bytes + batch.events.size() + 16);
    body += R"({"events":[)";
    for (std::size_t i = 0; i < batch.events.size(); ++i) {
      if (i) body.push_back(',');
      body += batch.events[i];
    }
    body += "]}";
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    auto sig = events::sign(ep.cfg.secret, body, now);
    WebhookClient::Headers headers{{std::string(events::kTimestampHeader), std::move(sig.timestamp)},
                                   {std::string(events::kSignatureHeader), std::move(sig.signature)}};
    ep.in_flight = true;
    ep.in_flight_last_seq = batch.last_seq;
    ep.in_flight_events = batch.events.size();
    const std::uint64_t post_id = ++ep.post_id;
    // A weak address: a POST still running when the actor is gone must not keep it alive.
    caf::actor_addr me = address();
    ep.client->post(std::move(body), std::move(headers), ep.cfg.timeout,
                    [me, id = ep.id, post_id](WebhookResponse r) {
                      if (auto self = caf::actor_cast<webhook_actor>(me)) {
                        caf::anon_send(self, webhook_atom::value, id, post_id,
                                       static_cast<std::uint32_t>(r.status), std::move(r.error));
                      }
                    });
  }

  // The endpoints of a reload, by name: one that stays keeps its queue, its POST in flight and
  // its failure count (new settings are taken once no POST is in flight); a new one starts with
  // what is queued under its name; a removed one stops, and what it had queued stays on disk
  // under its name until an endpoint of that name is configured again (a rename is a removal
  // and an addition). Nothing changes unless every endpoint is valid.
  std::string reload(std::vector<WebhookEndpoint> next) {
    std::set<std::string> names;
    std::vector<std::optional<Endpoint>> built(next.size());
    for (std::size_t i = 0; i < next.size(); ++i) {
      if (!names.insert(next[i].name).second) return "webhook endpoint '" + next[i].name + "': name used twice";
      auto it = std::find_if(endpoints_.begin(), endpoints_.end(),
                             [&](const Endpoint& ep) { return ep.cfg.name == next[i].name; });
      if (it != endpoints_.end() && next[i] == it->cfg) continue;
      auto made = make_endpoint(io_, std::move(next[i]));
      if (auto* error = std::get_if<std::string>(&made)) return *error;
      built[i] = std::get<Endpoint>(std::move(made));
    }
    std::vector<Endpoint> kept;
    std::vector<std::uint64_t> added;
    for (std::size_t i = 0; i < next.size(); ++i) {
      const std::string& name = built[i] ? built[i]->cfg.name : next[i].name;
      auto it = std::find_if(endpoints_.begin(), endpoints_.end(),
                             [&](const Endpoint& ep) { return ep.cfg.name == name; });
      if (it == endpoints_.end()) {
        built[i]->id = ++last_id_;
        added.push_back(built[i]->id);
        kept.push_back(std::move(*built[i]));
        continue;
      }
      kept.push_back(std::move(*it));
      endpoints_.erase(it);
      if (!built[i]) continue;
      auto& ep = kept.back();
      ep.next_cfg = std::move(built[i]->cfg);
      ep.next_client = std::move(built[i]->client);
      take_next(ep);
    }
    for (auto& gone : endpoints_) retire(gone);
    endpoints_ = std::move(kept);
    for (const auto id : added) {
      auto* ep = find(id);
      spdlog::info("webhook: endpoint added{}", util::log_fields("endpoint", ep->cfg.name, "url", ep->cfg.url, "pending",
                                                                queue_ ? queue_->depth(ep->cfg.name) : 0));
      report(*ep, "", 0);
      pump(*ep);
    }
    return "";
  }

  // An endpoint a reload removed: no more events are queued for it and nothing is sent; a POST in
  // flight is abandoned (its events stay queued). Events the queue had refused are tried once more.
  void retire(Endpoint& ep) {
    if (ep.client) ep.client->close();
    if (ep.next_client) ep.next_client->close();
    std::string error;
    if (!ep.unwritten.empty() && queue_ && !queue_->append(ep.cfg.name, ep.unwritten, &error))
      spdlog::error("webhook: events dropped: the queue refused them{}",
                    util::log_fields("endpoint", ep.cfg.name, "dropped", ep.unwritten.size(), "error", error));
    const std::size_t depth = queue_ ? queue_->depth(ep.cfg.name) : 0;
    spdlog::warn("webhook: endpoint removed by a reload; its pending events stay queued on disk and are sent if an "
                 "endpoint of that name is configured again{}",
                 util::log_fields("endpoint", ep.cfg.name, "pending", depth));
  }

  // A reload's settings, once no POST is in flight on the old client.
  void take_next(Endpoint& ep) {
    if (!ep.next_cfg || ep.in_flight) return;
    if (ep.client) ep.client->close();
    ep.client = std::move(ep.next_client);
    ep.cfg = std::move(*ep.next_cfg);
    ep.next_cfg.reset();
    spdlog::info("webhook: new settings in force{}", util::log_fields("endpoint", ep.cfg.name, "url", ep.cfg.url));
  }

  void on_answer(std::uint64_t id, std::uint64_t post_id, std::uint32_t status, const std::string& error) {
    auto* found = find(id);
    if (!queue_ || !found) return;  // the answer to a removed endpoint's POST: its events stay queued
    auto& ep = *found;
    if (!ep.in_flight || post_id != ep.post_id) return;
    ep.in_flight = false;
    take_next(ep);
    if (status >= 200 && status < 300) {
      std::string ack_error;
      if (!queue_->ack(ep.cfg.name, ep.in_flight_last_seq, &ack_error)) {
        // The events stay queued and go again: a duplicate, never a loss.
        spdlog::error("webhook: answer not recorded{}", util::log_fields("endpoint", ep.cfg.name, "error", ack_error));
      }
      if (ep.failures > 0)
        spdlog::info("webhook: delivering again{}", util::log_fields("endpoint", ep.cfg.name, "failures", ep.failures));
      ep.failures = 0;
      report(ep, "delivered", ep.in_flight_events);
      pump(ep);
      return;
    }
    ++ep.failures;
    const auto delay = events::retry_delay(ep.cfg.retry_first, ep.cfg.retry_max, ep.failures,
                                           std::uniform_real_distribution<double>(0.0, 1.0)(rng_));
    const std::string why = status == 0 ? error : "HTTP " + std::to_string(status);
    if (retried_silently(status)) {
      spdlog::warn("webhook: POST failed, retrying{}",
                   util::log_fields("endpoint", ep.cfg.name, "events", ep.in_flight_events, "error", why, "retry_ms",
                                    delay.count(), "pending", queue_->depth(ep.cfg.name)));
    } else {
      spdlog::error("webhook: endpoint refused the events: check its URL and secret{}",
                    util::log_fields("endpoint", ep.cfg.name, "events", ep.in_flight_events, "error", why, "retry_ms",
                                     delay.count()));
    }
    report(ep, "failed", ep.in_flight_events);
    ep.retry_armed = true;
    delayed_send(this, delay, tick_atom::value, ep.id, ++ep.timer_gen);
  }

  void report(const Endpoint& ep, const char* result, std::uint64_t events) {
    if (!metrics_ || !queue_) return;
    send(metrics_, webhook_atom::value, ep.cfg.name, std::string(result), events,
         static_cast<std::uint64_t>(queue_->depth(ep.cfg.name)));
  }

  void shut() {
    for (auto& ep : endpoints_) {
      if (ep.client) ep.client->close();
      ep.client.reset();
    }
    queue_.reset();
  }

  boost::asio::io_context& io_;  // where new endpoints' clients run (a reload)
  std::unique_ptr<storage::EventQueue> queue_;
  std::vector<Endpoint> endpoints_;
  metrics_actor metrics_;
  std::mt19937_64 rng_;
  bool append_retry_armed_ = false;
  std::uint64_t last_id_ = 0;
};

}  // namespace

webhook_actor spawn_webhook_actor(caf::actor_system& system, boost::asio::io_context& io,
                               WebhookOptions options, metrics_actor metrics) {
  std::vector<Endpoint> endpoints;
  std::set<std::string> names;
  for (auto& cfg : options.endpoints) {
    if (!names.insert(cfg.name).second) throw std::runtime_error("webhook endpoint '" + cfg.name + "': name used twice");
    auto made = make_endpoint(io, std::move(cfg));
    if (auto* error = std::get_if<std::string>(&made)) throw std::runtime_error(*error);
    endpoints.push_back(std::get<Endpoint>(std::move(made)));
  }
  std::string error;
  auto queue = storage::EventQueue::open(options.queue_path, &error);
  if (!queue) throw std::runtime_error(error);
  return system.spawn<WebhookActor, caf::detached>(std::ref(io), std::move(queue), std::move(endpoints),
                                                   std::move(metrics));
}

}  // namespace volley
