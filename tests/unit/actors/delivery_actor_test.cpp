// One delivery actor, deterministically (delivery_rig.hpp): what it does when its destination
// cannot be reached, and how it hands itself back to its router when empty.
#include <catch2/catch.hpp>

#include "actors/delivery_actor.hpp"
#include "core/util/ids.hpp"
#include "delivery_rig.hpp"

using namespace volley;
using namespace volley::testing;

namespace {

struct Idle {
  std::vector<std::pair<std::string, std::uint64_t>> reports;
};

delivery_parent::behavior_type parent(delivery_parent::pointer, std::shared_ptr<Idle> idle) {
  return {[idle](idle_atom, const std::string& domain, std::uint64_t batches) {
    idle->reports.emplace_back(domain, batches);
  }};
}

}  // namespace

TEST_CASE("delivery actor: a domain whose DNS fails is deferred on the retry schedule") {
  DeliveryRig rig(dns::Status::temp_fail);
  auto idle = std::make_shared<Idle>();
  auto router = rig.keep(rig.sys.spawn(parent, idle));
  auto ctx = std::make_shared<const DeliveryContext>(rig.ctx);
  auto actor = rig.keep(spawn_delivery_actor(rig.sys, "down.example", ctx, router, nullptr));
  const std::int64_t before = now_unix_ms();
  caf::anon_send(actor, enqueue_atom::value, batch_for("m1", "down.example", 2));
  rig.sched.run();
  const std::int64_t after = now_unix_ms();
  REQUIRE(rig.seen->outcomes.size() == 2);
  REQUIRE(rig.seen->deferrals.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    const auto& o = rig.seen->outcomes[i];
    CHECK(o.kind == OutcomeKind::deferred);
    CHECK(o.rcpt_id == spool::recipient_id("m1", static_cast<std::uint32_t>(i)));
    CHECK(o.attempt == 1);
    CHECK(o.category == "other");
    CHECK(o.mx_host.empty());
    CHECK(o.source == "default");
    CHECK(o.reply.find("down.example: DNS: SERVFAIL") != std::string::npos);
    CHECK(o.next_attempt_ms >= before + 300'000);  // retry.first after the failure
    CHECK(o.next_attempt_ms <= after + 300'000);
    const auto& d = rig.seen->deferrals[i];
    CHECK(d.id == o.rcpt_id);
    CHECK(d.attempts == 1);
    CHECK(d.next_attempt_ms == o.next_attempt_ms);
    CHECK(d.last_reply == o.reply);
  }
  CHECK(idle->reports.empty());  // work is queued: not idle
  caf::anon_send(actor, stop_atom::value);
  caf::anon_send_exit(router, caf::exit_reason::user_shutdown);
  rig.sched.run();
}

TEST_CASE("delivery actor: a domain without mail servers bounces, then the actor reports idle") {
  DeliveryRig rig(dns::Status::perm_fail);
  rig.ctx.settings.reap_after = std::chrono::seconds(5);
  auto idle = std::make_shared<Idle>();
  auto router = rig.keep(rig.sys.spawn(parent, idle));
  auto actor = rig.keep(
      spawn_delivery_actor(rig.sys, "nx.example", std::make_shared<const DeliveryContext>(rig.ctx), router, nullptr));
  caf::anon_send(actor, enqueue_atom::value, batch_for("m1", "nx.example", 1));
  rig.sched.run();
  REQUIRE(rig.seen->outcomes.size() == 1);
  const auto& o = rig.seen->outcomes[0];
  CHECK(o.kind == OutcomeKind::bounced);
  CHECK(o.category == "bad-domain");
  CHECK(o.message_finished);
  CHECK(o.reply.find("nx.example: NXDOMAIN") != std::string::npos);
  CHECK(idle->reports.empty());
  // Empty now: after reap_after it tells its router, with the batches it has seen.
  rig.sched.clock().advance_time(std::chrono::seconds(5));
  rig.sched.run();
  REQUIRE(idle->reports.size() == 1);
  CHECK(idle->reports[0] == std::make_pair(std::string("nx.example"), std::uint64_t{1}));
  caf::anon_send(actor, stop_atom::value);
  caf::anon_send_exit(router, caf::exit_reason::user_shutdown);
  rig.sched.run();
}

TEST_CASE("delivery actor: a suspended domain holds its work and shows it") {
  DeliveryRig rig;
  auto idle = std::make_shared<Idle>();
  auto router = rig.keep(rig.sys.spawn(parent, idle));
  auto control = std::make_shared<EgressControl>();
  control->domains["held.example"] = Suspension{1, 0, "incident"};
  auto actor = rig.keep(spawn_delivery_actor(rig.sys, "held.example",
                                             std::make_shared<const DeliveryContext>(rig.ctx), router, control));
  caf::anon_send(actor, enqueue_atom::value, batch_for("m1", "held.example", 3));
  rig.sched.run();
  CHECK(rig.seen->outcomes.empty());
  CHECK(rig.seen->dns_questions.empty());
  caf::scoped_actor self{rig.sys};
  auto handle = self->request(actor, caf::infinite, queues_atom::value);
  rig.sched.run();
  handle.receive(
      [&](const delivery::QueueSnapshot& q) {
        CHECK(q.domain == "held.example");
        CHECK(q.queued == 3);
        CHECK(q.ready == 3);
        CHECK(q.state == "suspended");
        REQUIRE(q.suspended);
        CHECK(q.suspended->reason == "incident");
        REQUIRE(q.sources.size() == 1);
        CHECK(q.sources[0].source == "default");
        CHECK(q.sources[0].ready == 1);
      },
      [&](const caf::error& err) { FAIL(rig.sys.render(err)); });
  // A resume (a new control version) lets it go: it asks DNS at once.
  caf::anon_send(actor, control_atom::value, EgressControlPtr(std::make_shared<const EgressControl>()));
  rig.sched.run();
  CHECK(rig.seen->dns_questions == std::vector<std::string>{"held.example"});
  CHECK(rig.seen->outcomes.size() == 3);  // deferred by the failing DNS stub
  caf::anon_send(actor, stop_atom::value);
  caf::anon_send_exit(router, caf::exit_reason::user_shutdown);
  rig.sched.run();
}

TEST_CASE("delivery actor: a static route by name is resolved instead of the domain") {
  DeliveryRig rig(dns::Status::temp_fail);
  rig.ctx.settings.routes["routed.example"] = StaticRouteTarget{"smarthost.invalid", 2525};
  auto router = rig.keep(rig.sys.spawn(parent, std::make_shared<Idle>()));
  auto actor = rig.keep(spawn_delivery_actor(rig.sys, "routed.example",
                                             std::make_shared<const DeliveryContext>(rig.ctx), router, nullptr));
  caf::anon_send(actor, enqueue_atom::value, batch_for("m1", "routed.example", 1));
  rig.sched.run();
  CHECK(rig.seen->dns_questions == std::vector<std::string>{"smarthost.invalid"});
  REQUIRE(rig.seen->outcomes.size() == 1);
  CHECK(rig.seen->outcomes[0].kind == OutcomeKind::deferred);
  CHECK(rig.seen->outcomes[0].reply.find("routed.example: DNS: SERVFAIL") != std::string::npos);
}
