#include "actors/delivery_actor.hpp"

#include <algorithm>
#include <limits>
#include <utility>

#include <spdlog/spdlog.h>

#include "actors/delivery_state.hpp"
#include "core/util/ids.hpp"
#include "core/util/log_fields.hpp"

namespace volley {

namespace {

const delivery::ReplyClassifier& classifier_of(const DeliveryContext& ctx) {
  static const delivery::ReplyClassifier builtin = delivery::ReplyClassifier::builtin();
  return ctx.settings.classifier ? *ctx.settings.classifier : builtin;
}

OutcomeKind kind_of(delivery::Verdict v) {
  switch (v) {
    case delivery::Verdict::delivered: return OutcomeKind::delivered;
    case delivery::Verdict::bounced: return OutcomeKind::bounced;
    case delivery::Verdict::expired: return OutcomeKind::expired;
    case delivery::Verdict::deferred: break;
  }
  return OutcomeKind::deferred;
}

// Metrics, events and the spool are dynamically typed actors, which a typed actor may only
// anon_send to; none of them answers these messages or looks at their sender.
void emit(DeliverySelf self, const Outcome& o) {
  auto& ctx = *self->state.ctx;
  if (ctx.metrics) caf::anon_send(ctx.metrics, outcome_atom::value, o);
  if (ctx.events) caf::anon_send(ctx.events, outcome_atom::value, o);
}

void report_gauges(DeliverySelf self) {
  auto& st = self->state;
  const std::uint64_t queued = st.queue->queued();
  if (queued == st.reported_depth && st.sessions.size() == st.reported_conns) return;
  st.reported_depth = queued;
  st.reported_conns = st.sessions.size();
  if (st.ctx->metrics)
    caf::anon_send(st.ctx->metrics, gauge_atom::value, st.domain, queued, static_cast<std::uint64_t>(st.sessions.size()));
}

// Tells metrics which pools the destination's new messages use: it creates their outcome series
// at zero (one message per pool and batch; it ignores pools it has seen).
void report_arrivals(DeliverySelf self, const std::vector<DeliveryJob>& jobs) {
  auto& st = self->state;
  if (!st.ctx->metrics) return;
  std::vector<const std::string*> pools;
  for (const auto& job : jobs) {
    const auto* pool = job.msg->pool.empty() ? &st.ctx->settings.pools.default_pool : &job.msg->pool;
    if (std::none_of(pools.begin(), pools.end(), [&](const std::string* p) { return *p == *pool; }))
      pools.push_back(pool);
  }
  for (const auto* pool : pools) caf::anon_send(st.ctx->metrics, enqueue_atom::value, st.domain, *pool);
}

void arm_retry_timer(DeliverySelf self) {
  auto& st = self->state;
  const std::int64_t first = st.queue->next_due();
  if (first == 0) {
    st.timer_at = 0;
    return;
  }
  if (st.timer_at != 0 && st.timer_at <= first) return;  // an earlier timer will come anyway
  st.timer_at = first;
  const std::int64_t wait = std::max<std::int64_t>(0, first - now_unix_ms());
  send_later(self, st.ctx->timers.get(), std::chrono::milliseconds(wait), tick_atom::value, ++st.timer_generation);
}

void schedule_reap(DeliverySelf self) {
  auto& st = self->state;
  if (st.queue->queued() != 0 || !st.sessions.empty() || st.reap_pending) return;
  st.reap_pending = true;
  send_later(self, st.ctx->timers.get(), st.ctx->settings.reap_after, idle_atom::value, ++st.reap_generation);
}

void on_bodies(DeliverySelf self, const std::vector<QueuedMessagePtr>& msgs, const LoadedBodies& bodies) {
  auto& st = self->state;
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    st.loading.erase(msgs[i]->id);
    if (i < bodies.size() && bodies[i])
      msgs[i]->share_body(bodies[i]);
    else
      st.missing_bodies.insert(msgs[i]->id);
  }
  // While `bodies` holds them, the jobs that asked take them through their messages (a job
  // deferred meanwhile asks again when due); pump hands them out.
  pump(self);
}

// Recipients of one message, next to each other in the batch and due at the same time, make one
// job (the recipient limit per transaction applies when a session takes it). Jobs keep the
// batch's order.
std::vector<DeliveryJob> jobs_of(DeliverySelf self, RecipientBatch& batch) {
  std::vector<DeliveryJob> jobs;
  for (auto& q : batch) {
    const auto index = spool::recipient_index(q.rcpt);
    if (!index) {  // only a damaged spool record could say so; leave it there
      spdlog::error("delivery: recipient record does not belong to its message; left in the spool{}",
                    util::log_fields("domain", self->state.domain, "rcpt_id", q.rcpt.id, "message_id", q.rcpt.message_id));
      continue;
    }
    if (jobs.empty() || jobs.back().msg != q.message ||
        jobs.back().rcpts.front().next_attempt_ms != q.rcpt.next_attempt_ms)
      jobs.push_back(DeliveryJob{q.message, {}, std::move(q.body), {}});
    jobs.back().rcpts.push_back(
        delivery::PendingRcpt{std::move(q.rcpt.recipient), *index, q.rcpt.attempts, q.rcpt.next_attempt_ms});
  }
  return jobs;
}

// The queue as an operator sees it (GET /api/v1/queues), with what only the actor knows: its
// sessions, its egress paths and its MX hosts' shaping.
delivery::QueueSnapshot snapshot(const DeliveryState& st) {
  const std::int64_t now = now_unix_ms();
  std::vector<std::optional<delivery::PathSnapshot>> paths(st.paths.size());
  for (std::size_t l = 0; l < st.paths.size(); ++l) {
    if (!st.paths[l]) continue;
    const auto snap = st.paths[l]->snapshot(now);
    paths[l] = delivery::PathSnapshot{snap.connections, snap.max_connections, snap.message_rate, snap.backoff_level};
  }
  std::int64_t oldest_in_flight = 0;
  for (const auto& [id, s] : st.sessions)
    for (const auto& job : s.jobs)
      if (oldest_in_flight == 0 || job.msg->received_at_ms < oldest_in_flight) oldest_in_flight = job.msg->received_at_ms;
  const bool shaped = st.mx && st.mx->status == dns::Status::ok;
  return st.queue->snapshot(now, paths, shaped ? &st.shaping : nullptr, oldest_in_flight, st.sessions.size());
}

delivery::QueueSettings queue_settings(const DeliveryContext& ctx) {
  const auto& set = ctx.settings;
  return delivery::QueueSettings{&set.pools, set.shaping.defaults, &classifier_of(ctx), ctx.body_budget.get(),
                                 set.queued_body_budget};
}

// New settings: the queue's sources, pools, defaults and bounce rules, the lanes' limits and paths
// (when the MX hosts are known) and, if the domain's route changed, a new MX answer. Lanes follow
// their source by name (a reload may add, remove, rename or reorder sources): sessions and egress
// paths move with them, so a source that stays keeps its rate history and backoff. The old
// context stays alive until nothing points into it.
void reload(DeliverySelf self, DeliveryContextPtr ctx) {
  auto& st = self->state;
  const auto route = [&](const DeliveryContext& c) {
    auto it = c.settings.routes.find(st.domain);
    return it == c.settings.routes.end() ? std::optional<StaticRouteTarget>() : std::optional(it->second);
  };
  const bool rerouted = route(*st.ctx) != route(*ctx);
  const DeliveryContextPtr before = std::exchange(st.ctx, std::move(ctx));
  std::vector<delivery::Source> was;  // each lane's source before, by its index before
  for (std::size_t l = 0; l < st.queue->lane_count(); ++l) was.push_back(st.queue->source(l));
  const auto moved = st.queue->reconfigure(queue_settings(*st.ctx), now_unix_ms(), *st.reporter);
  std::vector<std::shared_ptr<EgressPath>> paths(st.queue->lane_count());
  for (std::size_t l = 0; l < moved.size() && l < st.paths.size(); ++l)
    if (moved[l] != delivery::kNoSource) paths[moved[l]] = std::move(st.paths[l]);
  st.paths = std::move(paths);
  // A session whose source left, or leaves from another address or says another EHLO name now:
  // idle, it quits at once; busy, after its transaction (on_session_ready quits a session that
  // has sent its maximum), so the next connection is the new one.
  for (auto& [id, s] : st.sessions) {
    const delivery::Source& a = was[s.lane];
    s.lane = moved[s.lane];  // a lane with sessions is never dropped
    for (auto& job : s.jobs) st.queue->repin(job, moved);
    const delivery::Source& b = st.queue->source(s.lane);
    if (st.queue->configured(s.lane) && a.address == b.address && a.ehlo_name == b.ehlo_name) continue;
    s.sent = std::numeric_limits<std::uint32_t>::max();
    if (s.jobs.empty() && !s.quitting && s.greeted) {
      s.quitting = true;
      s.handle->quit();
    }
  }
  if (rerouted) {
    st.mx_expires_ms = 0;  // asked again before the next session opens
  } else if (st.mx && st.mx->status == dns::Status::ok) {
    shape_lanes(st);
  }
  pump(self);
}

delivery_actor::behavior_type delivery_behavior(DeliverySelf self, std::string domain, DeliveryContextPtr ctx,
                                                delivery_parent router, EgressControlPtr control) {
  auto& st = self->state;
  st.domain = std::move(domain);
  st.ctx = std::move(ctx);
  st.router = std::move(router);
  st.queue.emplace(st.domain, queue_settings(*st.ctx), std::move(control));
  st.reporter.emplace(self);
  st.paths.resize(st.ctx->settings.pools.sources.size());
  return {
      [self](enqueue_atom, RecipientBatch& batch) {
        auto& st = self->state;
        ++st.batches_received;
        const std::int64_t now = now_unix_ms();
        auto jobs = jobs_of(self, batch);
        report_arrivals(self, jobs);
        for (auto& job : jobs) st.queue->add(std::move(job), now, *st.reporter);
        pump(self);
      },
      [self](session_atom, SessionReports& reports) { on_session_reports(self, reports); },
      [self](wake_atom, const std::string& key) { on_gate_wake(self, key); },
      [self](tick_atom, std::uint64_t generation) {
        auto& st = self->state;
        if (generation != st.timer_generation) return;
        st.timer_at = 0;
        st.queue->release_due(now_unix_ms(), *st.reporter);
        pump(self);
      },
      [self](pace_atom, std::uint64_t generation) {
        auto& st = self->state;
        if (generation != st.pace_generation) return;
        st.pace_at = 0;
        pump(self);
      },
      [self](load_atom) {
        self->state.load_retry_pending = false;
        pump(self);
      },
      [self](control_atom, EgressControlPtr& control) {
        auto& st = self->state;
        const std::int64_t now = now_unix_ms();
        st.queue->apply_control(std::move(control), now, *st.reporter);
        quit_suspended_sessions(self, now);
        pump(self);
      },
      [self](bounce_atom, const QueueScope& scope, const std::string& reason) -> std::uint64_t {
        auto n = self->state.queue->bounce(scope, reason, *self->state.reporter);
        pump(self);
        return n;
      },
      [self](queues_atom) -> delivery::QueueSnapshot { return snapshot(self->state); },
      [self](idle_atom, std::uint64_t session_id, std::uint64_t generation) {
        on_session_idle(self, session_id, generation);
      },
      [self](idle_atom, std::uint64_t generation) {
        auto& st = self->state;
        if (generation != st.reap_generation) return;
        st.reap_pending = false;
        if (st.queue->queued() != 0 || !st.sessions.empty()) return;
        self->send(st.router, idle_atom::value, st.domain, st.batches_received);
      },
      [self](stop_atom) {
        stop_sessions(self);
        self->quit();
      },
      [self](drain_atom) -> caf::result<bool> {
        auto& st = self->state;
        st.draining = true;
        if (st.drained) return false;  // asked twice: the first question gets the answer
        st.drained = self->make_response_promise<bool>();
        auto promise = *st.drained;
        drain_sessions(self);
        return promise;
      },
      [self](reload_atom, DeliveryContextPtr& ctx) { reload(self, std::move(ctx)); },
  };
}

}  // namespace

void DeliveryReporter::outcome(const DeliveryJob& job, const delivery::PendingRcpt& r, std::size_t lane,
                               const std::string& mx_host, delivery::Decision d) {
  auto& st = self_->state;
  Outcome o;
  o.kind = kind_of(d.verdict);
  o.rcpt_id = spool::recipient_id(job.msg->id, r.index);
  o.message_id = job.msg->id;
  o.recipient = r.recipient;
  o.domain = st.domain;
  o.tenant = job.msg->tenant;
  o.campaign = job.msg->campaign;
  o.mx_host = mx_host;
  o.pool = job.msg->pool.empty() ? st.ctx->settings.pools.default_pool : job.msg->pool;
  if (lane != delivery::kNoSource) o.source = st.queue->source(lane).name;
  o.reply = std::move(d.reply);
  o.attempt = r.attempts;
  o.received_at_ms = job.msg->received_at_ms;
  o.at_ms = now_unix_ms();
  o.extras = job.msg->extras;
  o.category = std::move(d.category);
  o.smtp_stage = d.stage;
  if (d.verdict == delivery::Verdict::delivered && st.tls.reporting != nullptr && *st.tls.reporting) {
    const auto& t = **st.tls.reporting;
    o.tls = events::TlsSummary{t.version, t.cipher, t.verified, t.policy};
  }
  if (d.verdict == delivery::Verdict::deferred) {
    o.next_attempt_ms = d.next_attempt_ms;
    if (st.ctx->spool) {  // the last reply is kept there (status lookups read it), not here
      spool::RecipientRecord rec;
      rec.id = o.rcpt_id;
      rec.message_id = o.message_id;
      rec.recipient = r.recipient;
      rec.domain = st.domain;
      rec.state = spool::RecipientState::deferred;
      rec.attempts = r.attempts;
      rec.next_attempt_ms = d.next_attempt_ms;
      rec.last_reply = o.reply;
      caf::anon_send(st.ctx->spool, defer_atom::value, std::move(rec));
    }
    emit(self_, o);
    return;
  }
  // Final: report it and release its spool records.
  o.message_finished = job.msg->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1;
  emit(self_, o);
  // With an events actor, it releases the spool records once the event is written.
  if (!st.ctx->events && st.ctx->spool)
    caf::anon_send(st.ctx->spool, done_atom::value, SpoolReleases{{o.rcpt_id, o.message_id, o.message_finished, {}}});
}

void DeliveryReporter::rate_limited(std::size_t lane, std::int64_t now_ms) {
  if (auto& path = self_->state.paths[lane]) path->rate_limited(now_ms);
}

void DeliveryReporter::unknown_pool(const std::string& pool) {
  spdlog::warn("delivery: pool not configured (any more); its messages use the default pool{}",
               util::log_fields("domain", self_->state.domain, "pool", pool));
}

void arm_pace_timer(DeliverySelf self, std::int64_t at_ms) {
  auto& st = self->state;
  if (st.pace_at != 0 && st.pace_at <= at_ms) return;
  st.pace_at = at_ms;
  const std::int64_t wait = std::max<std::int64_t>(1, at_ms - now_unix_ms());
  send_later(self, st.ctx->timers.get(), std::chrono::milliseconds(wait), pace_atom::value, ++st.pace_generation);
}

void ensure_bodies(DeliverySelf self, std::size_t lane) {
  auto& st = self->state;
  auto loads = st.queue->collect_bodies(lane, st.missing_bodies, st.loading);
  for (const auto& job : loads.dropped)
    spdlog::error("delivery: message has no body in the spool; its recipients stay spooled{}",
                  util::log_fields("domain", st.domain, "message_id", job.msg->id, "recipients", job.rcpts.size()));
  if (loads.load.empty() || !st.ctx->spool) return;
  std::vector<std::string> ids;
  ids.reserve(loads.load.size());
  for (const auto& m : loads.load) ids.push_back(m->id);
  request_within(self, st.ctx->timers.get(), st.ctx->spool, std::chrono::seconds(60), load_atom::value, std::move(ids))
      .then([self, wanted = loads.load](const LoadedBodies& bodies) { on_bodies(self, wanted, bodies); },
            [self, wanted = loads.load](const caf::error& err) {
              auto& st = self->state;
              spdlog::warn("delivery: reading bodies from the spool failed{}",
                           util::log_fields("domain", st.domain, "bodies", wanted.size(), "error", self->system().render(err)));
              for (const auto& m : wanted) st.loading.erase(m->id);
              if (!st.load_retry_pending) {  // try again in a second, not in a hot loop
                st.load_retry_pending = true;
                send_later(self, st.ctx->timers.get(), std::chrono::seconds(1), load_atom::value);
              }
            });
}

void pump(DeliverySelf self) {
  auto& st = self->state;
  if (st.draining) return drain_sessions(self);
  auto& queue = *st.queue;
  const std::int64_t now = now_unix_ms();
  if (queue.any_ready() && queue.domain_suspended(now)) {
    // A timed suspension ends by itself: look again then. Meanwhile, held work still expires.
    if (const std::int64_t end = queue.next_suspension_end(now); end != 0) arm_pace_timer(self, end);
    arm_pace_timer(self, queue.sweep_held(now, *st.reporter));
  } else if (queue.any_ready()) {
    if (!st.mx || now >= st.mx_expires_ms) {
      resolve(self);
    } else if (st.mx->status == dns::Status::perm_fail) {
      queue.fail_ready(smtp::Reply::synthetic(550, "5.1.2", st.domain + ": " + st.mx->error), true, "bad-domain", now,
                       *st.reporter);
    } else if (st.mx->status == dns::Status::temp_fail) {
      queue.fail_ready(smtp::Reply::synthetic(451, "4.4.3", st.domain + ": DNS: " + st.mx->error), false, "", now,
                       *st.reporter);
      st.mx.reset();  // ask again when the deferred recipients come back
      queue.set_destination_limits(nullptr);
    } else if (tls_inputs_ready(self, now)) {
      for (std::size_t l = 0; l < queue.lane_count(); ++l) pump_lane(self, l, now);
    }
  }
  arm_retry_timer(self);
  report_gauges(self);
  schedule_reap(self);
}

delivery_actor spawn_delivery_actor(caf::actor_system& sys, std::string domain, DeliveryContextPtr ctx,
                                    delivery_parent router, EgressControlPtr control) {
  return sys.spawn(delivery_behavior, std::move(domain), std::move(ctx), std::move(router), std::move(control));
}

}  // namespace volley
