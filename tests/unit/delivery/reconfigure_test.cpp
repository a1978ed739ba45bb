// A reload's new settings reach a destination's queue (docs/lifecycle.md): other default limits
// for lanes whose MX hosts are not known yet, other bounce rules, while queued work stays.
#include <catch2/catch.hpp>

#include "queue_fixture.hpp"

using namespace volley::delivery;
using namespace volley::delivery::testing;

TEST_CASE("queue: reconfigure takes new default limits and bounce rules and keeps the queued work") {
  QueueRig rig;
  rig.queue.add(rig.job("m1", 2), 0, rig.out);
  REQUIRE(rig.queue.queued() == 2);
  const std::size_t lane = rig.ready_lane();
  REQUIRE(lane != kNoSource);
  CHECK(rig.queue.lane(lane).limits.max_connections == 2);

  Limits slower = test_limits();
  slower.max_connections = 1;
  slower.max_message_rate = Rate{2, 1000};
  // The operator's rules: a reply the shipped rules call a bad mailbox is now a policy block.
  auto built = ReplyClassifier::with_user_rules(
      "[[bounce]]\nname = \"partner\"\npattern = 'user unknown'\ncategory = \"policy-related\"\n", "rules.toml");
  if (const auto* error = std::get_if<std::string>(&built)) FAIL(*error);
  const ReplyClassifier rules = std::get<ReplyClassifier>(std::move(built));
  const auto moved = rig.queue.reconfigure(QueueSettings{&rig.pools, slower, &rules, &rig.budget, 1 << 20}, 0, rig.out);
  CHECK(moved == std::vector<std::size_t>{0, 1, 2});  // the same sources: every lane where it was

  CHECK(rig.queue.queued() == 2);
  CHECK(rig.queue.lane(lane).limits.max_connections == 1);
  CHECK(rig.queue.lane(lane).limits.max_message_rate == Rate{2, 1000});
  const auto reply = volley::smtp::Reply::synthetic(550, "5.1.1", "user unknown");
  CHECK(rig.queue.policy().on_permanent(reply).category == "policy-related");
}
