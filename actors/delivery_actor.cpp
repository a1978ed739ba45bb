#include "actors/delivery_actor.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include <utility>  // before Boost.Asio (see build-facts)

#include <boost/asio/ip/address.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "actors/messages.hpp"
#include "net/smtp_session.hpp"
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
  std::uint16_t greylist_retries = 0;  // greylisting replies so far (they have their own schedule)
};

constexpr std::size_t kNoSource = ~std::size_t{0};
// Work that no source may send now (its pool or every source of it suspended) waits this long
// before it is looked at again; a resume wakes it at once.
constexpr std::int64_t kParkMs = 30'000;
// How often (at most) the work of a suspended domain is checked against its max age.
constexpr std::int64_t kMaxHoldSweepMs = 60'000;
// A source whose socket could not be bound is left out of its pools for this long.
constexpr std::int64_t kFailingSourceMs = 60'000;

// Recipients of one message, for one domain, delivered in one SMTP transaction.
struct Job {
  QueuedMessagePtr msg;
  std::vector<PendingRcpt> rcpts;
  BodyPtr body;  // held only while the job is ready or in flight (see QueuedMessage)
  BudgetClaim claim = {};  // when the body is held beyond the body window
  // The source a greylister saw: greylisting keys on the client address, so retries go out
  // from the same one.
  std::size_t pinned = kNoSource;
};

// A connection counted on an egress path (EgressPath::try_open), given back when the session
// goes, however it goes (closed, stopped, or the actor dying with it).
class PathSlot {
 public:
  PathSlot() = default;
  explicit PathSlot(std::shared_ptr<EgressPath> path) : path_(std::move(path)) {}
  PathSlot(PathSlot&& o) noexcept : path_(std::move(o.path_)) {}
  PathSlot& operator=(PathSlot&& o) noexcept {
    if (this != &o) {
      if (path_) path_->closed();
      path_ = std::move(o.path_);
    }
    return *this;
  }
  PathSlot(const PathSlot&) = delete;
  PathSlot& operator=(const PathSlot&) = delete;
  ~PathSlot() {
    if (path_) path_->closed();
  }
  EgressPath* operator->() const { return path_.get(); }
  explicit operator bool() const { return path_ != nullptr; }

 private:
  std::shared_ptr<EgressPath> path_;
};

struct Session {
  std::shared_ptr<SmtpSession> handle;
  std::size_t lane = 0;
  PathSlot path;  // the path its connection is counted on
  bool greeted = false;
  bool quitting = false;
  std::optional<Job> job;  // the transaction in flight
  std::uint32_t sent = 0;
  std::uint64_t idle_generation = 0;
  std::string mx_host;
};

// One source's share of the destination: its ready work, and its egress path once the MX hosts
// (and so the provider, the limits and the rollup key) are known.
struct Lane {
  std::deque<Job> ready;
  delivery::Limits limits;
  std::shared_ptr<EgressPath> path;
  std::size_t sessions = 0;    // open or opening
  std::size_t connecting = 0;  // not greeted yet
  // After a session of this lane failed to connect or was refused at the greeting, no new
  // session while one is open, and one probe when none is, until a new one is greeted: a dead
  // destination gets one connection attempt per retry, and one that refuses connections beyond
  // what it already has ("421 too many connections") is not asked again after every message.
  bool connect_blocked = false;
};

struct DeliveryState {
  std::string domain;
  DeliveryContextPtr ctx;
  caf::actor router;
  EgressControlPtr control;

  std::vector<Lane> lanes;  // one per source, by index in ctx->settings.pools.sources
  std::unordered_map<std::string, delivery::SourceSelector> selectors;  // by pool name
  std::unordered_set<std::string> unknown_pools;  // named by messages, no longer configured (warned once)
  std::multimap<std::int64_t, Job> deferred;  // next attempt (ms) -> job
  std::uint64_t timer_generation = 0;
  std::int64_t timer_at = 0;  // 0 = no retry timer armed
  std::uint64_t pace_generation = 0;
  std::int64_t pace_at = 0;  // 0 = no pacing timer armed
  std::int64_t next_hold_sweep_ms = 0;  // while suspended: when held work is next checked for age

  std::optional<dns::MxResolution> mx;
  std::int64_t mx_expires_ms = 0;
  bool resolving = false;
  delivery::Shaping shaping;  // the destination's own (no source rule), once the MX is known

  std::map<std::uint64_t, Session> sessions;
  std::uint64_t next_session = 1;

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

const delivery::Source& source_of(const DeliveryState& st, std::size_t lane) {
  return st.ctx->settings.pools.sources[lane];
}

const delivery::ReplyClassifier& classifier(const DeliveryState& st) {
  static const delivery::ReplyClassifier builtin = delivery::ReplyClassifier::builtin();
  return st.ctx->settings.classifier ? *st.ctx->settings.classifier : builtin;
}

bool domain_suspended(const DeliveryState& st, std::int64_t now) {
  return st.control && st.control->find(QueueScope::Kind::domain, st.domain, now) != nullptr;
}

// When the first timed suspension in force ends (0: none will by itself).
std::int64_t next_suspension_end(const DeliveryState& st, std::int64_t now) {
  std::int64_t first = 0;
  if (!st.control) return first;
  for (const auto* scopes : {&st.control->domains, &st.control->pools, &st.control->sources})
    for (const auto& [name, sus] : *scopes)
      if (sus.until_ms > now && (first == 0 || sus.until_ms < first)) first = sus.until_ms;
  return first;
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

// Tells metrics which pools the destination's new messages use: it creates their outcome series
// at zero (one message per pool and batch; it ignores pools it has seen).
void report_arrivals(Self* self, const std::vector<Job>& jobs) {
  auto& st = self->state;
  if (!st.ctx->metrics) return;
  std::vector<const std::string*> pools;
  for (const auto& job : jobs) {
    const auto* pool = job.msg->pool.empty() ? &st.ctx->settings.pools.default_pool : &job.msg->pool;
    if (std::none_of(pools.begin(), pools.end(), [&](const std::string* p) { return *p == *pool; }))
      pools.push_back(pool);
  }
  for (const auto* pool : pools) self->send(st.ctx->metrics, enqueue_atom::value, st.domain, *pool);
}

Outcome make_outcome(const DeliveryState& st, OutcomeKind kind, const Job& job, const PendingRcpt& r,
                     std::size_t lane, std::string mx_host, std::string reply) {
  Outcome o;
  o.kind = kind;
  o.rcpt_id = spool::recipient_id(job.msg->id, r.index);
  o.message_id = job.msg->id;
  o.recipient = r.recipient;
  o.domain = st.domain;
  o.tenant = job.msg->tenant;
  o.campaign = job.msg->campaign;
  o.mx_host = std::move(mx_host);
  o.pool = job.msg->pool.empty() ? st.ctx->settings.pools.default_pool : job.msg->pool;
  if (lane != kNoSource) o.source = source_of(st, lane).name;
  o.reply = std::move(reply);
  o.attempt = r.attempts;
  o.received_at_ms = job.msg->received_at_ms;
  o.at_ms = now_unix_ms();
  o.extras = job.msg->extras;
  return o;
}

void emit(Self* self, const Outcome& o) {
  auto& ctx = *self->state.ctx;
  if (ctx.metrics) self->send(ctx.metrics, outcome_atom::value, o);
  if (ctx.events) self->send(ctx.events, outcome_atom::value, o);
}

// A recipient reached a final outcome: report it and release its spool records.
void finalize(Self* self, OutcomeKind kind, const Job& job, const PendingRcpt& r, std::size_t lane,
              const std::string& mx_host, std::string reply, std::string category,
              smtp::Stage stage = smtp::Stage::none) {
  auto& st = self->state;
  auto o = make_outcome(st, kind, job, r, lane, mx_host, std::move(reply));
  o.category = std::move(category);
  o.smtp_stage = stage;
  o.message_finished = job.msg->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1;
  emit(self, o);
  // With an events actor, it releases the spool records once the event is written.
  if (!st.ctx->events && st.ctx->spool)
    self->send(st.ctx->spool, done_atom::value, SpoolReleases{{o.rcpt_id, o.message_id, o.message_finished, {}}});
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

// A limit said "not before at_ms": look again then.
void arm_pace_timer(Self* self, std::int64_t at_ms) {
  auto& st = self->state;
  if (st.pace_at != 0 && st.pace_at <= at_ms) return;
  st.pace_at = at_ms;
  const std::int64_t wait = std::max<std::int64_t>(1, at_ms - now_unix_ms());
  self->delayed_send(self, std::chrono::milliseconds(wait), pace_atom::value, ++st.pace_generation);
}

// Holds a job out of the ready queues until at_ms without counting an attempt (no source may
// send it now); the spool still has it as due.
void park(Self* self, Job&& job, std::int64_t at_ms) {
  job.body = nullptr;
  job.claim.release();
  self->state.deferred.emplace(at_ms, std::move(job));
  arm_retry_timer(self);
}

// A recipient's temporary failure with the reply that caused it.
struct Failure {
  PendingRcpt rcpt;
  smtp::Reply reply;
};

// Temporary failure of some recipients of a job: schedule their next attempts (by the kind of
// failure: greylisting has its own schedule), or expire them.
void defer(Self* self, const Job& job, std::vector<Failure> failures, std::size_t lane, const std::string& mx_host) {
  auto& st = self->state;
  const std::int64_t now = now_unix_ms();
  const auto& limits = lane != kNoSource ? st.lanes[lane].limits : st.ctx->settings.shaping.defaults;
  std::map<std::int64_t, Job> later;  // by next attempt: a deferred job lets go of the body
  bool rate_limited = false;
  for (auto& [r, reply] : failures) {
    // Only a server's 4xx says what kind of failure it is; a local one (DNS, no connection) is
    // "other". A greylisting reply means nothing unless it came from a server we reached.
    const auto kind = reply.transient() && !mx_host.empty() ? classifier(st).classify_temporary(reply).kind
                                                            : delivery::TempfailKind::other;
    rate_limited = rate_limited || kind == delivery::TempfailKind::rate_limited;
    const std::string summary = reply.summary();
    auto next = delivery::next_attempt_ms(limits.retry, kind, r.attempts, r.greylist_retries,
                                          job.msg->received_at_ms, now);
    if (!next) {
      finalize(self, OutcomeKind::expired, job, r, lane, mx_host,
               "gave up after " + std::to_string(r.attempts) + " attempts; last reply: " + summary,
               "message-expired");
      continue;
    }
    if (kind == delivery::TempfailKind::greylisted) ++r.greylist_retries;
    r.next_attempt_ms = *next;
    auto o = make_outcome(st, OutcomeKind::deferred, job, r, lane, mx_host, summary);
    o.smtp_stage = reply.stage;
    o.next_attempt_ms = *next;
    o.category = std::string(delivery::to_string(kind));
    if (st.ctx->spool) {  // the last reply is kept there (status lookups read it), not here
      spool::RecipientRecord rec;
      rec.id = o.rcpt_id;
      rec.message_id = o.message_id;
      rec.recipient = r.recipient;
      rec.domain = st.domain;
      rec.state = spool::RecipientState::deferred;
      rec.attempts = r.attempts;
      rec.next_attempt_ms = *next;
      rec.last_reply = summary;
      self->send(st.ctx->spool, defer_atom::value, std::move(rec));
    }
    emit(self, o);
    auto [it, fresh] = later.try_emplace(*next);
    if (fresh) {
      it->second.msg = job.msg;
      it->second.pinned = job.pinned;
    }
    if (kind == delivery::TempfailKind::greylisted && lane != kNoSource) it->second.pinned = lane;
    it->second.rcpts.push_back(std::move(r));
  }
  if (rate_limited && lane != kNoSource && st.lanes[lane].path) st.lanes[lane].path->rate_limited(now);
  for (auto& [when, j] : later) st.deferred.emplace(when, std::move(j));
  arm_retry_timer(self);
}

// A server's permanent refusal of every recipient of the job, classified by its reply and stage.
void bounce_all(Self* self, const Job& job, std::size_t lane, const std::string& mx_host, const smtp::Reply& reply) {
  const std::string category = classifier(self->state).classify_permanent(reply).category;
  for (const auto& r : job.rcpts)
    finalize(self, OutcomeKind::bounced, job, r, lane, mx_host, reply.summary(), category, reply.stage);
}

void defer_all(Self* self, Job& job, std::size_t lane, const std::string& mx_host, const smtp::Reply& reply) {
  std::vector<Failure> failures;
  failures.reserve(job.rcpts.size());
  for (auto& r : job.rcpts) failures.push_back(Failure{std::move(r), reply});
  defer(self, job, std::move(failures), lane, mx_host);
}

// Counts an attempt for every recipient of the job; the attempt number is in the events.
void count_attempt(Job& job) {
  for (auto& r : job.rcpts) ++r.attempts;
}

// The ready jobs of the given lanes (all when lane is kNoSource) fail the same way before
// reaching a server (DNS, no connection).
void fail_ready(Self* self, std::size_t only_lane, bool permanent, const smtp::Reply& reply, const std::string& category) {
  auto& st = self->state;
  for (std::size_t l = 0; l < st.lanes.size(); ++l) {
    if (only_lane != kNoSource && l != only_lane) continue;
    auto jobs = std::move(st.lanes[l].ready);
    st.lanes[l].ready.clear();
    for (auto& job : jobs) {
      count_attempt(job);
      if (permanent) {
        for (const auto& r : job.rcpts) finalize(self, OutcomeKind::bounced, job, r, l, "", reply.summary(), category);
      } else {
        defer_all(self, job, l, "", reply);
      }
    }
  }
}

void schedule_reap(Self* self) {
  auto& st = self->state;
  if (st.queued != 0 || !st.sessions.empty() || st.reap_pending) return;
  st.reap_pending = true;
  self->delayed_send(self, st.ctx->settings.reap_after, idle_atom::value, ++st.reap_generation);
}

// How many jobs at the front of a lane's ready queue hold their bodies: enough to keep every
// session busy while the next bodies are read. Jobs behind them let go of theirs, so a backlog (a
// slow destination, a restart with a full spool) costs records in memory, not bodies.
std::size_t body_window(const Lane& lane) { return 2 * lane.limits.max_connections + 4; }

// The selector for a pool; a message naming a pool the configuration no longer has uses the
// default pool.
delivery::SourceSelector* selector_for(DeliveryState& st, const std::string& pool_name) {
  const auto& pools = st.ctx->settings.pools;
  const delivery::Pool* pool = pools.pool(pool_name.empty() ? pools.default_pool : pool_name);
  if (!pool) {
    if (st.unknown_pools.insert(pool_name).second)
      spdlog::warn("{}: pool \"{}\" is not configured (any more); its messages use the default pool", st.domain,
                   pool_name);
    pool = pools.pool(pools.default_pool);
  }
  if (!pool) return nullptr;
  auto it = st.selectors.find(pool->name);
  if (it == st.selectors.end()) it = st.selectors.emplace(pool->name, delivery::SourceSelector(pools, *pool)).first;
  // Suspensions as they stand now: a timed one ends without a new control version.
  const std::int64_t now = now_unix_ms();
  for (const auto& s : pools.sources) {
    if (st.control && st.control->find(QueueScope::Kind::source, s.name, now))
      it->second.suspend(s.name);
    else
      it->second.resume(s.name);
  }
  return &it->second;
}

std::size_t source_index(const DeliveryState& st, const delivery::Source& s) {
  const auto& sources = st.ctx->settings.pools.sources;
  for (std::size_t i = 0; i < sources.size(); ++i)
    if (sources[i].name == s.name) return i;
  return kNoSource;
}

// The lane a job goes out through: its pinned source while that may send, else its pool's next
// source by weight; kNoSource when nothing may send it now.
std::size_t choose_lane(DeliveryState& st, const Job& job, std::int64_t now) {
  const auto& pool = job.msg->pool.empty() ? st.ctx->settings.pools.default_pool : job.msg->pool;
  if (st.control && st.control->find(QueueScope::Kind::pool, pool, now)) return kNoSource;
  if (job.pinned != kNoSource &&
      !(st.control && st.control->find(QueueScope::Kind::source, source_of(st, job.pinned).name, now)))
    return job.pinned;
  auto* selector = selector_for(st, job.msg->pool);
  const delivery::Source* s = selector ? selector->next(now) : nullptr;
  return s ? source_index(st, *s) : kNoSource;
}

// Work held back by a suspension still ends at its max age: true when the job has reached it
// and its recipients expired.
std::int64_t max_age_ms(const DeliveryState& st) {
  const auto& limits = st.mx && st.mx->status == dns::Status::ok ? st.shaping.limits : st.ctx->settings.shaping.defaults;
  return std::chrono::duration_cast<std::chrono::milliseconds>(limits.retry.max_age).count();
}

bool expire_overdue(Self* self, const Job& job, std::int64_t now) {
  if (now < job.msg->received_at_ms + max_age_ms(self->state)) return false;
  for (const auto& r : job.rcpts)
    finalize(self, OutcomeKind::expired, job, r, kNoSource, "",
             "gave up after " + std::to_string(r.attempts) + " attempts: held past the maximum queue age",
             "message-expired");
  return true;
}

// A job due now joins its lane's ready queue (or waits, when no source may send it).
void make_ready(Self* self, Job&& job, std::int64_t now) {
  auto& st = self->state;
  const std::size_t l = choose_lane(st, job, now);
  if (l == kNoSource) {
    if (expire_overdue(self, job, now)) return;
    // Look again when a timed suspension ends or the job reaches its max age, at the latest.
    std::int64_t at = std::min(now + kParkMs, job.msg->received_at_ms + max_age_ms(st));
    if (const std::int64_t end = next_suspension_end(st, now); end != 0) at = std::min(at, end);
    park(self, std::move(job), std::max(at, now + 1));
    return;
  }
  Lane& lane = st.lanes[l];
  job.claim.release();  // a job coming back (a control change) claims anew
  if (job.body && lane.ready.size() >= body_window(lane)) {
    // Beyond what sessions need next: keep the body while the shared budget allows.
    auto& budget = *st.ctx->body_budget;
    const auto bytes = static_cast<std::int64_t>(job.body->size());
    if (budget.fetch_add(bytes, std::memory_order_relaxed) + bytes <= st.ctx->settings.queued_body_budget) {
      job.claim = BudgetClaim(st.ctx->body_budget.get(), bytes);
    } else {
      budget.fetch_sub(bytes, std::memory_order_relaxed);
      job.body = nullptr;
    }
  }
  lane.ready.push_back(std::move(job));
}

void give_job(Self* self, Session& s) {
  auto& st = self->state;
  Lane& lane = st.lanes[s.lane];
  Job job = std::move(lane.ready.front());
  lane.ready.pop_front();
  // A VERP return path names one recipient message, so each recipient is its own transaction.
  const delivery::ReturnPathRule* verp = st.ctx->settings.return_paths.for_sender(job.msg->envelope_from);
  const std::size_t max_rcpts = verp ? 1 : std::max<std::size_t>(1, lane.limits.max_recipients_per_transaction);
  if (job.rcpts.size() > max_rcpts) {  // the rest goes next, sharing the body
    Job rest{job.msg, {}, job.body, {}, job.pinned};
    rest.rcpts.assign(std::make_move_iterator(job.rcpts.begin() + static_cast<std::ptrdiff_t>(max_rcpts)),
                      std::make_move_iterator(job.rcpts.end()));
    job.rcpts.resize(max_rcpts);
    lane.ready.push_front(std::move(rest));
  }
  job.claim.release();  // in flight now: held by the session, not by the queue
  count_attempt(job);
  smtp::Transaction txn;
  // X-Volley-ID ties a complaint (whose report quotes the headers) back to what was sent: the
  // recipient message when the transaction has one recipient, else the message.
  const std::string volley_id =
      job.rcpts.size() == 1 ? spool::recipient_id(job.msg->id, job.rcpts.front().index) : job.msg->id;
  const auto& paths = st.ctx->settings.return_paths;
  txn.mail_from = verp ? paths.address(*verp, volley_id) : job.msg->envelope_from;
  txn.rcpts.reserve(job.rcpts.size());
  for (const auto& r : job.rcpts) txn.rcpts.push_back(r.recipient);
  txn.wire_data = job.body;
  txn.header_prefix = "X-Volley-ID: " + paths.signed_id(volley_id) + "\r\n";
  txn.message_size = job.msg->message_size + txn.header_prefix.size();
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

void open_session(Self* self, std::size_t l) {
  auto& st = self->state;
  Lane& lane = st.lanes[l];
  const auto& source = source_of(st, l);
  SessionOptions opts;
  opts.client.ehlo_name = source.ehlo_name;
  opts.source_address = source.address;
  opts.connect_timeout = st.ctx->settings.connect_timeout;
  const std::uint64_t id = st.next_session++;
  Session s;
  s.lane = l;
  s.path = PathSlot(lane.path);
  s.handle = SmtpSession::start(*st.ctx->io, id, targets_for(st), opts, caf::actor_cast<caf::actor>(self));
  st.sessions.emplace(id, std::move(s));
  ++lane.sessions;
  ++lane.connecting;
}

void resolve(Self* self);
void pump(Self* self);

bool front_sendable(const Lane& lane) { return !lane.ready.empty() && lane.ready.front().body; }

void on_bodies(Self* self, const std::vector<QueuedMessagePtr>& msgs, const LoadedBodies& bodies);

// Makes sure the jobs at the front of a lane's ready queue (as many as could be handed to
// sessions soon) have their bodies: from a job of the same message that still holds it, or read
// back from the spool in one request. Jobs of a message whose body is gone are dropped from
// memory.
void ensure_bodies(Self* self, Lane& lane) {
  auto& st = self->state;
  const std::size_t window = body_window(lane);
  std::vector<QueuedMessagePtr> wanted;
  std::size_t seen = 0;
  for (auto it = lane.ready.begin(); it != lane.ready.end() && seen < window;) {
    Job& job = *it;
    if (!job.body) job.body = job.msg->body();
    if (!job.body && st.missing_bodies.count(job.msg->id) != 0) {
      spdlog::error("{}: message {} has no body in the spool; its {} recipients stay spooled", st.domain,
                    job.msg->id, job.rcpts.size());
      st.queued -= job.rcpts.size();
      it = lane.ready.erase(it);
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
  // deferred meanwhile asks again when due); pump hands them out.
  pump(self);
}

// The lane's limits and egress path for the current MX hosts. Domains whose MX hosts roll up to
// one provider share the provider's paths; a domain with its own rule is paced on its own.
void shape_lanes(DeliveryState& st) {
  const auto& set = st.ctx->settings;
  std::vector<std::string> hosts;
  for (const auto& h : st.mx->hosts) hosts.push_back(h.name);
  st.shaping = delivery::resolve_shaping(set.shaping, st.domain, hosts, "");
  // A domain that any rule names is paced on its own: sharing a provider's paths would apply its
  // limits to the provider's other domains, or theirs to it.
  const bool own_rule =
      std::any_of(set.shaping.domains.begin(), set.shaping.domains.end(),
                  [&](const delivery::DomainRule& r) { return r.domain == st.domain; }) ||
      std::any_of(set.shaping.sources.begin(), set.shaping.sources.end(),
                  [&](const delivery::SourceRule& r) { return r.domain == st.domain; });
  const std::string key = own_rule ? st.domain : st.shaping.rollup_key;
  for (std::size_t l = 0; l < st.lanes.size(); ++l) {
    auto shaped = delivery::resolve_shaping(set.shaping, st.domain, hosts, set.pools.sources[l].name);
    st.lanes[l].limits = shaped.limits;
    st.lanes[l].path = st.ctx->paths->get(set.pools.sources[l].name, key, shaped.limits);
  }
}

// Matches a lane's ready work with its sessions, opening sessions within the path's limits.
void pump_lane(Self* self, std::size_t l, std::int64_t now) {
  auto& st = self->state;
  Lane& lane = st.lanes[l];
  if (lane.ready.empty()) return;
  ensure_bodies(self, lane);
  std::int64_t retry = 0;
  for (auto& [id, s] : st.sessions) {
    if (!front_sendable(lane)) break;
    if (s.lane != l || !s.greeted || s.quitting || s.job) continue;
    if (!lane.path->try_send(now, &retry)) {
      if (retry != 0) arm_pace_timer(self, retry);
      return;
    }
    give_job(self, s);
  }
  const std::size_t limit = lane.connect_blocked ? 1 : lane.limits.max_connections;
  while (!lane.ready.empty() && lane.sessions < limit && lane.connecting < lane.ready.size()) {
    if (!lane.path->try_open(now, &retry)) {
      // A connection rate says when; a full path (maybe shared with other domains of the same
      // provider) frees up when a connection closes, which may be another actor's.
      arm_pace_timer(self, retry != 0 ? retry : now + 200);
      break;
    }
    open_session(self, l);
  }
}

bool any_ready(const DeliveryState& st) {
  return std::any_of(st.lanes.begin(), st.lanes.end(), [](const Lane& l) { return !l.ready.empty(); });
}

// The heart of the actor: match ready work with sessions, opening sessions up to the limits.
void pump(Self* self) {
  auto& st = self->state;
  const std::int64_t now = now_unix_ms();
  if (any_ready(st) && domain_suspended(st, now)) {
    // A timed suspension ends by itself: look again then. Meanwhile, held work still expires.
    if (const std::int64_t end = next_suspension_end(st, now); end != 0) arm_pace_timer(self, end);
    if (now >= st.next_hold_sweep_ms) {
      st.next_hold_sweep_ms = now + std::clamp<std::int64_t>(max_age_ms(st) / 10, 1000, kMaxHoldSweepMs);
      for (auto& lane : st.lanes) {
        std::deque<Job> keep;
        for (auto& job : lane.ready)
          if (!expire_overdue(self, job, now)) keep.push_back(std::move(job));
        lane.ready = std::move(keep);
      }
    }
    arm_pace_timer(self, st.next_hold_sweep_ms);
  } else if (any_ready(st)) {
    if (!st.mx || now >= st.mx_expires_ms) {
      resolve(self);
    } else if (st.mx->status == dns::Status::perm_fail) {
      fail_ready(self, kNoSource, true, smtp::Reply::synthetic(550, "5.1.2", st.domain + ": " + st.mx->error),
                 "bad-domain");
    } else if (st.mx->status == dns::Status::temp_fail) {
      fail_ready(self, kNoSource, false, smtp::Reply::synthetic(451, "4.4.3", st.domain + ": DNS: " + st.mx->error),
                 "");
      st.mx.reset();  // ask again when the deferred recipients come back
    } else {
      for (std::size_t l = 0; l < st.lanes.size(); ++l) pump_lane(self, l, now);
    }
  }
  report_gauges(self);
  schedule_reap(self);
}

void resolve(Self* self) {
  auto& st = self->state;
  if (st.resolving) return;
  st.resolving = true;
  auto resolved = [self](dns::MxResolution r, std::int64_t ttl_ms) {
    auto& st = self->state;
    st.resolving = false;
    st.mx = std::move(r);
    st.mx_expires_ms = now_unix_ms() + ttl_ms;
    if (st.mx->status == dns::Status::ok) shape_lanes(st);
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
  self->request(st.ctx->dns, std::chrono::seconds(60), resolve_atom::value, name)
      .then(
          [resolved](const dns::MxResolution& r) { resolved(r, 1000ll * std::max<std::uint32_t>(r.ttl, 1)); },
          [self, resolved](const caf::error& err) {
            dns::MxResolution r;
            r.status = dns::Status::temp_fail;
            r.error = "resolver did not answer: " + self->system().render(err);
            resolved(std::move(r), 1000);
          });
}

void on_transaction_done(Self* self, Session& s, smtp::TransactionResult result) {
  if (!s.job) return;
  auto& st = self->state;
  Job job = std::move(*s.job);
  s.job.reset();
  ++s.sent;
  std::vector<Failure> again;
  for (std::size_t i = 0; i < job.rcpts.size(); ++i) {
    smtp::Reply reply = i < result.per_rcpt.size() ? result.per_rcpt[i]
                                                   : smtp::Reply::synthetic(451, "4.5.0", "no reply for recipient");
    auto& r = job.rcpts[i];
    switch (delivery::disposition(reply)) {
      case delivery::Disposition::delivered:
        finalize(self, OutcomeKind::delivered, job, r, s.lane, s.mx_host, reply.summary(), "");
        break;
      case delivery::Disposition::bounced:
        finalize(self, OutcomeKind::bounced, job, r, s.lane, s.mx_host, reply.summary(),
                 classifier(st).classify_permanent(reply).category, reply.stage);
        break;
      case delivery::Disposition::deferred:
        again.push_back(Failure{std::move(r), std::move(reply)});
        break;
    }
  }
  if (!again.empty()) defer(self, job, std::move(again), s.lane, s.mx_host);
}

void mark_source_failing(DeliveryState& st, std::size_t l, std::int64_t until) {
  for (auto& [name, selector] : st.selectors) selector.mark_failing(source_of(st, l).name, until);
}

void on_session_closed(Self* self, std::uint64_t id, Session& s, const SessionEvent& ev) {
  auto& st = self->state;
  Lane& lane = st.lanes[s.lane];
  const std::size_t l = s.lane;
  if (s.job) {  // cannot normally happen: the client reports the transaction first
    Job job = std::move(*s.job);
    s.job.reset();
    defer_all(self, job, l, s.mx_host, smtp::Reply::synthetic(451, "4.4.2", "session closed: " + ev.reason));
  }
  const bool greeted = s.greeted;
  --lane.sessions;
  if (!greeted) --lane.connecting;
  st.sessions.erase(id);
  if (greeted) return;
  const std::int64_t now = now_unix_ms();
  spdlog::debug("{}: session {} from {} failed: {}", st.domain, id, source_of(st, l).name, ev.reason);
  const bool rate_limited = ev.reply.transient() &&
                            classifier(st).classify_temporary(ev.reply).kind == delivery::TempfailKind::rate_limited;
  if (rate_limited && lane.path) lane.path->rate_limited(now);  // "421 too many connections"
  if (ev.reason.rfind("socket:", 0) == 0) mark_source_failing(st, l, now + kFailingSourceMs);
  lane.connect_blocked = true;
  if (lane.sessions == 0 && !lane.ready.empty()) {
    // No session of this source could reach any MX: stop trying until the retry schedule says so.
    // A server that refused the greeting or EHLO and HELO with a 5xx refused them for good (as
    // Postfix bounces at the last MX).
    const smtp::Reply reply = ev.reply.code != 0 ? ev.reply : smtp::Reply::synthetic(451, "4.4.1", ev.reason);
    auto jobs = std::move(lane.ready);
    lane.ready.clear();
    for (auto& job : jobs) {
      count_attempt(job);
      if (reply.permanent()) {
        bounce_all(self, job, l, ev.mx_host, reply);
      } else {
        defer_all(self, job, l, ev.reply.code != 0 ? ev.mx_host : std::string(), reply);
      }
    }
  }
}

void on_session_event(Self* self, std::uint64_t id, SessionEvent& ev) {
  auto& st = self->state;
  auto it = st.sessions.find(id);
  if (it == st.sessions.end()) return;
  Session& s = it->second;
  Lane& lane = st.lanes[s.lane];
  switch (ev.kind) {
    case SessionEvent::Kind::ready: {
      if (!s.greeted) {
        --lane.connecting;
        lane.connect_blocked = false;  // a new connection got through: the destination takes more
      }
      s.greeted = true;
      s.mx_host = ev.mx_host;
      if (s.job) break;  // a ready that raced a job hand-over; done will follow
      if (s.sent >= lane.limits.max_messages_per_connection || (s.path && s.path->over_limit(now_unix_ms())) ||
          domain_suspended(st, now_unix_ms())) {
        s.quitting = true;
        s.handle->quit();
      } else {
        // Whether or not pump hands it a job now: if it does, the job's hand-over makes this
        // timer stale; if not (pacing, work gone), the session must not stay open forever.
        const auto gen = ++s.idle_generation;
        self->delayed_send(self, lane.limits.idle_timeout, idle_atom::value, id, gen);
      }
      break;
    }
    case SessionEvent::Kind::done:
      on_transaction_done(self, s, std::move(ev.result));
      break;
    case SessionEvent::Kind::closed:
      on_session_closed(self, id, s, ev);
      break;
  }
  pump(self);
}

// A job that is not in flight, wherever it waits: ready in a lane or deferred.
template <class F>
void for_each_queued_job(DeliveryState& st, F&& f) {
  for (std::size_t l = 0; l < st.lanes.size(); ++l)
    for (auto& job : st.lanes[l].ready) f(job);
  for (auto& [when, job] : st.deferred) f(job);
}

// Bounces every queued recipient (not those in flight) in scope: the whole domain, or one pool.
std::uint64_t bounce_queued(Self* self, const QueueScope& scope, const std::string& reason) {
  auto& st = self->state;
  const auto& default_pool = st.ctx->settings.pools.default_pool;
  auto in_scope = [&](const Job& job) {
    if (scope.kind == QueueScope::Kind::domain) return true;
    return (job.msg->pool.empty() ? default_pool : job.msg->pool) == scope.name;
  };
  const std::string reply = "554 5.0.0 bounced by an operator" + (reason.empty() ? std::string() : ": " + reason);
  std::uint64_t bounced = 0;
  auto bounce_job = [&](const Job& job) {
    for (const auto& r : job.rcpts) finalize(self, OutcomeKind::bounced, job, r, kNoSource, "", reply, "other");
    bounced += job.rcpts.size();
  };
  for (auto& lane : st.lanes) {
    std::deque<Job> keep;
    for (auto& job : lane.ready) {
      if (in_scope(job))
        bounce_job(job);
      else
        keep.push_back(std::move(job));
    }
    lane.ready = std::move(keep);
  }
  for (auto it = st.deferred.begin(); it != st.deferred.end();) {
    if (in_scope(it->second)) {
      bounce_job(it->second);
      it = st.deferred.erase(it);
    } else {
      ++it;
    }
  }
  arm_retry_timer(self);
  return bounced;
}

// The queue as an operator sees it (GET /api/v1/queues).
std::string queue_snapshot(DeliveryState& st) {
  using nlohmann::json;
  const std::int64_t now = now_unix_ms();
  std::uint64_t ready = 0, deferred = 0;
  std::int64_t oldest = 0;
  for (const auto& lane : st.lanes)
    for (const auto& job : lane.ready) ready += job.rcpts.size();
  for (const auto& [when, job] : st.deferred) deferred += job.rcpts.size();
  for_each_queued_job(st, [&](const Job& job) {
    if (oldest == 0 || job.msg->received_at_ms < oldest) oldest = job.msg->received_at_ms;
  });
  for (const auto& [id, s] : st.sessions)
    if (s.job && (oldest == 0 || s.job->msg->received_at_ms < oldest)) oldest = s.job->msg->received_at_ms;
  json q = {{"domain", st.domain},
            {"queued", st.queued},
            {"ready", ready},
            {"deferred", deferred},
            {"in_flight", st.queued - std::min(st.queued, ready + deferred)},
            {"oldest_age_seconds", oldest == 0 ? 0 : (now - oldest) / 1000},
            {"connections", st.sessions.size()}};
  bool backoff = false;
  json sources = json::array();
  for (std::size_t l = 0; l < st.lanes.size(); ++l) {
    const Lane& lane = st.lanes[l];
    if (!lane.path && lane.ready.empty() && lane.sessions == 0) continue;
    json s = {{"source", source_of(st, l).name}, {"ready", lane.ready.size()}, {"connections", lane.sessions}};
    const auto& lim = lane.limits;
    s["limits"] = {{"max_connections", lim.max_connections},
                   {"max_connection_rate", delivery::format_rate(lim.max_connection_rate)},
                   {"max_message_rate", delivery::format_rate(lim.max_message_rate)},
                   {"max_messages_per_connection", lim.max_messages_per_connection},
                   {"max_recipients_per_transaction", lim.max_recipients_per_transaction}};
    if (lane.path) {
      const auto snap = lane.path->snapshot(now);
      s["path_connections"] = snap.connections;
      s["current_max_connections"] = snap.max_connections;
      s["current_message_rate"] = delivery::format_rate(snap.message_rate);
      s["backoff_level"] = snap.backoff_level;
      backoff = backoff || snap.backoff_level > 0;
    }
    sources.push_back(std::move(s));
  }
  q["sources"] = std::move(sources);
  if (st.mx && st.mx->status == dns::Status::ok) {
    q["rollup"] = st.shaping.rollup_key;
    if (!st.shaping.provider.empty()) q["provider"] = st.shaping.provider;
  }
  const Suspension* sus = st.control ? st.control->find(QueueScope::Kind::domain, st.domain, now) : nullptr;
  if (sus) {
    q["state"] = "suspended";
    q["suspended"] = {{"reason", sus->reason}, {"since_ms", sus->since_ms}};
    if (sus->until_ms != 0) q["suspended"]["until_ms"] = sus->until_ms;
  } else if (backoff) {
    q["state"] = "backoff";
  } else if (!st.sessions.empty()) {
    q["state"] = "active";
  } else {
    q["state"] = st.queued == 0 ? "idle" : "waiting";
  }
  return q.dump();
}

// A new control version: suspensions may have started or ended.
void on_control(Self* self, EgressControlPtr control) {
  auto& st = self->state;
  st.control = std::move(control);
  const std::int64_t now = now_unix_ms();
  // Parked work (no source could send it) is looked at again now; work of a suspended scope
  // is parked again by make_ready.
  std::vector<Job> parked;
  for (auto it = st.deferred.begin(); it != st.deferred.end();) {
    if (it->first > now && it->second.rcpts.front().next_attempt_ms <= now) {
      parked.push_back(std::move(it->second));
      it = st.deferred.erase(it);
    } else {
      ++it;
    }
  }
  // Ready work whose pool or source is now suspended waits instead of going out.
  for (std::size_t l = 0; l < st.lanes.size(); ++l) {
    std::deque<Job> keep;
    for (auto& job : st.lanes[l].ready) {
      const auto& pool = job.msg->pool.empty() ? st.ctx->settings.pools.default_pool : job.msg->pool;
      if (st.control->find(QueueScope::Kind::pool, pool, now) ||
          st.control->find(QueueScope::Kind::source, source_of(st, l).name, now))
        parked.push_back(std::move(job));
      else
        keep.push_back(std::move(job));
    }
    st.lanes[l].ready = std::move(keep);
  }
  for (auto& job : parked) make_ready(self, std::move(job), now);
  arm_retry_timer(self);
  // Sessions of a suspended domain or source finish their transaction and quit.
  for (auto& [id, s] : st.sessions) {
    if (s.job || s.quitting || !s.greeted) continue;
    if (domain_suspended(st, now) || st.control->find(QueueScope::Kind::source, source_of(st, s.lane).name, now)) {
      s.quitting = true;
      s.handle->quit();
    }
  }
  pump(self);
}

}  // namespace

caf::actor spawn_delivery_actor(caf::actor_system& sys, std::string domain, DeliveryContextPtr ctx,
                                caf::actor router, EgressControlPtr control) {
  return sys.spawn([](Self* self, std::string domain, DeliveryContextPtr ctx, caf::actor router,
                      EgressControlPtr control) -> caf::behavior {
    auto& st = self->state;
    st.domain = std::move(domain);
    st.ctx = std::move(ctx);
    st.router = std::move(router);
    st.control = std::move(control);
    // Built in place: a Lane holds a deque of move-only jobs and must never be relocated.
    st.lanes = std::vector<Lane>(st.ctx->settings.pools.sources.size());
    for (auto& lane : st.lanes) lane.limits = st.ctx->settings.shaping.defaults;
    return {
        [self](enqueue_atom, RecipientBatch& batch) {
          auto& st = self->state;
          ++st.batches_received;
          const std::int64_t now = now_unix_ms();
          // One transaction per message (a message's recipients come next to each other); the
          // recipient limit per transaction is applied when a session takes the job. Jobs keep
          // the batch's order.
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
                jobs.back().rcpts.front().next_attempt_ms != q.rcpt.next_attempt_ms)
              jobs.push_back(Job{q.message, {}, std::move(q.body), {}});
            jobs.back().rcpts.push_back(
                PendingRcpt{std::move(q.rcpt.recipient), *index, q.rcpt.attempts, q.rcpt.next_attempt_ms});
          }
          report_arrivals(self, jobs);
          for (auto& job : jobs) {
            const std::int64_t when = job.rcpts.front().next_attempt_ms;
            if (when > now) {
              park(self, std::move(job), when);
              continue;
            }
            make_ready(self, std::move(job), now);
          }
          pump(self);
        },
        [self](session_atom, std::uint64_t id, SessionEvent& ev) { on_session_event(self, id, ev); },
        [self](tick_atom, std::uint64_t generation) {
          auto& st = self->state;
          if (generation != st.timer_generation) return;
          st.timer_at = 0;
          const std::int64_t now = now_unix_ms();
          while (!st.deferred.empty() && st.deferred.begin()->first <= now) {
            Job job = std::move(st.deferred.begin()->second);
            st.deferred.erase(st.deferred.begin());
            make_ready(self, std::move(job), now);
          }
          arm_retry_timer(self);
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
        [self](control_atom, EgressControlPtr& control) { on_control(self, std::move(control)); },
        [self](bounce_atom, const QueueScope& scope, const std::string& reason) -> std::uint64_t {
          auto n = bounce_queued(self, scope, reason);
          pump(self);
          return n;
        },
        [self](queues_atom) -> std::string { return queue_snapshot(self->state); },
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
  }, std::move(domain), std::move(ctx), std::move(router), std::move(control));
}

}  // namespace volley
