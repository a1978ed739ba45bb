#include "api/events_api.hpp"

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <string_view>

#include <caf/all.hpp>

#include "api/http_json.hpp"
#include "core/events/outcome.hpp"
#include "core/util/ascii.hpp"

namespace volley::api {

namespace {

constexpr auto kActorTimeout = std::chrono::seconds(5);
constexpr std::uint64_t kDefaultLimit = 100;
constexpr std::uint64_t kMaxLimit = 10000;
// Lines that arrive between the subscription and the stream's headers (a few ms): held here up
// to this much, like the server's own bound on a stream's unwritten chunks.
constexpr std::size_t kMaxHeld = 1024 * 1024;

constexpr std::string_view kTypes[] = {"delivered", "deferred", "bounced",  "expired",     "received",
                                       "suppressed", "async_bounce", "complaint", "unsubscribe", "cancelled"};

// The subscription's end of a stream: lines the events actor delivers before the HTTP stream
// exists are held, then passed on. Called from the events actor; never blocks it for long.
class PendingStream {
 public:
  bool write(const std::string& line) {
    std::lock_guard lock(mu_);
    if (gone_) return false;
    if (out_) {
      gone_ = !out_->write(line);
    } else {
      held_ += line;
      gone_ = held_.size() > kMaxHeld;
    }
    return !gone_;
  }
  void attach(std::shared_ptr<HttpStream> out) {
    std::lock_guard lock(mu_);
    out_ = std::move(out);
    if (!held_.empty() && !out_->write(std::move(held_))) gone_ = true;
    held_.clear();
  }

 private:
  std::mutex mu_;
  std::shared_ptr<HttpStream> out_;
  std::string held_;
  bool gone_ = false;
};

// Ends a subscription whose stream never started (the client left before the headers went out):
// destroyed with the unused stream function, it unsubscribes.
struct StartGuard {
  events_actor events;
  std::uint64_t id = 0;
  bool started = false;
  ~StartGuard() {
    if (!started) caf::anon_send(events, unsubscribe_atom::value, id);
  }
};

std::optional<events::EventFilter> filter_of(const HttpRequest& req, Responder& respond) {
  events::EventFilter f;
  if (!req.admin) f.tenant = req.tenant;  // the tenant wall
  if (auto types = query_parameter(req.target, "type"); types && !types->empty()) {
    std::string_view rest(*types);
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      const std::string_view t = rest.substr(0, comma);
      if (std::find(std::begin(kTypes), std::end(kTypes), t) == std::end(kTypes)) {
        respond(error_response(400, "invalid_field",
                               "unknown event type \"" + std::string(t.substr(0, 32)) +
                                   "\"; use delivered, deferred, bounced, expired, received, suppressed, "
                                   "async_bounce, complaint, unsubscribe or cancelled",
                               "type"));
        return std::nullopt;
      }
      f.types.emplace_back(t);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
  }
  if (auto domain = query_parameter(req.target, "domain")) {
    f.domain = *domain;
    for (auto& c : f.domain) c = util::ascii_lower(c);
  }
  if (auto id = query_parameter(req.target, "id")) f.id = *id;
  return f;
}

// "1", "true", "yes" -> true; absent, "0", "false", "no" -> false; anything else refused.
std::optional<bool> follow_of(const HttpRequest& req, Responder& respond) {
  const auto v = query_parameter(req.target, "follow");
  if (!v || *v == "0" || *v == "false" || *v == "no") return false;
  if (*v == "1" || *v == "true" || *v == "yes" || v->empty()) return true;
  respond(error_response(400, "invalid_field", "follow must be 1 or 0", "follow"));
  return std::nullopt;
}

class EventsApi {
 public:
  EventsApi(EventsApiConfig cfg, Handler next) : cfg_(std::move(cfg)), next_(std::move(next)) {}

  void handle(HttpRequest&& req, Responder respond) const {
    if (req.path() != "/api/v1/events") return next_(std::move(req), std::move(respond));
    if (req.method != "GET") return respond(method_not_allowed("GET"));
    auto filter = filter_of(req, respond);
    if (!filter) return;
    auto follow = follow_of(req, respond);
    if (!follow) return;
    if (*follow) return subscribe(std::move(*filter), std::move(respond));
    std::uint64_t limit = kDefaultLimit;
    if (auto l = query_parameter(req.target, "limit")) {
      try {
        std::size_t used = 0;
        limit = std::stoull(*l, &used);
        if (used != l->size() || limit == 0 || limit > kMaxLimit) throw std::invalid_argument("range");
      } catch (const std::exception&) {
        return respond(error_response(400, "invalid_field", "limit must be a number from 1 to 10000", "limit"));
      }
    }
    recent(std::move(*filter), limit, std::move(respond));
  }

 private:
  void recent(events::EventFilter filter, std::uint64_t limit, Responder respond) const {
    cfg_.system->spawn([](caf::event_based_actor* self, events_actor events, events::EventFilter f, std::uint64_t n,
                          Responder answer) {
      self->request(events, kActorTimeout, recent_atom::value, std::move(f), n)
          .then(
              [answer](const std::vector<std::string>& lines) {
                std::string body = "{\"events\":[";
                for (std::size_t i = 0; i < lines.size(); ++i) body += (i ? "," : "") + lines[i];
                answer(json_response(200, body + "]}"));
              },
              [answer](const caf::error& err) {
                answer(error_response(503, "events_unavailable", "the events actor did not answer: " + to_string(err)));
              });
    }, cfg_.events, std::move(filter), limit, std::move(respond));
  }

  void subscribe(events::EventFilter filter, Responder respond) const {
    static std::atomic<std::uint64_t> next_id{1};
    auto pending = std::make_shared<PendingStream>();
    EventSubscription sub{next_id++, std::move(filter), [pending](const std::string& line) { return pending->write(line); }};
    const std::uint64_t id = sub.id;
    cfg_.system->spawn([](caf::event_based_actor* self, events_actor events, EventSubscription s, std::uint64_t sub_id,
                          std::shared_ptr<PendingStream> held, Responder answer) {
      self->request(events, kActorTimeout, subscribe_atom::value, std::move(s))
          .then(
              [events, sub_id, held, answer](bool) {
                HttpResponse r;
                r.content_type = "application/x-ndjson";
                r.headers.emplace_back("Cache-Control", "no-store");
                auto guard = std::make_shared<StartGuard>();  // (a temporary's destructor would unsubscribe)
                guard->events = events;
                guard->id = sub_id;
                r.stream = [events, sub_id, held, guard](std::shared_ptr<HttpStream> out) {
                  guard->started = true;
                  // A client gone, a server stopping or a reader too slow: the actor forgets it.
                  out->on_close([events, sub_id] { caf::anon_send(events, unsubscribe_atom::value, sub_id); });
                  held->attach(std::move(out));
                };
                answer(std::move(r));
              },
              [events, sub_id, answer](const caf::error& err) {
                caf::anon_send(events, unsubscribe_atom::value, sub_id);
                answer(error_response(503, "events_unavailable", "the events actor did not answer: " + to_string(err)));
              });
    }, cfg_.events, std::move(sub), id, std::move(pending), std::move(respond));
  }

  EventsApiConfig cfg_;
  Handler next_;
};

}  // namespace

Handler make_events_handler(EventsApiConfig config, Handler next) {
  return serve<EventsApi>(std::move(config), std::move(next));
}

}  // namespace volley::api
