#include "actors/delivery_actor.hpp"

#include <deque>
#include <map>
#include <optional>
#include <unordered_set>

#include <utility>  // before Boost.Asio (see build-facts)

#include <boost/asio/ip/address.hpp>
#include <spdlog/spdlog.h>

#include "actors/messages.hpp"
#include "actors/smtp_session.hpp"
#include "core/delivery/classify.hpp"
#include "core/util/ids.hpp"

namespace volley {

namespace {

// A claim on the shared queued-body budget, given back when the job lets go of it.
class BudgetClaim {
 public:
  BudgetClaim() = default;
  BudgetClaim(BodyBudget* budget, std::int64_t bytes) : budget_(budget), bytes_(bytes) {}
  BudgetClaim(BudgetClaim&& o) noexcept : budget_(o.budget_), bytes_(std::exchange(o.bytes_, 0)) {}
  BudgetClaim& operator=(BudgetClaim&& o) noexcept {
    if (this != &o) {
      release();
      budget_ = o.budget_;
      bytes_ = std::exchange(o.bytes_, 0);
    }
    return *this;
  }
  BudgetClaim(const BudgetClaim&) = delete;
  BudgetClaim& operator=(const BudgetClaim&) = delete;
  ~BudgetClaim() { release(); }

  void release() {
    if (budget_ && bytes_ != 0) budget_->fetch_sub(bytes_, std::memory_order_relaxed);
    bytes_ = 0;
  }

 private:
  BodyBudget* budget_ = nullptr;  // the delivery context's, which outlives every job
  std::int64_t bytes_ = 0;
};

// A recipient as a delivery actor holds it. Its message and domain are its job's and its actor's,
// and its last reply stays in the spool: a million deferred recipients live here.
struct PendingRcpt {
  std::string recipient;
  std::uint32_t index = 0;  // its id is spool::recipient_id(message id, index)
  std::uint32_t attempts = 0;
  std::int64_t next_attempt_ms = 0;
};

// Recipients of one message, for one domain, delivered in one SMTP transaction.
struct Job {
  QueuedMessagePtr msg;
  std::vector<PendingRcpt> rcpts;
  BodyPtr body;  // held only while the job is ready or in flight (see QueuedMessage)
  BudgetClaim claim = {};  // when the body is held beyond the body window
};

struct Session {
  std::shared_ptr<SmtpSession> handle;
  bool greeted = false;
  bool quitting = false;
  std::optional<Job> job;  // the transaction in flight
  std::uint32_t sent = 0;
  std::uint64_t idle_generation = 0;
  std::string mx_host;
};

constexpr std::size_t kMaxRcptsPerTransaction = 100;

struct DeliveryState {
  std::string domain;
  DeliveryContextPtr ctx;
  caf::actor router;

  std::deque<Job> ready;
  std::multimap<std::int64_t, Job> deferred;  // next attempt (ms) -> job
  std::uint64_t timer_generation = 0;
  std::int64_t timer_at = 0;  // 0 = no retry timer armed

  std::optional<dns::MxResolution> mx;
  std::int64_t mx_expires_ms = 0;
  bool resolving = false;

  std::map<std::uint64_t, Session> sessions;
  std::uint64_t next_session = 1;
  std::string last_connect_error;
  // After a session failed to reach any MX, only one probe session at a time until one is greeted:
  // a dead destination gets one connection attempt per retry, not a storm of them.
  bool connect_blocked = false;

  // Bodies being read back from the spool, by message id; and messages whose body is gone
  // (their recipients are left in the spool for an operator, not sent).
  std::unordered_set<std::string> loading;
  std::unordered_set<std::string> missing_bodies;
  bool load_retry_pending = false;
  bool reap_pending = false;

  std::uint64_t queued = 0;  // recipients owned here and not final
  std::uint64_t batches_received = 0;
  std::uint64_t reap_generation = 0;
  std::uint64_t reported_depth = ~0ull, reported_conns = ~0ull;
};

using Self = caf::stateful_actor<DeliveryState>;

std::size_t connecting_count(const DeliveryState& st) {
  std::size_t n = 0;
  for (const auto& [id, s] : st.sessions)
    if (!s.greeted) ++n;
  return n;
}

void report_gauges(Self* self) {
  auto& st = self->state;
  if (st.queued == st.reported_depth && st.sessions.size() == st.reported_conns) return;
  st.reported_depth = st.queued;
  st.reported_conns = st.sessions.size();
  if (st.ctx->metrics)
    self->send(st.ctx->metrics, gauge_atom::value, st.domain, st.queued,
               static_cast<std::uint64_t>(st.sessions.size()));
}

Outcome make_outcome(const DeliveryState& st, OutcomeKind kind, const Job& job, const PendingRcpt& r,
                     std::string mx_host, std::string reply) {
  Outcome o;
  o.kind = kind;
  o.rcpt_id = spool::recipient_id(job.msg->id, r.index);
  o.message_id = job.msg->id;
  o.recipient = r.recipient;
  o.domain = st.domain;
  o.tenant = job.msg->tenant;
  o.campaign = job.msg->campaign;
  o.mx_host = std::move(mx_host);
  o.reply = std::move(reply);
  o.attempt = r.attempts;
  o.received_at_ms = job.msg->received_at_ms;
  o.at_ms = now_unix_ms();
  return o;
}

void emit(Self* self, const Outcome& o) {
  auto& ctx = *self->state.ctx;
  if (ctx.metrics) self->send(ctx.metrics, outcome_atom::value, o);
  if (ctx.events) self->send(ctx.events, outcome_atom::value, o);
}

// A recipient reached a final outcome: report it and release its spool records.
void finalize(Self* self, OutcomeKind kind, const Job& job, const PendingRcpt& r,
              const std::string& mx_host, std::string reply, std::string category) {
  auto& st = self->state;
  auto o = make_outcome(st, kind, job, r, mx_host, std::move(reply));
  o.category = std::move(category);
  o.message_finished = job.msg->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1;
  emit(self, o);
  // With an events actor, it releases the spool records once the event is written.
  if (!st.ctx->events && st.ctx->spool)
    self->send(st.ctx->spool, done_atom::value, SpoolReleases{{o.rcpt_id, o.message_id, o.message_finished}});
  --st.queued;
}

void arm_retry_timer(Self* self) {
  auto& st = self->state;
  if (st.deferred.empty()) {
    st.timer_at = 0;
    return;
  }
  const std::int64_t first = st.deferred.begin()->first;
  if (st.timer_at != 0 && st.timer_at <= first) return;  // an earlier timer will come anyway
  st.timer_at = first;
  const std::int64_t wait = std::max<std::int64_t>(0, first - now_unix_ms());
  self->delayed_send(self, std::chrono::milliseconds(wait), tick_atom::value, ++st.timer_generation);
}

// Temporary failure of some recipients of a job: schedule their next attempt, or expire them.
void defer(Self* self, const Job& job, std::vector<PendingRcpt> rcpts, const std::string& mx_host,
           const std::string& reply) {
  auto& st = self->state;
  const std::int64_t now = now_unix_ms();
  Job later{job.msg, {}, nullptr, {}};  // a deferred job lets go of the body
  std::int64_t when = 0;
  for (auto& r : rcpts) {
    auto next = delivery::next_attempt_ms(st.ctx->settings.retry, r.attempts, job.msg->received_at_ms, now);
    if (!next) {
      finalize(self, OutcomeKind::expired, job, r, mx_host,
               "gave up after " + std::to_string(r.attempts) + " attempts; last reply: " + reply,
               "message-expired");
      continue;
    }
    r.next_attempt_ms = *next;
    auto o = make_outcome(st, OutcomeKind::deferred, job, r, mx_host, reply);
    o.next_attempt_ms = *next;
    if (st.ctx->spool) {  // the last reply is kept there (status lookups read it), not here
      spool::RecipientRecord rec;
      rec.id = o.rcpt_id;
      rec.message_id = o.message_id;
      rec.recipient = r.recipient;
      rec.domain = st.domain;
      rec.state = spool::RecipientState::deferred;
      rec.attempts = r.attempts;
      rec.next_attempt_ms = *next;
      rec.last_reply = reply;
      self->send(st.ctx->spool, defer_atom::value, std::move(rec));
    }
    emit(self, o);
    when = std::max(when, *next);
    later.rcpts.push_back(std::move(r));
  }
  if (!later.rcpts.empty()) {
    st.deferred.emplace(when, std::move(later));
    arm_retry_timer(self);
  }
}

// Counts an attempt for every recipient of the job; the attempt number is in the events.
void count_attempt(Job& job) {
  for (auto& r : job.rcpts) ++r.attempts;
}

// Every ready job fails the same way before reaching a server (DNS, no connection).
void fail_ready(Self* self, bool permanent, const std::string& reply, const std::string& category) {
  auto& st = self->state;
  auto jobs = std::move(st.ready);
  st.ready.clear();
  for (auto& job : jobs) {
    count_attempt(job);
    if (permanent) {
      for (const auto& r : job.rcpts) finalize(self, OutcomeKind::bounced, job, r, "", reply, category);
    } else {
      auto rcpts = job.rcpts;
      defer(self, job, std::move(rcpts), "", reply);
    }
  }
}

void schedule_reap(Self* self) {
  auto& st = self->state;
  if (st.queued != 0 || !st.sessions.empty() || st.reap_pending) return;
  st.reap_pending = true;
  self->delayed_send(self, st.ctx->settings.reap_after, idle_atom::value, ++st.reap_generation);
}

void give_job(Self* self, Session& s) {
  auto& st = self->state;
  Job job = std::move(st.ready.front());
  st.ready.pop_front();
  job.claim.release();  // in flight now: held by the session, not by the queue
  count_attempt(job);
  smtp::Transaction txn;
  txn.mail_from = job.msg->envelope_from;
  txn.rcpts.reserve(job.rcpts.size());
  for (const auto& r : job.rcpts) txn.rcpts.push_back(r.recipient);
  txn.wire_data = job.body;
  txn.message_size = job.msg->message_size;
  txn.body_8bit = job.msg->body_8bit;
  txn.needs_smtputf8 = job.msg->needs_smtputf8;
  s.job = std::move(job);
  ++s.idle_generation;
  s.handle->send(std::move(txn));
}

std::vector<SessionTarget> targets_for(const DeliveryState& st) {
  std::vector<SessionTarget> out;
  std::uint16_t port = st.ctx->settings.smtp_port;
  if (auto it = st.ctx->settings.routes.find(st.domain); it != st.ctx->settings.routes.end()) port = it->second.port;
  for (const auto& h : st.mx->hosts) out.push_back(SessionTarget{h.name, h.addresses, port});
  return out;
}

void open_session(Self* self) {
  auto& st = self->state;
  const auto& set = st.ctx->settings;
  SessionOptions opts;
  opts.client.ehlo_name = set.ehlo_name;
  opts.connect_timeout = set.connect_timeout;
  const std::uint64_t id = st.next_session++;
  Session s;
  s.handle = SmtpSession::start(*st.ctx->io, id, targets_for(st), opts, caf::actor_cast<caf::actor>(self));
  st.sessions.emplace(id, std::move(s));
}

void resolve(Self* self);
void pump(Self* self);

// How many jobs at the front of the ready queue hold their bodies: enough to keep every session
// busy while the next bodies are read. Jobs behind them let go of theirs, so a backlog (a slow
// destination, a restart with a full spool) costs records in memory, not bodies.
std::size_t body_window(const DeliveryState& st) { return 2 * st.ctx->settings.max_connections + 4; }

bool front_sendable(const DeliveryState& st) { return !st.ready.empty() && st.ready.front().body; }

void on_bodies(Self* self, const std::vector<QueuedMessagePtr>& msgs, const LoadedBodies& bodies);

// Makes sure the jobs at the front of the ready queue (as many as could be handed to sessions
// soon) have their bodies: from a job of the same message that still holds it, or read back from
// the spool in one request. Jobs of a message whose body is gone are dropped from memory.
void ensure_bodies(Self* self) {
  auto& st = self->state;
  const std::size_t window = body_window(st);
  std::vector<QueuedMessagePtr> wanted;
  std::size_t seen = 0;
  for (auto it = st.ready.begin(); it != st.ready.end() && seen < window;) {
    Job& job = *it;
    if (!job.body) job.body = job.msg->body();
    if (!job.body && st.missing_bodies.count(job.msg->id) != 0) {
      spdlog::error("{}: message {} has no body in the spool; its {} recipients stay spooled", st.domain,
                    job.msg->id, job.rcpts.size());
      st.queued -= job.rcpts.size();
      it = st.ready.erase(it);
      continue;
    }
    if (!job.body && st.loading.insert(job.msg->id).second) wanted.push_back(job.msg);
    ++seen;
    ++it;
  }
  if (wanted.empty() || !st.ctx->spool) return;
  std::vector<std::string> ids;
  ids.reserve(wanted.size());
  for (const auto& m : wanted) ids.push_back(m->id);
  self->request(st.ctx->spool, std::chrono::seconds(60), load_atom::value, std::move(ids))
      .then([self, wanted](const LoadedBodies& bodies) { on_bodies(self, wanted, bodies); },
            [self, wanted](const caf::error& err) {
              auto& st = self->state;
              spdlog::warn("{}: reading {} bodies from the spool failed: {}", st.domain, wanted.size(),
                           self->system().render(err));
              for (const auto& m : wanted) st.loading.erase(m->id);
              if (!st.load_retry_pending) {  // try again in a second, not in a hot loop
                st.load_retry_pending = true;
                self->delayed_send(self, std::chrono::seconds(1), load_atom::value);
              }
            });
}

void on_bodies(Self* self, const std::vector<QueuedMessagePtr>& msgs, const LoadedBodies& bodies) {
  auto& st = self->state;
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    st.loading.erase(msgs[i]->id);
    if (i < bodies.size() && bodies[i])
      msgs[i]->share_body(bodies[i]);
    else
      st.missing_bodies.insert(msgs[i]->id);
  }
  // While `bodies` holds them, the jobs that asked take them through their messages (a job
  // deferred meanwhile asks again when due).
  ensure_bodies(self);
  pump(self);
}

// The heart of the actor: match ready work with sessions, opening sessions up to the limit.
void pump(Self* self) {
  auto& st = self->state;
  if (!st.ready.empty()) {
    const std::int64_t now = now_unix_ms();
    if (!st.mx || now >= st.mx_expires_ms) {
      resolve(self);
    } else if (st.mx->status == dns::Status::perm_fail) {
      fail_ready(self, true, "550 5.1.2 " + st.domain + ": " + st.mx->error, "bad-domain");
    } else if (st.mx->status == dns::Status::temp_fail) {
      fail_ready(self, false, "451 4.4.3 " + st.domain + ": DNS: " + st.mx->error, "");
      st.mx.reset();  // ask again when the deferred recipients come back
    } else {
      ensure_bodies(self);
      for (auto& [id, s] : st.sessions) {
        if (!front_sendable(st)) break;
        if (s.greeted && !s.quitting && !s.job) give_job(self, s);
      }
      const auto& set = st.ctx->settings;
      const std::size_t limit = st.connect_blocked ? 1 : set.max_connections;
      while (!st.ready.empty() && st.sessions.size() < limit && connecting_count(st) < st.ready.size())
        open_session(self);
    }
  }
  report_gauges(self);
  schedule_reap(self);
}

void resolve(Self* self) {
  auto& st = self->state;
  if (st.resolving) return;
  st.resolving = true;
  std::string name = st.domain;
  if (auto it = st.ctx->settings.routes.find(st.domain); it != st.ctx->settings.routes.end()) {
    boost::system::error_code ec;
    boost::asio::ip::make_address(it->second.host, ec);
    if (!ec) {  // a literal smarthost needs no DNS
      dns::MxResolution r;
      r.status = dns::Status::ok;
      r.hosts.push_back(dns::MxHost{it->second.host, 0, {it->second.host}});
      r.ttl = 24 * 3600;
      st.resolving = false;
      st.mx = std::move(r);
      st.mx_expires_ms = now_unix_ms() + 24ll * 3600 * 1000;
      pump(self);
      return;
    }
    name = it->second.host;
  }
  self->request(st.ctx->dns, std::chrono::seconds(60), resolve_atom::value, name)
      .then(
          [self](const dns::MxResolution& r) {
            auto& st = self->state;
            st.resolving = false;
            st.mx = r;
            st.mx_expires_ms = now_unix_ms() + 1000ll * std::max<std::uint32_t>(r.ttl, 1);
            pump(self);
          },
          [self](const caf::error& err) {
            auto& st = self->state;
            st.resolving = false;
            dns::MxResolution r;
            r.status = dns::Status::temp_fail;
            r.error = "resolver did not answer: " + self->system().render(err);
            st.mx = r;
            st.mx_expires_ms = now_unix_ms() + 1000;
            pump(self);
          });
}

void on_transaction_done(Self* self, Session& s, smtp::TransactionResult result) {
  if (!s.job) return;
  Job job = std::move(*s.job);
  s.job.reset();
  ++s.sent;
  std::vector<PendingRcpt> again;
  std::string defer_reply;
  for (std::size_t i = 0; i < job.rcpts.size(); ++i) {
    const smtp::Reply reply = i < result.per_rcpt.size()
                                  ? result.per_rcpt[i]
                                  : smtp::Reply::synthetic(451, "4.5.0", "no reply for recipient");
    auto& r = job.rcpts[i];
    switch (delivery::disposition(reply)) {
      case delivery::Disposition::delivered:
        finalize(self, OutcomeKind::delivered, job, r, s.mx_host, reply.summary(), "");
        break;
      case delivery::Disposition::bounced:
        finalize(self, OutcomeKind::bounced, job, r, s.mx_host, reply.summary(), delivery::bounce_category(reply));
        break;
      case delivery::Disposition::deferred:
        if (defer_reply.empty()) defer_reply = reply.summary();
        again.push_back(r);
        break;
    }
  }
  if (!again.empty()) defer(self, job, std::move(again), s.mx_host, defer_reply);
}

void on_session_event(Self* self, std::uint64_t id, SessionEvent& ev) {
  auto& st = self->state;
  auto it = st.sessions.find(id);
  if (it == st.sessions.end()) return;
  Session& s = it->second;
  switch (ev.kind) {
    case SessionEvent::Kind::ready: {
      s.greeted = true;
      s.mx_host = ev.mx_host;
      st.last_connect_error.clear();
      st.connect_blocked = false;
      if (s.job) break;  // a ready that raced a job hand-over; done will follow
      if (s.sent >= st.ctx->settings.max_messages_per_connection) {
        s.quitting = true;
        s.handle->quit();
      } else if (front_sendable(st)) {
        give_job(self, s);
      } else {
        const auto gen = ++s.idle_generation;
        self->delayed_send(self, st.ctx->settings.idle_timeout, idle_atom::value, id, gen);
      }
      break;
    }
    case SessionEvent::Kind::done:
      on_transaction_done(self, s, std::move(ev.result));
      break;
    case SessionEvent::Kind::closed: {
      if (s.job) {  // cannot normally happen: the client reports the transaction first
        Job job = std::move(*s.job);
        auto rcpts = job.rcpts;
        defer(self, job, std::move(rcpts), s.mx_host, "451 4.4.2 session closed: " + ev.reason);
      }
      const bool greeted = s.greeted;
      st.sessions.erase(it);
      if (!greeted) {
        st.last_connect_error = ev.reason;
        st.connect_blocked = true;
        spdlog::debug("{}: session {} failed: {}", st.domain, id, ev.reason);
        if (st.sessions.empty() && !st.ready.empty()) {
          // No session could reach any MX: stop trying until the retry schedule says so.
          fail_ready(self, false, "451 4.4.1 " + ev.reason, "");
        }
      }
      break;
    }
  }
  pump(self);
}

}  // namespace

caf::actor spawn_delivery_actor(caf::actor_system& sys, std::string domain, DeliveryContextPtr ctx,
                                caf::actor router) {
  return sys.spawn([](Self* self, std::string domain, DeliveryContextPtr ctx, caf::actor router) -> caf::behavior {
    auto& st = self->state;
    st.domain = std::move(domain);
    st.ctx = std::move(ctx);
    st.router = std::move(router);
    return {
        [self](enqueue_atom, RecipientBatch& batch) {
          auto& st = self->state;
          ++st.batches_received;
          const std::int64_t now = now_unix_ms();
          // One transaction per message (a message's recipients come next to each other), at
          // most kMaxRcptsPerTransaction recipients each; jobs keep the batch's order.
          std::vector<Job> jobs;
          for (auto& q : batch) {
            const auto index = spool::recipient_index(q.rcpt);
            if (!index) {  // only a damaged spool record could say so; leave it there
              spdlog::error("{}: recipient record {} does not belong to message {}; left in the spool",
                            st.domain, q.rcpt.id, q.rcpt.message_id);
              continue;
            }
            ++st.queued;
            if (jobs.empty() || jobs.back().msg != q.message ||
                jobs.back().rcpts.size() >= kMaxRcptsPerTransaction ||
                jobs.back().rcpts.front().next_attempt_ms != q.rcpt.next_attempt_ms)
              jobs.push_back(Job{q.message, {}, std::move(q.body), {}});
            jobs.back().rcpts.push_back(
                PendingRcpt{std::move(q.rcpt.recipient), *index, q.rcpt.attempts, q.rcpt.next_attempt_ms});
          }
          const std::size_t window = body_window(st);
          auto& budget = *st.ctx->body_budget;
          for (auto& job : jobs) {
            const std::int64_t when = job.rcpts.front().next_attempt_ms;
            if (when > now) {
              job.body = nullptr;
              st.deferred.emplace(when, std::move(job));
              continue;
            }
            if (job.body && st.ready.size() >= window) {
              // Beyond what sessions need next: keep the body while the shared budget allows.
              const auto bytes = static_cast<std::int64_t>(job.body->size());
              if (budget.fetch_add(bytes, std::memory_order_relaxed) + bytes <= st.ctx->settings.queued_body_budget) {
                job.claim = BudgetClaim(st.ctx->body_budget.get(), bytes);
              } else {
                budget.fetch_sub(bytes, std::memory_order_relaxed);
                job.body = nullptr;
              }
            }
            st.ready.push_back(std::move(job));
          }
          arm_retry_timer(self);
          pump(self);
        },
        [self](session_atom, std::uint64_t id, SessionEvent& ev) { on_session_event(self, id, ev); },
        [self](tick_atom, std::uint64_t generation) {
          auto& st = self->state;
          if (generation != st.timer_generation) return;
          st.timer_at = 0;
          const std::int64_t now = now_unix_ms();
          while (!st.deferred.empty() && st.deferred.begin()->first <= now) {
            st.ready.push_back(std::move(st.deferred.begin()->second));
            st.deferred.erase(st.deferred.begin());
          }
          arm_retry_timer(self);
          pump(self);
        },
        [self](load_atom) {
          self->state.load_retry_pending = false;
          pump(self);
        },
        [self](idle_atom, std::uint64_t session_id, std::uint64_t generation) {
          auto& st = self->state;
          auto it = st.sessions.find(session_id);
          if (it == st.sessions.end()) return;
          auto& s = it->second;
          if (s.idle_generation != generation || s.job || s.quitting) return;
          s.quitting = true;
          s.handle->quit();
        },
        [self](idle_atom, std::uint64_t generation) {
          auto& st = self->state;
          if (generation != st.reap_generation) return;
          st.reap_pending = false;
          if (st.queued != 0 || !st.sessions.empty()) return;
          self->send(st.router, idle_atom::value, st.domain, st.batches_received);
        },
        [self](stop_atom) {
          for (auto& [id, s] : self->state.sessions) s.handle->abort();
          self->state.sessions.clear();
          self->quit();
        },
    };
  }, std::move(domain), std::move(ctx), std::move(router));
}

}  // namespace volley
