#pragma once
// One destination domain's queue, as pure logic: the delivery actor feeds it work, session
// events and the time, and carries out what it decides (outcomes reported through a
// QueueListener, sessions opened when it wants them, timers armed for the times it names).
// docs/scheduler.md tells the whole story; in short:
//
//   add ──> deferred (until next_attempt_ms) ──release_due──> ready on a lane ──take──> session
//            ^                                                    |
//            └──────── defer (the retry schedule) <── transaction_done / session_ended
//
// A lane is one source address's share of the destination: its ready jobs, its limits and its
// session counts. A job goes to its greylisting pin if it has one and that source may send,
// else to its pool's next source by weight; when no source may send it (its pool or every
// source suspended) it is parked for a while without counting an attempt.
#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/delivery/classify.hpp"
#include "core/delivery/ip_pool.hpp"
#include "core/delivery/job.hpp"
#include "core/delivery/lane.hpp"
#include "core/delivery/lane_rekey.hpp"
#include "core/delivery/outcome_policy.hpp"
#include "core/delivery/queue_snapshot.hpp"
#include "core/delivery/shaping.hpp"
#include "core/delivery/suspensions.hpp"

namespace volley::delivery {

template <class Msg>
class DestinationQueue {
 public:
  using JobT = Job<Msg>;
  using LaneT = Lane<Msg>;
  using Listener = QueueListener<Msg>;
  using MsgPtr = std::shared_ptr<const Msg>;

  DestinationQueue(std::string domain, QueueSettings settings, EgressControlPtr control)
      : domain_(std::move(domain)),
        settings_(settings),
        policy_(*settings.classifier),
        control_(control ? std::move(control) : std::make_shared<const EgressControl>()),
        lanes_(settings.pools->sources.size()) {  // built in place: a lane must never be relocated
    for (std::size_t l = 0; l < lanes_.size(); ++l) {
      lanes_[l].source = settings_.pools->sources[l];
      lanes_[l].limits = settings_.defaults;
    }
  }

  const std::string& domain() const { return domain_; }
  std::size_t lane_count() const { return lanes_.size(); }
  LaneT& lane(std::size_t l) { return lanes_[l]; }
  const LaneT& lane(std::size_t l) const { return lanes_[l]; }
  const Source& source(std::size_t l) const { return lanes_[l].source; }
  // Whether the lane's source is configured (else it is retired: a reload removed its source and
  // sessions still use it; it gets no new work).
  bool configured(std::size_t l) const { return l < settings_.pools->sources.size(); }
  const OutcomePolicy& policy() const { return policy_; }
  std::uint64_t queued() const { return queued_; }  // recipients here and not final (in flight too)
  std::size_t deferred_jobs() const { return deferred_.size(); }

  // A reload: other sources (added, removed, renamed, reordered: lanes follow their source's name,
  // lane_rekey.hpp), pools and pool rules, default limits, bounce rules. The ready work of a
  // source that left goes to its pool's remaining sources now; a job pinned to it (greylisting)
  // is pinned no more. Returns each lane's index now, by its index before (kNoSource: gone): the
  // owner moves its sessions and egress paths along. The owner sets the lanes' limits again once
  // it knows its MX hosts.
  std::vector<std::size_t> reconfigure(const QueueSettings& settings, std::int64_t now, Listener& out) {
    if (!(*settings_.pools == *settings.pools)) {  // a selector holds its pool's sources and weights
      selectors_.clear();
      unknown_pools_.clear();
    }
    settings_ = settings;
    policy_ = OutcomePolicy(*settings_.classifier);
    auto rekeyed = rekey_lanes(std::move(lanes_), settings_.pools->sources,
                               destination_ ? *destination_ : settings_.defaults);
    lanes_ = std::move(rekeyed.lanes);
    if (!destination_)
      for (auto& lane : lanes_) lane.limits = settings_.defaults;
    auto repin = [&](JobT& job) { this->repin(job, rekeyed.moved); };
    for (auto& lane : lanes_)
      for (auto& job : lane.ready) repin(job);
    for (auto& [when, job] : deferred_) repin(job);
    for (auto& job : rekeyed.orphans) {
      repin(job);
      make_ready(std::move(job), now, out);
    }
    return std::move(rekeyed.moved);
  }

  // A job's greylisting pin after reconfigure returned `moved` (the owner's jobs in flight too):
  // to the same source's lane, or none when that source left.
  void repin(JobT& job, const std::vector<std::size_t>& moved) const {
    if (job.pinned == kNoSource) return;
    job.pinned = job.pinned < moved.size() ? moved[job.pinned] : kNoSource;
    if (job.pinned != kNoSource && !configured(job.pinned)) job.pinned = kNoSource;
  }

  // ---- limits ----
  void set_lane_limits(std::size_t l, const Limits& limits) { lanes_[l].limits = limits; }
  // The destination's own limits once its MX hosts are known (null: not known, the defaults).
  void set_destination_limits(const Limits* limits) { destination_ = limits ? std::optional(*limits) : std::nullopt; }
  std::int64_t max_age_ms() const {
    const auto& limits = destination_ ? *destination_ : settings_.defaults;
    return std::chrono::duration_cast<std::chrono::milliseconds>(limits.retry.max_age).count();
  }
  // How many jobs at the front of a lane's ready queue hold their bodies: enough to keep every
  // session busy while the next bodies are read. Jobs behind them let go of theirs (within the
  // shared budget), so a backlog costs records in memory, not bodies.
  static std::size_t body_window(const LaneT& lane) { return 2 * lane.limits.max_connections + 4; }

  // ---- suspensions ----
  const EgressControl& control() const { return *control_; }
  const Suspension* domain_suspension(std::int64_t now) const {
    return control_->find(QueueScope::Kind::domain, domain_, now);
  }
  bool domain_suspended(std::int64_t now) const { return domain_suspension(now) != nullptr; }
  bool source_suspended(std::size_t l, std::int64_t now) const {
    return control_->find(QueueScope::Kind::source, source(l).name, now) != nullptr;
  }
  std::int64_t next_suspension_end(std::int64_t now) const { return control_->next_end(now); }

  // A new control version: parked work (no source could send it) is looked at again now, and
  // ready work whose pool or source is now suspended waits instead of going out.
  void apply_control(EgressControlPtr control, std::int64_t now, Listener& out) {
    control_ = std::move(control);
    std::vector<JobT> parked;
    for (auto it = deferred_.begin(); it != deferred_.end();) {
      if (it->first > now && it->second.rcpts.front().next_attempt_ms <= now) {
        parked.push_back(std::move(it->second));
        it = deferred_.erase(it);
      } else {
        ++it;
      }
    }
    for (std::size_t l = 0; l < lanes_.size(); ++l) {
      std::deque<JobT> keep;
      for (auto& job : lanes_[l].ready) {
        if (control_->find(QueueScope::Kind::pool, pool_of(job), now) || source_suspended(l, now))
          parked.push_back(std::move(job));
        else
          keep.push_back(std::move(job));
      }
      lanes_[l].ready = std::move(keep);
    }
    for (auto& job : parked) make_ready(std::move(job), now, out);
  }

  // ---- work in ----
  // New (or recovered) work: ready now, or deferred until its next attempt.
  void add(JobT&& job, std::int64_t now, Listener& out) {
    queued_ += job.rcpts.size();
    const std::int64_t when = job.rcpts.front().next_attempt_ms;
    if (when > now)
      park(std::move(job), when);
    else
      make_ready(std::move(job), now, out);
  }
  // When the first deferred job is due (0: none is deferred).
  std::int64_t next_due() const { return deferred_.empty() ? 0 : deferred_.begin()->first; }
  // Every deferred job due at now becomes ready.
  void release_due(std::int64_t now, Listener& out) {
    while (!deferred_.empty() && deferred_.begin()->first <= now) {
      JobT job = std::move(deferred_.begin()->second);
      deferred_.erase(deferred_.begin());
      make_ready(std::move(job), now, out);
    }
  }

  // ---- sessions ----
  bool any_ready() const {
    return std::any_of(lanes_.begin(), lanes_.end(), [](const LaneT& l) { return !l.ready.empty(); });
  }
  // The lane's next job can be handed to a session (it has its body).
  bool front_sendable(std::size_t l) const { return !lanes_[l].ready.empty() && lanes_[l].ready.front().body; }
  const JobT& front(std::size_t l) const { return lanes_[l].ready.front(); }
  // Whether the lane wants one more session: work waits that the sessions opening will not take,
  // within the lane's connection limit (one while connections fail).
  bool wants_session(std::size_t l) const {
    const LaneT& lane = lanes_[l];
    const std::size_t limit = lane.connect_blocked ? 1 : lane.limits.max_connections;
    return !lane.ready.empty() && lane.sessions < limit && lane.connecting < lane.ready.size();
  }
  void session_opening(std::size_t l) {
    ++lanes_[l].sessions;
    ++lanes_[l].connecting;
  }
  // A session of the lane was greeted: the destination takes more connections.
  void session_greeted(std::size_t l) {
    --lanes_[l].connecting;
    lanes_[l].connect_blocked = false;
  }
  // The front job of the lane for a session, with at most max_recipients recipients (the rest
  // stays at the front, sharing the body); its attempt is counted.
  JobT take(std::size_t l, std::size_t max_recipients) {
    LaneT& lane = lanes_[l];
    JobT job = std::move(lane.ready.front());
    lane.ready.pop_front();
    max_recipients = std::max<std::size_t>(1, max_recipients);
    if (job.rcpts.size() > max_recipients) {
      JobT rest{job.msg, {}, job.body, {}, job.pinned};
      rest.rcpts.assign(std::make_move_iterator(job.rcpts.begin() + static_cast<std::ptrdiff_t>(max_recipients)),
                        std::make_move_iterator(job.rcpts.end()));
      job.rcpts.resize(max_recipients);
      lane.ready.push_front(std::move(rest));
    }
    job.claim.release();  // in flight now: held by the session, not by the queue
    count_attempt(job);
    return job;
  }
  // The server's replies to a transaction, one per recipient in order.
  void transaction_done(JobT& job, const std::vector<smtp::Reply>& replies, std::size_t l,
                        const std::string& mx_host, std::int64_t now, Listener& out) {
    std::vector<Failure> again;
    for (std::size_t i = 0; i < job.rcpts.size(); ++i) {
      smtp::Reply reply =
          i < replies.size() ? replies[i] : smtp::Reply::synthetic(451, "4.5.0", "no reply for recipient");
      if (disposition(reply) == Disposition::deferred) {
        again.push_back(Failure{std::move(job.rcpts[i]), std::move(reply)});
      } else {
        finish(job, job.rcpts[i], l, mx_host, policy_.on_reply(reply, limits_of(l).retry, job.rcpts[i],
                                                                 job.msg->received_at_ms, now), out);
      }
    }
    if (!again.empty()) defer(job, std::move(again), l, mx_host, now, out);
  }
  // Every recipient of the job failed temporarily with reply (e.g. the session closed under it).
  void defer_all(JobT& job, std::size_t l, const std::string& mx_host, const smtp::Reply& reply, std::int64_t now,
                 Listener& out) {
    std::vector<Failure> failures;
    failures.reserve(job.rcpts.size());
    for (auto& r : job.rcpts) failures.push_back(Failure{std::move(r), reply});
    defer(job, std::move(failures), l, mx_host, now, out);
  }
  // A session of the lane ended (its transaction in flight, if any, already deferred). One that
  // was never greeted failed to connect, or was refused at the greeting: when it was the lane's
  // last, the lane's ready work fails with its reply (a 5xx bounces it, as Postfix bounces at the
  // last MX) or with reason.
  void session_ended(std::size_t l, bool greeted, const smtp::Reply& reply, const std::string& reason,
                     const std::string& mx_host, std::int64_t now, Listener& out) {
    LaneT& lane = lanes_[l];
    --lane.sessions;
    if (greeted) return;
    --lane.connecting;
    if (policy_.rate_limited(reply)) out.rate_limited(l, now);  // "421 too many connections"
    if (reason.rfind("socket:", 0) == 0) mark_source_failing(l, now + kFailingSourceMs);
    lane.connect_blocked = true;
    if (lane.sessions != 0 || lane.ready.empty()) return;
    // No session of this source could reach any MX: stop trying until the retry schedule says so.
    const smtp::Reply failure = reply.code != 0 ? reply : smtp::Reply::synthetic(451, "4.4.1", reason);
    auto jobs = std::move(lane.ready);
    lane.ready.clear();
    for (auto& job : jobs) {
      count_attempt(job);
      if (failure.permanent()) {
        for (const auto& r : job.rcpts) finish(job, r, l, mx_host, policy_.on_permanent(failure), out);
      } else {
        defer_all(job, l, reply.code != 0 ? mx_host : std::string(), failure, now, out);
      }
    }
  }
  // The ready jobs of every lane fail the same way before reaching a server (DNS).
  void fail_ready(const smtp::Reply& reply, bool permanent, const std::string& category, std::int64_t now,
                  Listener& out) {
    for (std::size_t l = 0; l < lanes_.size(); ++l) {
      auto jobs = std::move(lanes_[l].ready);
      lanes_[l].ready.clear();
      for (auto& job : jobs) {
        count_attempt(job);
        if (permanent) {
          for (const auto& r : job.rcpts) finish(job, r, l, "", OutcomePolicy::refused(reply, category), out);
        } else {
          defer_all(job, l, "", reply, now, out);
        }
      }
    }
  }
  // The source is left out of its pools until until_ms (its socket could not be bound).
  void mark_source_failing(std::size_t l, std::int64_t until_ms) {
    for (auto& [name, selector] : selectors_) selector.mark_failing(source(l).name, until_ms);
  }

  // ---- bodies ----
  struct BodyLoads {
    std::vector<MsgPtr> load;    // messages whose body is to be read from the spool
    std::vector<JobT> dropped;   // jobs whose body is gone: no longer queued here (left in the spool)
  };
  // Makes sure the jobs at the front of the lane (as many as sessions could take soon) have their
  // bodies: from their message while anyone holds its body, else read back (those not already
  // being read, by message id in `loading`, which this adds to).
  BodyLoads collect_bodies(std::size_t l, const std::unordered_set<std::string>& missing,
                           std::unordered_set<std::string>& loading) {
    BodyLoads loads;
    LaneT& lane = lanes_[l];
    const std::size_t window = body_window(lane);
    std::size_t seen = 0;
    for (auto it = lane.ready.begin(); it != lane.ready.end() && seen < window;) {
      JobT& job = *it;
      if (!job.body) job.body = job.msg->body();
      if (!job.body && missing.count(job.msg->id) != 0) {
        queued_ -= job.rcpts.size();
        loads.dropped.push_back(std::move(job));
        it = lane.ready.erase(it);
        continue;
      }
      if (!job.body && loading.insert(job.msg->id).second) loads.load.push_back(job.msg);
      ++seen;
      ++it;
    }
    return loads;
  }

  // ---- held work, operators ----
  // While the domain is suspended: expires the held work past its max age, at most every so
  // often. Returns when to look again.
  std::int64_t sweep_held(std::int64_t now, Listener& out) {
    if (now >= next_hold_sweep_ms_) {
      next_hold_sweep_ms_ = now + std::clamp<std::int64_t>(max_age_ms() / 10, 1000, kMaxHoldSweepMs);
      for (auto& lane : lanes_) {
        std::deque<JobT> keep;
        for (auto& job : lane.ready)
          if (!expire_overdue(job, now, out)) keep.push_back(std::move(job));
        lane.ready = std::move(keep);
      }
    }
    return next_hold_sweep_ms_;
  }
  // Bounces every queued recipient (not those in flight) in scope: the whole domain, or one pool.
  std::uint64_t bounce(const QueueScope& scope, const std::string& reason, Listener& out) {
    auto in_scope = [&](const JobT& job) { return scope.kind == QueueScope::Kind::domain || pool_of(job) == scope.name; };
    std::uint64_t bounced = 0;
    auto bounce_job = [&](const JobT& job) {
      for (const auto& r : job.rcpts) finish(job, r, kNoSource, "", OutcomePolicy::operator_bounce(reason), out);
      bounced += job.rcpts.size();
    };
    for (auto& lane : lanes_) {
      std::deque<JobT> keep;
      for (auto& job : lane.ready) {
        if (in_scope(job))
          bounce_job(job);
        else
          keep.push_back(std::move(job));
      }
      lane.ready = std::move(keep);
    }
    for (auto it = deferred_.begin(); it != deferred_.end();) {
      if (in_scope(it->second)) {
        bounce_job(it->second);
        it = deferred_.erase(it);
      } else {
        ++it;
      }
    }
    return bounced;
  }

  // The queue as an operator sees it. paths: each lane's egress path, once known (by lane; may
  // be shorter); shaping: the destination's, once its MX hosts are known; in-flight work is the
  // caller's (its oldest message's reception time, 0: none; its sessions).
  QueueSnapshot snapshot(std::int64_t now, const std::vector<std::optional<PathSnapshot>>& paths,
                         const Shaping* shaping, std::int64_t oldest_in_flight_ms, std::size_t sessions) const {
    QueueSnapshot q;
    q.domain = domain_;
    q.queued = queued_;
    std::int64_t oldest = oldest_in_flight_ms;
    auto older = [&](const JobT& job) {
      if (oldest == 0 || job.msg->received_at_ms < oldest) oldest = job.msg->received_at_ms;
    };
    for (const auto& lane : lanes_)
      for (const auto& job : lane.ready) {
        q.ready += job.rcpts.size();
        older(job);
      }
    for (const auto& [when, job] : deferred_) {
      q.deferred += job.rcpts.size();
      older(job);
    }
    q.in_flight = queued_ - std::min(queued_, q.ready + q.deferred);
    q.oldest_age_seconds = oldest == 0 ? 0 : (now - oldest) / 1000;
    q.connections = sessions;
    bool backoff = false;
    for (std::size_t l = 0; l < lanes_.size(); ++l) {
      const LaneT& lane = lanes_[l];
      const std::optional<PathSnapshot>* path = l < paths.size() && paths[l] ? &paths[l] : nullptr;
      if (!path && lane.ready.empty() && lane.sessions == 0) continue;
      SourceSnapshot s;
      s.source = source(l).name;
      s.ready = lane.ready.size();
      s.connections = lane.sessions;
      s.max_connections = lane.limits.max_connections;
      s.max_connection_rate = lane.limits.max_connection_rate;
      s.max_message_rate = lane.limits.max_message_rate;
      s.max_messages_per_connection = lane.limits.max_messages_per_connection;
      s.max_recipients_per_transaction = lane.limits.max_recipients_per_transaction;
      if (path) {
        s.path = **path;
        backoff = backoff || s.path->backoff_level > 0;
      }
      q.sources.push_back(std::move(s));
    }
    if (shaping) {
      q.rollup = shaping->rollup_key;
      q.provider = shaping->provider;
    }
    if (const Suspension* sus = domain_suspension(now)) {
      q.state = "suspended";
      q.suspended = *sus;
    } else if (backoff) {
      q.state = "backoff";
    } else if (sessions != 0) {
      q.state = "active";
    } else {
      q.state = queued_ == 0 ? "idle" : "waiting";
    }
    return q;
  }

 private:
  // A recipient's temporary failure with the reply that caused it.
  struct Failure {
    PendingRcpt rcpt;
    smtp::Reply reply;
  };

  const std::string& pool_of(const JobT& job) const {
    return job.msg->pool.empty() ? settings_.pools->default_pool : job.msg->pool;
  }
  const Limits& limits_of(std::size_t l) const { return l != kNoSource ? lanes_[l].limits : settings_.defaults; }
  static void count_attempt(JobT& job) {
    for (auto& r : job.rcpts) ++r.attempts;
  }

  void finish(const JobT& job, const PendingRcpt& r, std::size_t l, const std::string& mx_host, Decision d,
              Listener& out) {
    out.outcome(job, r, l, mx_host, std::move(d));
    --queued_;
  }

  // Temporary failures of some recipients of a job: their next attempts (by the kind of
  // failure: greylisting has its own schedule, and pins the job to the source the greylister
  // saw), or their expiry.
  void defer(const JobT& job, std::vector<Failure> failures, std::size_t l, const std::string& mx_host,
             std::int64_t now, Listener& out) {
    const auto& retry = limits_of(l).retry;
    std::map<std::int64_t, JobT> later;  // by next attempt: a deferred job lets go of the body
    bool rate_limited = false;
    for (auto& [r, reply] : failures) {
      Decision d = policy_.on_temporary(reply, !mx_host.empty(), retry, r, job.msg->received_at_ms, now);
      if (d.verdict == Verdict::expired) {
        finish(job, r, l, mx_host, std::move(d), out);
        continue;
      }
      rate_limited = rate_limited || d.kind == TempfailKind::rate_limited;
      const bool greylisted = d.kind == TempfailKind::greylisted;
      if (greylisted) ++r.greylist_retries;
      r.next_attempt_ms = d.next_attempt_ms;
      const std::int64_t next = d.next_attempt_ms;
      out.outcome(job, r, l, mx_host, std::move(d));
      auto [it, fresh] = later.try_emplace(next);
      if (fresh) {
        it->second.msg = job.msg;
        it->second.pinned = job.pinned;
      }
      if (greylisted && l != kNoSource && configured(l)) it->second.pinned = l;
      it->second.rcpts.push_back(std::move(r));
    }
    if (rate_limited && l != kNoSource) out.rate_limited(l, now);
    for (auto& [when, j] : later) deferred_.emplace(when, std::move(j));
  }

  // Holds a job out of the ready queues until at_ms without counting an attempt; the spool
  // still has it as due.
  void park(JobT&& job, std::int64_t at_ms) {
    job.body = nullptr;
    job.claim.release();
    deferred_.emplace(at_ms, std::move(job));
  }

  // The selector of a pool, with the source suspensions as they stand now (a timed one ends
  // without a new control version).
  SourceSelector* selector_for(const std::string& pool_name, std::int64_t now, Listener& out) {
    const auto& pools = *settings_.pools;
    const Pool* pool = pools.pool(pool_name.empty() ? pools.default_pool : pool_name);
    if (!pool) {
      if (unknown_pools_.insert(pool_name).second) out.unknown_pool(pool_name);
      pool = pools.pool(pools.default_pool);
    }
    if (!pool) return nullptr;
    auto it = selectors_.find(pool->name);
    if (it == selectors_.end()) it = selectors_.emplace(pool->name, SourceSelector(pools, *pool)).first;
    for (const auto& s : pools.sources) {
      if (control_->find(QueueScope::Kind::source, s.name, now))
        it->second.suspend(s.name);
      else
        it->second.resume(s.name);
    }
    return &it->second;
  }

  std::size_t source_index(const Source& s) const {
    const auto& sources = settings_.pools->sources;
    for (std::size_t i = 0; i < sources.size(); ++i)
      if (sources[i].name == s.name) return i;
    return kNoSource;
  }

  // The lane a job goes out through: its pinned source while that may send, else its pool's next
  // source by weight; kNoSource when nothing may send it now.
  std::size_t choose_lane(const JobT& job, std::int64_t now, Listener& out) {
    if (control_->find(QueueScope::Kind::pool, pool_of(job), now)) return kNoSource;
    if (job.pinned != kNoSource && !source_suspended(job.pinned, now)) return job.pinned;
    auto* selector = selector_for(job.msg->pool, now, out);
    const Source* s = selector ? selector->next(now) : nullptr;
    return s ? source_index(*s) : kNoSource;
  }

  // Work held back by a suspension still ends at its max age: true when the job has reached it
  // and its recipients expired.
  bool expire_overdue(const JobT& job, std::int64_t now, Listener& out) {
    if (now < job.msg->received_at_ms + max_age_ms()) return false;
    for (const auto& r : job.rcpts) finish(job, r, kNoSource, "", OutcomePolicy::held_too_long(r), out);
    return true;
  }

  // A job due now joins its lane's ready queue, or waits when no source may send it.
  void make_ready(JobT&& job, std::int64_t now, Listener& out) {
    const std::size_t l = choose_lane(job, now, out);
    if (l == kNoSource) {
      if (expire_overdue(job, now, out)) return;
      // Look again when a timed suspension ends or the job reaches its max age, at the latest.
      std::int64_t at = std::min(now + kParkMs, job.msg->received_at_ms + max_age_ms());
      if (const std::int64_t end = next_suspension_end(now); end != 0) at = std::min(at, end);
      park(std::move(job), std::max(at, now + 1));
      return;
    }
    LaneT& lane = lanes_[l];
    job.claim.release();  // a job coming back (a control change) claims anew
    if (job.body && lane.ready.size() >= body_window(lane)) {
      // Beyond what sessions need next: keep the body while the shared budget allows.
      const auto bytes = static_cast<std::int64_t>(job.body->size());
      if (!settings_.body_budget ||
          !BudgetClaim::try_claim(*settings_.body_budget, settings_.body_budget_limit, bytes, &job.claim))
        job.body = nullptr;
    }
    lane.ready.push_back(std::move(job));
  }

  std::string domain_;
  QueueSettings settings_;
  OutcomePolicy policy_;
  EgressControlPtr control_;
  std::vector<LaneT> lanes_;  // one per source, by index in IpPools::sources; then retired ones
  std::unordered_map<std::string, SourceSelector> selectors_;  // by pool name
  std::unordered_set<std::string> unknown_pools_;              // reported once each
  std::multimap<std::int64_t, JobT> deferred_;                 // next attempt (ms) -> job
  std::optional<Limits> destination_;
  std::int64_t next_hold_sweep_ms_ = 0;
  std::uint64_t queued_ = 0;
};

}  // namespace volley::delivery
