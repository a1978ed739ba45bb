// The router and the delivery actors it spawns, deterministically (delivery_rig.hpp).
#include <catch2/catch.hpp>

#include "actors/router.hpp"
#include "core/util/ids.hpp"
#include "delivery_rig.hpp"

using namespace volley;
using namespace volley::testing;

namespace {

// Asks the router and runs every actor until the answer is in.
template <class T, class... Ts>
T ask(DeliveryRig& rig, const router_actor& router, Ts... question) {
  caf::scoped_actor self{rig.sys};
  auto handle = self->request(router, caf::infinite, question...);
  rig.sched.run();
  T answer{};
  handle.receive([&](T& a) { answer = std::move(a); }, [&](const caf::error& err) { FAIL(rig.sys.render(err)); });
  return answer;
}

const delivery::QueueSnapshot* find(const std::vector<delivery::QueueSnapshot>& queues, const std::string& domain) {
  for (const auto& q : queues)
    if (q.domain == domain) return &q;
  return nullptr;
}

// Two messages as one commit: m1 with n1 recipients at a.example, m2 with n2 at b.example.
void enqueue_two(DeliveryRig& rig, const router_actor& router, std::size_t n1, std::size_t n2) {
  SpooledMessages spooled;
  spooled.push_back(batch_for("m1", "a.example", n1));
  spooled.push_back(batch_for("m2", "b.example", n2));
  caf::anon_send(router, enqueue_atom::value, std::move(spooled));
  rig.sched.run();
}

void stop(DeliveryRig& rig, const router_actor& router) {
  caf::anon_send(router, stop_atom::value);
  rig.sched.run();
}

}  // namespace

TEST_CASE("router: enqueued recipients reach a delivery actor per domain") {
  DeliveryRig rig;
  auto router = rig.keep(spawn_router(rig.sys, rig.ctx));
  enqueue_two(rig, router, 2, 1);
  // Each domain's actor asked DNS for its MX hosts (the stub fails them: deferred).
  std::sort(rig.seen->dns_questions.begin(), rig.seen->dns_questions.end());
  CHECK(rig.seen->dns_questions == std::vector<std::string>{"a.example", "b.example"});
  auto queues = ask<std::vector<delivery::QueueSnapshot>>(rig, router, queues_atom::value);
  REQUIRE(queues.size() == 2);
  const auto* a = find(queues, "a.example");
  REQUIRE(a);
  CHECK(a->detailed);
  CHECK(a->queued == 2);
  CHECK(a->deferred == 2);
  CHECK(a->ready == 0);
  CHECK(a->state == "waiting");
  REQUIRE(find(queues, "b.example"));
  CHECK(find(queues, "b.example")->queued == 1);
  stop(rig, router);
}

TEST_CASE("router: suspend and resume a domain, listed even without an actor") {
  DeliveryRig rig;
  auto router = rig.keep(spawn_router(rig.sys, rig.ctx));
  const QueueScope scope{QueueScope::Kind::domain, "quiet.example"};
  CHECK(ask<bool>(rig, router, suspend_atom::value, scope, Suspension{now_unix_ms(), 0, "maintenance"}));
  auto queues = ask<std::vector<delivery::QueueSnapshot>>(rig, router, queues_atom::value);
  REQUIRE(queues.size() == 1);
  CHECK(queues[0].domain == "quiet.example");
  CHECK_FALSE(queues[0].detailed);
  CHECK(queues[0].state == "suspended");
  REQUIRE(queues[0].suspended);
  CHECK(queues[0].suspended->reason == "maintenance");
  // With work queued, its actor shows it suspended (the work held, not failed).
  SpooledMessages spooled;
  spooled.push_back(batch_for("m1", "quiet.example", 1));
  caf::anon_send(router, enqueue_atom::value, std::move(spooled));
  rig.sched.run();
  CHECK(rig.seen->dns_questions.empty());  // held: not even resolved
  queues = ask<std::vector<delivery::QueueSnapshot>>(rig, router, queues_atom::value);
  REQUIRE(queues.size() == 1);
  CHECK(queues[0].detailed);
  CHECK(queues[0].ready == 1);
  CHECK(queues[0].state == "suspended");
  CHECK(ask<bool>(rig, router, resume_atom::value, scope));
  CHECK_FALSE(ask<bool>(rig, router, resume_atom::value, scope));
  rig.sched.run();
  CHECK(rig.seen->dns_questions == std::vector<std::string>{"quiet.example"});  // resumed: on its way
  queues = ask<std::vector<delivery::QueueSnapshot>>(rig, router, queues_atom::value);
  REQUIRE(queues.size() == 1);
  CHECK(queues[0].state == "waiting");
  CHECK_FALSE(queues[0].suspended);
  stop(rig, router);
}

TEST_CASE("router: an operator bounces a domain's queue or a pool's") {
  DeliveryRig rig;
  auto router = rig.keep(spawn_router(rig.sys, rig.ctx));
  enqueue_two(rig, router, 2, 3);
  rig.seen->outcomes.clear();
  CHECK(ask<std::uint64_t>(rig, router, bounce_atom::value, QueueScope{QueueScope::Kind::domain, "a.example"},
                           std::string("cleanup")) == 2);
  REQUIRE(rig.seen->outcomes.size() == 2);
  for (const auto& o : rig.seen->outcomes) {
    CHECK(o.kind == OutcomeKind::bounced);
    CHECK(o.domain == "a.example");
    CHECK(o.reply == "554 5.0.0 bounced by an operator: cleanup");
  }
  CHECK(ask<std::uint64_t>(rig, router, bounce_atom::value, QueueScope{QueueScope::Kind::domain, "none.example"},
                           std::string()) == 0);
  // The default pool's messages, across every domain.
  CHECK(ask<std::uint64_t>(rig, router, bounce_atom::value, QueueScope{QueueScope::Kind::pool, "default"},
                           std::string()) == 3);
  CHECK(rig.seen->outcomes.size() == 5);
  auto queues = ask<std::vector<delivery::QueueSnapshot>>(rig, router, queues_atom::value);
  for (const auto& q : queues) CHECK(q.queued == 0);
  stop(rig, router);
}
