#pragma once
// The router and delivery actors on CAF's deterministic test coordinator: no threads, no sockets.
// DNS is a stub that answers every question the same way; events and the spool are one sink that
// records what delivery reports. Nothing runs until the test says so (sched.run()).
#include <memory>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "actors/delivery_context.hpp"
#include "actors/messages.hpp"
#include "actors/router.hpp"
#include "core/spool/records.hpp"
#include "core/util/ids.hpp"

namespace volley::testing {

struct Seen {
  std::vector<Outcome> outcomes;                 // as the events actor
  std::vector<spool::RecipientRecord> deferrals;  // as the spool
  std::vector<std::string> dns_questions;
};

inline caf::behavior stub_dns(caf::event_based_actor*, std::shared_ptr<Seen> seen, dns::Status status) {
  return {[seen, status](resolve_atom, const std::string& name) {
    seen->dns_questions.push_back(name);
    dns::MxResolution r;
    r.status = status;
    r.error = status == dns::Status::perm_fail ? "NXDOMAIN" : "SERVFAIL";
    r.ttl = 60;
    return r;
  }};
}

inline caf::behavior sink(caf::event_based_actor*, std::shared_ptr<Seen> seen) {
  return {
      [seen](outcome_atom, const Outcome& o) { seen->outcomes.push_back(o); },
      [seen](defer_atom, const spool::RecipientRecord& r) { seen->deferrals.push_back(r); },
      [](done_atom, const SpoolReleases&) {},
  };
}

inline caf::actor_system_config& testing_config(caf::actor_system_config& cfg) {
  cfg.set("scheduler.policy", caf::atom("testing"));
  cfg.set("logger.file-verbosity", caf::atom("quiet"));
  return cfg;
}

// n recipients r0@domain... of one message, due now.
inline RecipientBatch batch_for(const std::string& message_id, const std::string& domain, std::size_t n,
                                std::string pool = "") {
  spool::MessageRecord m;
  m.id = message_id;
  m.envelope_from = "sender@volley.example";
  m.received_at_ms = now_unix_ms();  // delivery reads the wall clock: a message far older would expire
  m.recipient_count = static_cast<std::uint32_t>(n);
  m.pool = std::move(pool);
  auto msg = std::make_shared<const QueuedMessage>(std::move(m));
  RecipientBatch batch;
  for (std::uint32_t i = 0; i < n; ++i) {
    spool::RecipientRecord r;
    r.id = spool::recipient_id(message_id, i);
    r.message_id = message_id;
    r.recipient = "r" + std::to_string(i) + "@" + domain;
    r.domain = domain;
    batch.push_back(QueuedRecipient{msg, std::move(r), std::make_shared<const std::string>("Subject: x\r\n\r\nx\r\n")});
  }
  if (!batch.empty()) batch.front().message->remaining.store(static_cast<std::uint32_t>(n));
  return batch;
}

struct DeliveryRig {
  explicit DeliveryRig(dns::Status dns_status = dns::Status::temp_fail)
      : sys(testing_config(cfg)),
        sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())),
        seen(std::make_shared<Seen>()) {
    dns = sys.spawn(stub_dns, seen, dns_status);
    events = sys.spawn(sink, seen);
    ctx.settings.pools = delivery::IpPools::builtin("volley.example");
    ctx.settings.shaping.defaults.retry.first = std::chrono::seconds(300);
    // Stand-ins: dynamically typed, so cast (unchecked) to the typed handles delivery expects.
    ctx.dns = caf::actor_cast<dns_actor>(dns);
    ctx.events = caf::actor_cast<events_actor>(events);
    ctx.spool = events;  // the same sink records deferrals
  }
  // Actors the test spawned (routers, delivery actors, their parents): stopped at the end even
  // when an assertion ends the test early (a router and its delivery actors hold each other).
  template <class Handle>
  Handle keep(Handle h) {
    spawned.push_back(caf::actor_cast<caf::actor>(h));
    return h;
  }
  ~DeliveryRig() {
    for (auto& a : spawned) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(dns, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(events, caf::exit_reason::user_shutdown);
    sched.run();
    // After a failed assertion, actors the test did not stop may live on (a delivery actor
    // waiting for a timer): the test has failed already, it must not hang as well.
    sys.await_actors_before_shutdown(false);
  }

  caf::actor_system_config cfg;
  caf::actor_system sys;
  caf::scheduler::test_coordinator& sched;
  std::shared_ptr<Seen> seen;
  caf::actor dns;
  caf::actor events;
  DeliveryContext ctx;
  std::vector<caf::actor> spawned;
};

}  // namespace volley::testing
