// The delivery actor's MX routing and session pool: it finds the destination's MX hosts (or its
// static route), shapes each lane for them, hands ready work to greeted sessions and opens new
// ones within the egress paths' limits. What a session's events mean for the work is the
// destination queue's decision (core/delivery/destination_queue.hpp).
#include <algorithm>
#include <utility>  // before Boost.Asio (see build-facts)

#include <boost/asio/ip/address.hpp>
#include <spdlog/spdlog.h>

#include "actors/delivery_state.hpp"
#include "core/util/ids.hpp"
#include "net/session_cache.hpp"
#include "core/util/log_fields.hpp"

namespace volley {

namespace {

std::vector<SessionTarget> targets_for(const DeliveryState& st) {
  std::vector<SessionTarget> out;
  std::uint16_t port = st.ctx->settings.smtp_port;
  if (auto it = st.ctx->settings.routes.find(st.domain); it != st.ctx->settings.routes.end()) port = it->second.port;
  for (const auto& h : st.mx->hosts) out.push_back(SessionTarget{h.name, h.addresses, port});
  return out;
}

// A refusal at the cache's gate: in line for key once (the cache wakes the actor), and a look
// again within a second whatever happens (a wake sent to an actor stopped meanwhile is lost).
bool wait_at_gate(DeliverySelf self, SessionCache& cache, const std::string& key, SessionCache::Attempt* attempt) {
  auto& st = self->state;
  SessionCache::Wake wake;
  if (!st.gate_waiting)
    wake = [actor = caf::actor_cast<caf::actor>(self), key] { caf::anon_send(actor, wake_atom::value, key); };
  if (cache.try_connect(key, std::move(wake), attempt)) return false;
  st.gate_waiting = true;
  arm_pace_timer(self, now_unix_ms() + 1000);
  return true;
}

// A session for lane l, counted on its egress path (try_open came first): a parked one from the
// connection cache, or a new connection. False: the cache's gate for the most preferred MX host
// is full; the path's count is given back and the cache wakes the actor.
bool open_session(DeliverySelf self, std::size_t l) {
  auto& st = self->state;
  const auto& source = st.queue->source(l);
  Session s;
  s.lane = l;
  s.path = PathSlot(st.paths[l]);
  auto targets = plan_targets(st, targets_for(st), st.queue->lane(l).limits.tls, now_unix_ms());
  std::shared_ptr<SmtpSession> taken_session;
  if (auto* cache = st.ctx->session_cache.get()) {
    for (const auto& t : targets) s.cache_keys.emplace_back(t.host, SessionCache::key(source.address, t));
    // Only a session to the most preferred MX host stands in for a new connection.
    if (!targets.empty()) {
      const std::string& key = s.cache_keys.front().second;
      if (auto taken = cache->take(key); taken.session) {
        taken_session = std::move(taken.session);
        s.sent = taken.sent;
        s.adopted = true;
      } else if (wait_at_gate(self, *cache, key, &s.attempt)) {
        return false;  // s.path's destructor gives the path's count back
      }
    }
  }
  const std::uint64_t id = st.next_session++;
  if (taken_session) {
    s.handle = std::move(taken_session);
    s.handle->adopt(id, caf::actor_cast<caf::actor>(self));
  } else {
    SessionOptions opts;
    opts.client.ehlo_name = source.ehlo_name;
    opts.source_address = source.address;
    opts.connect_timeout = st.ctx->settings.connect_timeout;
    opts.client.use_chunking = st.ctx->settings.chunking;
    opts.tls = st.ctx->tls;
    s.handle = SmtpSession::start(*st.ctx->io, id, std::move(targets), opts, caf::actor_cast<caf::actor>(self));
  }
  st.sessions.emplace(id, std::move(s));
  st.queue->session_opening(l);
  return true;
}

void give_job(DeliverySelf self, Session& s) {
  auto& st = self->state;
  const auto& paths = st.ctx->settings.return_paths;
  // A VERP return path names one recipient message, so each recipient is its own transaction.
  const delivery::ReturnPathRule* verp = paths.for_sender(st.queue->front(s.lane).msg->envelope_from);
  DeliveryJob job =
      st.queue->take(s.lane, verp ? 1 : st.queue->lane(s.lane).limits.max_recipients_per_transaction);
  smtp::Transaction txn;
  // X-Volley-ID ties a complaint (whose report quotes the headers) back to what was sent: the
  // recipient message when the transaction has one recipient, else the message.
  const std::string volley_id =
      job.rcpts.size() == 1 ? spool::recipient_id(job.msg->id, job.rcpts.front().index) : job.msg->id;
  txn.mail_from = verp ? paths.address(*verp, volley_id) : job.msg->envelope_from;
  txn.rcpts.reserve(job.rcpts.size());
  for (const auto& r : job.rcpts) txn.rcpts.push_back(r.recipient);
  txn.wire_data = job.body;
  txn.header_prefix = "X-Volley-ID: " + paths.signed_id(volley_id) + "\r\n";
  txn.message_size = job.msg->message_size + txn.header_prefix.size();
  txn.body_8bit = job.msg->body_8bit;
  txn.needs_smtputf8 = job.msg->needs_smtputf8;
  s.jobs.push_back(std::move(job));
  --s.room;
  s.idle_since_ms = 0;
  s.handle->send(std::move(txn));
}

void on_transaction_done(DeliverySelf self, Session& s, smtp::TransactionResult result) {
  if (s.jobs.empty()) return;
  auto& st = self->state;
  DeliveryJob job = std::move(s.jobs.front());
  s.jobs.pop_front();
  ++s.sent;
  st.tls.reporting = &s.tls;  // the delivered events say how the session was protected
  st.queue->transaction_done(job, result.per_rcpt, s.lane, s.mx_host, now_unix_ms(), *st.reporter);
  st.tls.reporting = nullptr;
}

void on_session_closed(DeliverySelf self, std::uint64_t id, Session& s, const SessionEvent& ev) {
  auto& st = self->state;
  const std::size_t l = s.lane;
  const std::int64_t now = now_unix_ms();
  // Cannot normally happen: the client reports every transaction it holds first.
  for (auto& job : s.jobs)
    st.queue->defer_all(job, l, s.mx_host, smtp::Reply::synthetic(451, "4.4.2", "session closed: " + ev.reason), now,
                        *st.reporter);
  s.jobs.clear();
  // An adopted session that the server closed while it was parked was greeted, once.
  if (s.adopted && !s.greeted) st.queue->session_greeted(l);
  const bool greeted = s.greeted || s.adopted;
  st.sessions.erase(id);
  if (!greeted)
    spdlog::debug("delivery: session failed before the greeting{}",
                  util::log_fields("domain", st.domain, "session", id, "source", st.queue->source(l).name, "error", ev.reason));
  st.queue->session_ended(l, greeted, ev.reply, ev.reason, ev.mx_host, now, *st.reporter);
}

// At most one idle timer per session is out at a time (Session::idle_timer).
template <class Duration>
void arm_idle_timer(DeliverySelf self, std::uint64_t id, Session& s, Duration after) {
  if (s.idle_timer) return;
  s.idle_timer = true;
  send_later(self, self->state.ctx->timers.get(), after, idle_atom::value, id, std::uint64_t{0});
}

// The session's key in the connection cache, "" when it is not to be shared.
const std::string& cache_key(const DeliveryState& st, const Session& s) {
  static const std::string none;
  if (!st.ctx->session_cache || s.park_refused) return none;
  for (const auto& [host, key] : s.cache_keys)
    if (host == s.mx_host) return key;
  return none;
}

// How long an idle session waits before the idle timer looks at it: until it may be parked, or
// until it quits.
std::chrono::milliseconds idle_wait(const DeliveryState& st, const Session& s) {
  const std::chrono::milliseconds timeout = st.queue->lane(s.lane).limits.idle_timeout;
  return cache_key(st, s).empty() ? timeout : std::min(timeout, st.ctx->settings.park_after);
}

// An idle session goes to the connection cache for another destination to take, for what is
// left of its idle timeout. False: not shareable, or the cache is full.
bool park(DeliverySelf self, std::uint64_t id, Session& s, std::chrono::milliseconds idle_for) {
  auto& st = self->state;
  const std::string& key = cache_key(st, s);
  if (key.empty()) return false;
  const auto keep = std::chrono::milliseconds(st.queue->lane(s.lane).limits.idle_timeout) - idle_for;
  if (keep.count() <= 0) return false;
  if (!st.ctx->session_cache->park(key, s.handle, s.sent, keep)) {
    s.park_refused = true;
    return false;
  }
  const std::size_t l = s.lane;
  const std::string mx_host = s.mx_host;
  st.sessions.erase(id);  // its egress path slot goes with it
  st.queue->session_ended(l, true, {}, "", mx_host, now_unix_ms(), *st.reporter);
  return true;
}

// Whether pump may give the session another transaction: greeted, room left, under its message
// limit counting what it holds, its path not over its connection limit. A busy session that may
// not is left to finish, and quits when idle (on_session_ready).
bool may_take_more(const DeliveryState& st, const Session& s, std::int64_t now) {
  if (!s.greeted || s.quitting || s.room == 0) return false;
  const std::uint32_t limit = st.queue->lane(s.lane).limits.max_messages_per_connection;
  if (s.sent >= limit || s.jobs.size() >= limit - s.sent) return false;
  return s.jobs.empty() || !(s.path && s.path->over_limit(now));
}

// Greeted (or adopted), or done with a transaction: the session has room for more (`freed`: one
// place came back with a done; else the event says how many it takes).
void on_session_ready(DeliverySelf self, std::uint64_t id, Session& s, SessionEvent& ev, bool freed) {
  auto& st = self->state;
  if (!s.greeted) st.queue->session_greeted(s.lane);
  s.greeted = true;
  s.attempt.end();  // the gate may let the next attempt to this host in
  s.mx_host = ev.mx_host;
  s.tls = std::move(ev.tls);
  s.room = freed ? s.room + 1 : ev.room;
  on_tls_greeted(self, s);
  if (!s.jobs.empty()) return;  // busy: its last done makes it idle
  const std::int64_t now = now_unix_ms();
  const auto& limits = st.queue->lane(s.lane).limits;
  if (s.sent >= limits.max_messages_per_connection || (s.path && s.path->over_limit(now)) ||
      st.queue->domain_suspended(now)) {
    s.quitting = true;
    s.handle->quit();
  } else if (st.queue->queued() == 0 && park(self, id, s, std::chrono::milliseconds(0))) {
    // Nothing is left here, ready, in flight or waiting for a retry: another destination with
    // the same MX host may have it now rather than after park_after. With many small domains
    // (a message or two each), those 200 ms kept a session per domain from the next domains,
    // which connected anew (loadtest/README.md, issue 14, round ten).
  } else {
    // Whether or not pump hands it a job now: if it does, the hand-over marks it busy and
    // the timer finds it so; if not (pacing, work gone), it must not stay open forever.
    s.idle_since_ms = now;
    arm_idle_timer(self, id, s, idle_wait(st, s));
  }
}

}  // namespace

// Each lane's limits and egress path for the current MX hosts. Domains whose MX hosts roll up to
// one provider share the provider's paths; a domain with its own rule is paced on its own.
void shape_lanes(DeliveryState& st) {
  const auto& set = st.ctx->settings;
  std::vector<std::string> hosts;
  for (const auto& h : st.mx->hosts) hosts.push_back(h.name);
  st.shaping = delivery::resolve_shaping(set.shaping, st.domain, hosts, "");
  st.queue->set_destination_limits(&st.shaping.limits);
  // A domain that any rule names is paced on its own: sharing a provider's paths would apply its
  // limits to the provider's other domains, or theirs to it.
  const bool own_rule =
      std::any_of(set.shaping.domains.begin(), set.shaping.domains.end(),
                  [&](const delivery::DomainRule& r) { return r.domain == st.domain; }) ||
      std::any_of(set.shaping.sources.begin(), set.shaping.sources.end(),
                  [&](const delivery::SourceRule& r) { return r.domain == st.domain; });
  const std::string key = own_rule ? st.domain : st.shaping.rollup_key;
  for (std::size_t l = 0; l < st.queue->lane_count(); ++l) {
    const std::string& source = st.queue->source(l).name;  // retired lanes too: their sessions finish
    auto shaped = delivery::resolve_shaping(set.shaping, st.domain, hosts, source);
    st.queue->set_lane_limits(l, shaped.limits);
    st.paths[l] = st.ctx->paths->get(source, key, shaped.limits);
    st.paths[l]->set_limits(shaped.limits);  // a path made before a reload keeps its state, takes the new limits
  }
}

void resolve(DeliverySelf self) {
  auto& st = self->state;
  if (st.resolving) return;
  st.resolving = true;
  auto resolved = [self](dns::MxResolution r, std::int64_t ttl_ms) {
    auto& st = self->state;
    st.resolving = false;
    st.mx = std::move(r);
    st.mx_expires_ms = now_unix_ms() + ttl_ms;
    forget_tls_inputs(st);
    if (st.mx->status == dns::Status::ok)
      shape_lanes(st);
    else
      st.queue->set_destination_limits(nullptr);
    pump(self);
  };
  std::string name = st.domain;
  if (auto it = st.ctx->settings.routes.find(st.domain); it != st.ctx->settings.routes.end()) {
    boost::system::error_code ec;
    boost::asio::ip::make_address(it->second.host, ec);
    if (!ec) {  // a literal smarthost needs no DNS
      dns::MxResolution r;
      r.status = dns::Status::ok;
      r.hosts.push_back(dns::MxHost{it->second.host, 0, {it->second.host}});
      r.ttl = 24 * 3600;
      resolved(std::move(r), 24ll * 3600 * 1000);
      return;
    }
    name = it->second.host;
  }
  request_within(self, st.ctx->timers.get(), st.ctx->dns, std::chrono::seconds(60), resolve_atom::value, name)
      .then([resolved](const dns::MxResolution& r) { resolved(r, 1000ll * std::max<std::uint32_t>(r.ttl, 1)); },
            [self, resolved](const caf::error& err) {
              dns::MxResolution r;
              r.status = dns::Status::temp_fail;
              r.error = "resolver did not answer: " + self->system().render(err);
              resolved(std::move(r), 1000);
            });
}

void pump_lane(DeliverySelf self, std::size_t l, std::int64_t now) {
  auto& st = self->state;
  auto& queue = *st.queue;
  if (queue.lane(l).ready.empty()) return;
  ensure_bodies(self, l);
  EgressPath& path = *st.paths[l];
  std::int64_t retry = 0;
  // Idle sessions first, one transaction each; then the busy ones up to their room, so that a
  // pipelining session has the next message in hand when the server asks for the body before it.
  for (const bool busy : {false, true}) {
    for (auto& [id, s] : st.sessions) {
      if (s.lane != l || s.jobs.empty() == busy) continue;
      while (queue.front_sendable(l) && may_take_more(st, s, now)) {
        if (!path.try_send(now, &retry)) {
          if (retry != 0) arm_pace_timer(self, retry);
          return;
        }
        give_job(self, s);
        if (!busy) break;
      }
      if (!queue.front_sendable(l)) break;
    }
  }
  while (queue.wants_session(l)) {
    if (!path.try_open(now, &retry)) {
      // A connection rate says when; a full path (maybe shared with other domains of the same
      // provider) frees up when a connection closes, which may be another actor's.
      arm_pace_timer(self, retry != 0 ? retry : now + 200);
      break;
    }
    if (!open_session(self, l)) break;  // at the cache's gate: woken when a session is parked
  }
}

namespace {

// False: nothing changed for the work (pump need not run for it).
bool on_session_event(DeliverySelf self, std::uint64_t id, SessionEvent& ev) {
  auto& st = self->state;
  auto it = st.sessions.find(id);
  if (it == st.sessions.end()) return false;  // parked, or gone: a late report
  Session& s = it->second;
  switch (ev.kind) {
    case SessionEvent::Kind::ready:
      on_session_ready(self, id, s, ev, false);
      break;
    case SessionEvent::Kind::done:
      on_transaction_done(self, s, std::move(ev.result));
      if (ev.ready_after) on_session_ready(self, id, s, ev, true);
      break;
    case SessionEvent::Kind::closed:
      on_session_closed(self, id, s, ev);
      break;
    case SessionEvent::Kind::tls_problem:
      on_tls_problem(self, ev.tls_problem);
      return false;
  }
  return true;
}

}  // namespace

void on_session_reports(DeliverySelf self, SessionReports& reports) {
  bool changed = false;
  for (auto& r : reports) changed |= on_session_event(self, r.id, r.event);
  if (changed) pump(self);
}

void on_gate_wake(DeliverySelf self, const std::string& key) {
  auto& st = self->state;
  st.gate_waiting = false;
  const std::uint64_t opened = st.next_session;
  pump(self);
  // Its work went elsewhere meanwhile (another session, a bounce): the next in line may use the
  // parked session or the attempt this wake stood for.
  if (st.next_session == opened && !st.gate_waiting)
    if (auto* cache = st.ctx->session_cache.get()) cache->pass_on(key);
}

void on_session_idle(DeliverySelf self, std::uint64_t id, std::uint64_t) {
  auto& st = self->state;
  auto it = st.sessions.find(id);
  if (it == st.sessions.end()) return;
  auto& s = it->second;
  s.idle_timer = false;
  // Busy now: the next ready event arms a timer again.
  if (!s.jobs.empty() || s.quitting || s.idle_since_ms == 0) return;
  const auto wait = idle_wait(st, s);
  const auto idle_for = std::chrono::milliseconds(now_unix_ms() - s.idle_since_ms);
  if (idle_for < wait) {
    // Busy for a while since the timer was set, idle again now: wait for the rest.
    arm_idle_timer(self, id, s, wait - idle_for);
    return;
  }
  if (park(self, id, s, idle_for)) {
    pump(self);  // gauges, and the reaping of an actor left with nothing
    return;
  }
  const std::chrono::milliseconds timeout = st.queue->lane(s.lane).limits.idle_timeout;
  if (idle_for < timeout) {  // not parked after all (the cache is full): idle on as before
    arm_idle_timer(self, id, s, timeout - idle_for);
    return;
  }
  s.quitting = true;
  s.handle->quit();
}

// Sessions of a suspended domain or source finish their transaction and quit.
void quit_suspended_sessions(DeliverySelf self, std::int64_t now) {
  auto& st = self->state;
  for (auto& [id, s] : st.sessions) {
    if (!s.jobs.empty() || s.quitting || !s.greeted) continue;
    if (st.queue->domain_suspended(now) || st.queue->source_suspended(s.lane, now)) {
      s.quitting = true;
      s.handle->quit();
    }
  }
}

void drain_sessions(DeliverySelf self) {
  auto& st = self->state;
  for (auto& [id, s] : st.sessions) {
    if (!s.jobs.empty() || s.quitting) continue;  // the transactions in hand finish first
    s.quitting = true;
    s.handle->quit();
  }
  if (st.sessions.empty() && st.drained) {
    st.drained->deliver(true);
    st.drained.reset();
  }
}

void stop_sessions(DeliverySelf self) {
  for (auto& [id, s] : self->state.sessions) s.handle->abort();
  self->state.sessions.clear();
}

}  // namespace volley
