#pragma once
// The delivery actor's state, shared by its two files: delivery_actor.cpp (behaviour, timers,
// body loads, reporting) and delivery_sessions.cpp (MX routing and the session pool). Not for
// anyone else: talk to the actor through delivery_actor.hpp.
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "actors/delivery_actor.hpp"
#include "actors/egress_path.hpp"
#include "core/delivery/destination_queue.hpp"
#include "net/session_cache.hpp"

namespace volley {

using DestinationQueue = delivery::DestinationQueue<QueuedMessage>;
using DeliveryJob = delivery::Job<QueuedMessage>;

struct DeliveryState;
using DeliverySelf = delivery_actor::stateful_pointer<DeliveryState>;

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
  // The transactions given to it, in the order sent: results come back in that order. A session
  // to a pipelining server takes up to three (smtp::SmtpClient::room), so that each message's
  // commands ride with the body before it.
  std::deque<DeliveryJob> jobs;
  std::uint32_t room = 0;  // how many more it takes now, as its events say
  std::uint32_t sent = 0;
  // Idle since (ms, 0 while a transaction is in flight), and whether an idle timer is out: one
  // timer per session at a time, re-armed for what is left when it finds the session was busy
  // meanwhile. (A timer per transaction cost a clock-thread wake-up and a stale message per
  // message at thousands a second.)
  std::int64_t idle_since_ms = 0;
  bool idle_timer = false;
  std::string mx_host;
  std::optional<TlsFacts> tls;  // the session's TLS once greeted (none: clear text)
  bool counted = false;         // its TLS result is in the metrics
  // The connection cache (net/session_cache.hpp): taken from it rather than connected; each
  // target host's cache key ("" : never shared); parking was tried and the cache was full.
  bool adopted = false;
  std::vector<std::pair<std::string, std::string>> cache_keys;
  bool park_refused = false;
  SessionCache::Attempt attempt;  // counted by the cache's gate until greeted or gone
};

// What decides how the destination's connections are protected (actors/delivery_tls.cpp),
// gathered again with each new MX answer: the MTA-STS policy, the TLSA records of each MX host;
// and the MX hosts whose opportunistic TLS failed lately.
struct DestinationTls {
  enum class Ask : std::uint8_t { not_asked, pending, known };
  Ask sts_state = Ask::not_asked;
  tls::StsPolicy sts;
  struct HostTlsa {
    Ask state = Ask::not_asked;
    bool failed = false;  // the lookup failed (not "no records"): the host is not used
    std::vector<tls::Tlsa> records;  // authenticated only
  };
  std::map<std::string, HostTlsa> tlsa;
  std::uint64_t generation = 0;  // answers for an older MX answer are ignored
  std::unordered_map<std::string, std::int64_t> broken_until;  // MX host -> unix ms
  // While a session's transaction outcomes are reported: that session's TLS, for the event.
  const std::optional<TlsFacts>* reporting = nullptr;
};

// Carries out the queue's decisions: events and metrics for every outcome, the spool's records.
class DeliveryReporter final : public delivery::QueueListener<QueuedMessage> {
 public:
  explicit DeliveryReporter(DeliverySelf self) : self_(self) {}
  void outcome(const DeliveryJob& job, const delivery::PendingRcpt& rcpt, std::size_t lane,
               const std::string& mx_host, delivery::Decision decision) override;
  void rate_limited(std::size_t lane, std::int64_t now_ms) override;
  void unknown_pool(const std::string& pool) override;

 private:
  DeliverySelf self_;
};

struct DeliveryState {
  std::string domain;
  DeliveryContextPtr ctx;
  delivery_parent router;
  std::optional<DestinationQueue> queue;  // built when the actor starts
  std::optional<DeliveryReporter> reporter;
  // Each lane's egress path (by source index), once the MX hosts (and so the provider, the
  // limits and the rollup key) are known.
  std::vector<std::shared_ptr<EgressPath>> paths;

  std::uint64_t timer_generation = 0;
  std::int64_t timer_at = 0;  // 0 = no retry timer armed
  std::uint64_t pace_generation = 0;
  std::int64_t pace_at = 0;  // 0 = no pacing timer armed

  std::optional<dns::MxResolution> mx;
  std::int64_t mx_expires_ms = 0;
  bool resolving = false;
  delivery::Shaping shaping;  // the destination's own (no source rule), once the MX is known
  DestinationTls tls;

  std::map<std::uint64_t, Session> sessions;
  std::uint64_t next_session = 1;
  // In line at the connection cache's gate (at most once): it wakes the actor (wake_atom) when a
  // session is parked or an attempt ends under the key it waits for.
  bool gate_waiting = false;

  // Bodies being read back from the spool, by message id; and messages whose body is gone
  // (their recipients are left in the spool for an operator, not sent).
  std::unordered_set<std::string> loading;
  std::unordered_set<std::string> missing_bodies;
  bool load_retry_pending = false;
  bool reap_pending = false;

  std::uint64_t batches_received = 0;
  std::uint64_t reap_generation = 0;
  // Shutdown's drain: no work is handed out any more; `drained` is answered once no session is left.
  bool draining = false;
  std::optional<caf::typed_response_promise<bool>> drained;
  std::uint64_t reported_depth = ~0ull, reported_conns = ~0ull;
};

// delivery_actor.cpp
void arm_pace_timer(DeliverySelf self, std::int64_t at_ms);  // a limit said "not before at_ms"
void ensure_bodies(DeliverySelf self, std::size_t lane);     // the lane's next jobs get their bodies
void pump(DeliverySelf self);  // the heart of the actor: moves work on, arms timers, reports gauges
// delivery_sessions.cpp
void resolve(DeliverySelf self);  // asks DNS (or the route) for the MX hosts; pumps when answered
void pump_lane(DeliverySelf self, std::size_t lane, std::int64_t now);  // hands out work, opens sessions
void on_session_reports(DeliverySelf self, SessionReports& reports);  // then pumps, once
void on_gate_wake(DeliverySelf self, const std::string& key);  // wake_atom: pumps, or passes it on
void on_session_idle(DeliverySelf self, std::uint64_t id, std::uint64_t generation);
void quit_suspended_sessions(DeliverySelf self, std::int64_t now);
void stop_sessions(DeliverySelf self);
// Draining: idle sessions quit, none opens, none gets work; the drain is answered when none is left.
void drain_sessions(DeliverySelf self);
void shape_lanes(DeliveryState& st);  // each lane's limits and egress path for the current MX hosts
// delivery_tls.cpp
void forget_tls_inputs(DeliveryState& st);  // a new MX answer: MTA-STS and TLSA are asked again
// Whether the MTA-STS policy and TLSA records the MX hosts need are known; asks for what is
// missing (pumping when answered) and returns false meanwhile. When no MX host may be used
// (MTA-STS enforce, failed TLSA lookups), the ready work is deferred with tls_required.
bool tls_inputs_ready(DeliverySelf self, std::int64_t now);
// The MX hosts to try, each with its TLS plan (hosts that may not be used left out).
std::vector<SessionTarget> plan_targets(DeliveryState& st, std::vector<SessionTarget> targets, tls::Mode mode,
                                        std::int64_t now);
void on_tls_greeted(DeliverySelf self, Session& s);            // metrics: encrypted, verified or clear
void on_tls_problem(DeliverySelf self, const TlsProblem& p);  // metrics; remembers a TLS-broken host

}  // namespace volley
