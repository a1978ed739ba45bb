// The events actor on CAF's deterministic test coordinator: no sockets, no sleeps; every message
// and timer is run by hand, so the ordering it promises (actors/events_actor.hpp) is observed
// step by step.
#include <catch2/catch.hpp>

#include <caf/all.hpp>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "../spool/spool_fixtures.hpp"
#include "actors/events_actor.hpp"

using namespace volley;
using volley::spool::testing::TempDir;
using volley::spool::testing::slurp;

namespace {

// What the stand-ins for the webhook, spool and suppression actors saw.
struct Seen {
  std::vector<WebhookEvents> webhook_batches;
  // Held by the webhook stand-in until the test lets it answer (answer_webhooks): a promise is
  // delivered from its own actor.
  std::vector<caf::typed_response_promise<bool>> webhook_promises;
  std::vector<SpoolReleases> releases;
  std::vector<suppression::Entry> suppressed;
};

struct Fixture {
  TempDir dir;
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::scheduler::test_coordinator* sched = nullptr;
  std::shared_ptr<Seen> seen = std::make_shared<Seen>();
  events_actor events;
  webhook_actor webhooks;
  std::string log_path = dir.sub("events.jsonl");

  explicit Fixture(bool with_webhooks = true) {
    cfg.set("scheduler.policy", caf::atom("testing"));
    sys = std::make_unique<caf::actor_system>(cfg);
    // Nothing runs by itself here: the stand-ins are never stopped, and need not be waited for.
    sys->await_actors_before_shutdown(false);
    sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
    // CAF 0.17 dereferences a null argument tuple for a function spawned without arguments: the
    // stand-ins take what they share as an argument.
    EventsOptions o;
    o.event_log_path = log_path;
    if (with_webhooks) {
      o.webhooks = sys->spawn([](webhook_actor::pointer self, std::shared_ptr<Seen> seen_here) -> webhook_actor::behavior_type {
        return {
            [self, seen_here](event_atom, const WebhookEvents& e) {
              seen_here->webhook_batches.push_back(e);
              auto rp = self->make_response_promise<bool>();
              seen_here->webhook_promises.push_back(rp);
              return rp;
            },
            [](stop_atom) { return true; },
            [](webhook_atom, std::uint64_t, std::uint64_t, std::uint32_t, const std::string&) {},
            [](tick_atom, std::uint64_t, std::uint64_t) {},
            // Here only: the test's signal to answer what the stand-in holds.
            [seen_here](tick_atom) {
              for (auto& rp : seen_here->webhook_promises) rp.deliver(true);
              seen_here->webhook_promises.clear();
            },
            [](reload_atom, const std::vector<WebhookEndpoint>&) { return std::string(); },
        };
      }, seen);
      webhooks = o.webhooks;
    }
    o.suppressions = sys->spawn([](std::shared_ptr<Seen> seen_here) -> suppression_actor::behavior_type {
      return {
          [seen_here](suppress_atom, const suppression::Entry& e) { seen_here->suppressed.push_back(e); },
          [seen_here](suppress_atom, const std::vector<suppression::Entry>& es) {
            for (const auto& e : es) seen_here->suppressed.push_back(e);
            return true;
          },
      };
    }, seen);
    o.suppression_policy = suppression::Policy({"bad-mailbox"}, true);
    events = spawn_events_actor(*sys, o);
    auto spool = sys->spawn([](std::shared_ptr<Seen> seen_here) -> caf::behavior {
      return {[seen_here](done_atom, const SpoolReleases& r) { seen_here->releases.push_back(r); }};
    }, seen);
    caf::anon_send(events, spool_atom::value, spool);
    sched->run();
  }

  ~Fixture() {
    caf::anon_send_exit(events, caf::exit_reason::user_shutdown);
    sched->run();
  }

  // The webhook stand-in says it queued what it was given.
  void answer_webhooks() {
    REQUIRE_FALSE(seen->webhook_promises.empty());
    caf::anon_send(webhooks, tick_atom::value);
    sched->run();
  }

  // The pending write timer fires (100 ms later), and everything it causes runs.
  void write_timer() {
    REQUIRE(sched->trigger_timeouts() > 0);
    sched->run();
  }
};

Outcome outcome(OutcomeKind kind, std::string rcpt_id) {
  Outcome o;
  o.kind = kind;
  o.rcpt_id = std::move(rcpt_id);
  o.message_id = o.rcpt_id.substr(0, o.rcpt_id.find('-'));
  o.recipient = "user@b.test";
  o.domain = "b.test";
  o.tenant = "t1";
  o.at_ms = 2000;
  o.attempt = 1;
  return o;
}

}  // namespace

TEST_CASE("a final outcome is written, then queued for webhooks, and only then released in the spool") {
  Fixture f;
  auto o = outcome(OutcomeKind::delivered, "m1-0");
  o.message_finished = true;
  caf::anon_send(f.events, outcome_atom::value, o);
  f.sched->run();
  // Buffered for up to 100 ms: nothing written, queued or released yet.
  CHECK(slurp(f.log_path).empty());
  CHECK(f.seen->webhook_batches.empty());
  CHECK(f.seen->releases.empty());

  f.write_timer();
  const std::string line = events::to_json(o);
  CHECK(slurp(f.log_path) == line + "\n");
  REQUIRE(f.seen->webhook_batches.size() == 1);
  REQUIRE(f.seen->webhook_batches[0].size() == 1);
  CHECK(f.seen->webhook_batches[0][0].type == "delivered");
  CHECK(f.seen->webhook_batches[0][0].tenant == "t1");
  CHECK(f.seen->webhook_batches[0][0].json == line);
  // The webhook actor has not said it queued them: the spool keeps the recipient.
  CHECK(f.seen->releases.empty());

  f.answer_webhooks();
  REQUIRE(f.seen->releases.size() == 1);
  REQUIRE(f.seen->releases[0].size() == 1);
  const auto& r = f.seen->releases[0][0];
  CHECK(r.rcpt_id == "m1-0");
  CHECK(r.message_id == "m1");
  CHECK(r.message_finished);
  CHECK(r.spooled);
  CHECK(r.history == line);  // the event line is the history record
}

TEST_CASE("a deferral is written and queued but releases nothing, and received notes become events") {
  Fixture f(false);
  caf::anon_send(f.events, outcome_atom::value, outcome(OutcomeKind::deferred, "m1-0"));
  spool::MessageRecord record;
  record.id = "m2";
  record.tenant = "t2";
  record.received_at_ms = 1500;
  record.tags = {"x"};
  auto message = std::make_shared<const QueuedMessage>(std::move(record));
  caf::anon_send(f.events, outcome_atom::value, ReceivedNotes{ReceivedNote{message, "m2-0", "a@c.test", "c.test"}});
  f.sched->run();
  f.write_timer();
  std::istringstream lines(slurp(f.log_path));
  std::string first, second;
  REQUIRE(std::getline(lines, first));
  REQUIRE(std::getline(lines, second));
  CHECK(nlohmann::json::parse(first)["event"] == "deferred");
  const auto received = nlohmann::json::parse(second);
  CHECK(received["event"] == "received");
  CHECK(received["id"] == "m2-0");
  CHECK(received["message_id"] == "m2");
  CHECK(received["tenant"] == "t2");
  CHECK(received["at"] == 1500);
  CHECK(received["tags"] == nlohmann::json({"x"}));
  CHECK(f.seen->releases.empty());
}

TEST_CASE("a report is answered only once its events are written and queued") {
  Fixture f;
  auto answered = std::make_shared<bool>(false);
  auto sink = f.events;
  std::vector<Outcome> report{outcome(OutcomeKind::async_bounce, "m1-0")};
  report[0].category = "bad-mailbox";
  f.sys->spawn([](caf::event_based_actor* self, events_actor sink, std::vector<Outcome> report, std::shared_ptr<bool> answered) {
    self->request(sink, caf::infinite, report_atom::value, report).then([answered](bool ok) { *answered = ok; });
  }, sink, report, answered);
  f.sched->run();
  CHECK_FALSE(*answered);
  f.write_timer();
  CHECK(slurp(f.log_path) == events::to_json(report[0]) + "\n");
  CHECK_FALSE(*answered);  // written, not queued for webhooks yet
  f.answer_webhooks();
  CHECK(*answered);
  // Its sender (the feedback actor) decided on suppression: the events actor does not again.
  CHECK(f.seen->suppressed.empty());
  CHECK(f.seen->releases.empty());  // not final: the recipient was released long ago
}

TEST_CASE("a synchronous bounce about the recipient is sent for suppression, one about the sender is not") {
  Fixture f(false);
  auto at_rcpt = outcome(OutcomeKind::bounced, "m1-0");
  at_rcpt.category = "bad-mailbox";
  at_rcpt.reply = "550 5.1.1 no such user";
  at_rcpt.smtp_stage = smtp::Stage::rcpt;
  auto at_mail = at_rcpt;
  at_mail.rcpt_id = "m1-1";
  at_mail.recipient = "other@b.test";
  at_mail.smtp_stage = smtp::Stage::mail;
  caf::anon_send(f.events, outcome_atom::value, at_rcpt);
  caf::anon_send(f.events, outcome_atom::value, at_mail);
  f.sched->run();
  // Sent before the line is written: the address is listed no later than the event is seen.
  CHECK(slurp(f.log_path).empty());
  REQUIRE(f.seen->suppressed.size() == 1);
  CHECK(f.seen->suppressed[0].email == "user@b.test");
  CHECK(f.seen->suppressed[0].source == "bounce");
  CHECK(f.seen->suppressed[0].reason == "hard_bounce");
  f.write_timer();
  REQUIRE(f.seen->releases.size() == 1);
  CHECK(f.seen->releases[0].size() == 2);
}

TEST_CASE("final statuses are answered from memory until released, by recipient and by message") {
  Fixture f;
  caf::anon_send(f.events, outcome_atom::value, outcome(OutcomeKind::delivered, "m1-0"));
  auto bounced = outcome(OutcomeKind::bounced, "m1-1");
  bounced.reply = "550 no";
  caf::anon_send(f.events, outcome_atom::value, bounced);
  caf::anon_send(f.events, outcome_atom::value, outcome(OutcomeKind::deferred, "m1-2"));
  f.sched->run();
  auto ask = [&](const std::string& id) {
    auto out = std::make_shared<RecipientStatuses>();
    auto sink = f.events;
    f.sys->spawn([](caf::event_based_actor* self, events_actor sink, std::string id, std::shared_ptr<RecipientStatuses> out) {
      self->request(sink, caf::infinite, status_atom::value, id).then([out](RecipientStatuses& s) { *out = s; });
    }, sink, id, out);
    f.sched->run();
    return *out;
  };
  const auto one = ask("m1-1");
  REQUIRE(one.size() == 1);
  CHECK(one[0].status == "bounced");
  CHECK(one[0].reply == "550 no");
  CHECK_FALSE(one[0].reply_is_last);
  const auto message = ask("m1");
  REQUIRE(message.size() == 2);  // the deferred one is the spool's to answer
  CHECK(message[0].id == "m1-0");
  CHECK(message[1].id == "m1-1");
  f.write_timer();
  f.answer_webhooks();
  CHECK(ask("m1").empty());  // the spool has them now
}

TEST_CASE("stop writes what is pending, answers once it is queued and released, and quits") {
  Fixture f;
  caf::anon_send(f.events, outcome_atom::value, outcome(OutcomeKind::expired, "m1-0"));
  f.sched->run();
  auto stopped = std::make_shared<bool>(false);
  auto sink = f.events;
  f.sys->spawn([](caf::event_based_actor* self, events_actor sink, std::shared_ptr<bool> stopped) {
    self->request(sink, caf::infinite, stop_atom::value).then([stopped](bool ok) { *stopped = ok; });
  }, sink, stopped);
  f.sched->run();  // no timer needed
  CHECK(nlohmann::json::parse(slurp(f.log_path))["event"] == "expired");
  CHECK_FALSE(*stopped);
  f.answer_webhooks();
  CHECK(*stopped);
  CHECK(f.seen->releases.size() == 1);
}
