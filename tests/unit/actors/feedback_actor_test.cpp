// The feedback actor on CAF's deterministic test coordinator, with stand-ins for the spool,
// suppression and events actors: a report goes one way (history, then suppression, then
// events) and the listener is answered only after the events are written.
#include <catch2/catch.hpp>

#include <caf/all.hpp>

#include <nlohmann/json.hpp>

#include "actors/feedback_actor.hpp"

using namespace volley;

namespace {

const std::string kRcpt = "0194c3b2a1f0e9d8c7b6a5f4-0";

delivery::ReturnPaths paths() {
  return delivery::ReturnPaths({delivery::ReturnPathRule{"*", "bounce.volley.test", "bounces"}}, "secret key");
}

std::string dsn_for(const std::string& address, const std::string& status, const std::string& diagnostic) {
  return "From: MAILER-DAEMON@gone.test\n"
         "To: bounces@bounce.volley.test\n"
         "Subject: Undelivered Mail Returned to Sender\n"
         "MIME-Version: 1.0\n"
         "Content-Type: multipart/report; report-type=delivery-status; boundary=b\n"
         "\n"
         "--b\n"
         "Content-Type: text/plain\n"
         "\n"
         "Your message could not be delivered.\n"
         "--b\n"
         "Content-Type: message/delivery-status\n"
         "\n"
         "Reporting-MTA: dns; mx.gone.test\n"
         "\n"
         "Final-Recipient: rfc822; " + address + "\n"
         "Action: failed\n"
         "Status: " + status + "\n"
         "Diagnostic-Code: smtp; " + diagnostic + "\n"
         "\n"
         "--b--\n";
}

struct Seen {
  std::vector<std::string> history_asked;
  std::vector<suppression::Entry> suppressed;
  // Held by the stand-ins until the test lets them answer: a promise is delivered from its own
  // actor.
  std::vector<caf::response_promise> suppress_promises;
  std::vector<std::vector<Outcome>> reports;
  std::vector<caf::typed_response_promise<bool>> report_promises;
  std::vector<std::pair<bool, std::string>> answers;
};

struct Fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::scheduler::test_coordinator* sched = nullptr;
  std::shared_ptr<Seen> seen = std::make_shared<Seen>();
  feedback_actor feedback;
  caf::actor suppressor;
  events_actor events;

  // history: what the spool answers for the recipient ("" = it knows nothing of it);
  // spool_down: the spool is gone, so lookups fail.
  explicit Fixture(std::string history, bool spool_down = false) {
    cfg.set("scheduler.policy", caf::atom("testing"));
    sys = std::make_unique<caf::actor_system>(cfg);
    sys->await_actors_before_shutdown(false);
    sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
    auto s = seen;
    FeedbackOptions o;
    o.return_paths = paths();
    o.suppression_policy = suppression::Policy({"bad-mailbox"}, true);
    o.own_thread = false;
    // Stand-ins take what they share as spawn arguments: CAF 0.17 dereferences a null argument
    // tuple for a function spawned without any.
    o.spool = sys->spawn([](std::shared_ptr<Seen> s, std::string history) -> caf::behavior {
      return {[s, history](history_atom, const std::string& id) {
        s->history_asked.push_back(id);
        return history;
      }};
    }, s, history);
    if (spool_down) {
      caf::anon_send_exit(o.spool, caf::exit_reason::user_shutdown);
      sched->run();
    }
    // Untyped, for a signal to answer that suppression_actor does not have; cast to it below.
    suppressor = sys->spawn([](caf::event_based_actor* self, std::shared_ptr<Seen> s) -> caf::behavior {
      return {
          [s](suppress_atom, const suppression::Entry& e) { s->suppressed.push_back(e); },
          [s, self](suppress_atom, const std::vector<suppression::Entry>& es) {
            for (const auto& e : es) s->suppressed.push_back(e);
            auto rp = self->make_response_promise();
            s->suppress_promises.push_back(rp);
            return rp;
          },
          [s](tick_atom) {
            for (auto& rp : s->suppress_promises) rp.deliver(true);
            s->suppress_promises.clear();
          },
      };
    }, s);
    o.suppressions = caf::actor_cast<suppression_actor>(suppressor);
    o.events = sys->spawn([](events_actor::pointer self, std::shared_ptr<Seen> s) -> events_actor::behavior_type {
      return {
          [](spool_atom, const caf::actor&) {},
          [](outcome_atom, const Outcome&) { FAIL("feedback sends reports, not outcomes"); },
          [](outcome_atom, const ReceivedNotes&) {},
          [s, self](report_atom, const std::vector<Outcome>& events) {
            s->reports.push_back(events);
            auto rp = self->make_response_promise<bool>();
            s->report_promises.push_back(rp);
            return rp;
          },
          [](status_atom, const std::string&) { return RecipientStatuses{}; },
          [](stop_atom) { return true; },
          // Here only: the test's signal to answer the reports it holds.
          [s](tick_atom) {
            for (auto& rp : s->report_promises) rp.deliver(true);
            s->report_promises.clear();
          },
          [](reload_atom, const suppression::Policy&) {},
          [](subscribe_atom, const EventSubscription&) { return false; },
          [](unsubscribe_atom, std::uint64_t) {},
          [](recent_atom, const events::EventFilter&, std::uint64_t) { return std::vector<std::string>{}; },
          [](webhook_atom, const webhook_actor&) {},
      };
    }, s);
    events = o.events;
    feedback = spawn_feedback_actor(*sys, o);
    sched->run();
  }

  void answer_suppressions() {
    REQUIRE_FALSE(seen->suppress_promises.empty());
    caf::anon_send(suppressor, tick_atom::value);
    sched->run();
  }

  void answer_reports() {
    REQUIRE_FALSE(seen->report_promises.empty());
    caf::anon_send(events, tick_atom::value);
    sched->run();
  }

  void send(std::string content, std::vector<std::string> recipients) {
    auto in = std::make_shared<InboundReport>();
    in->peer = "192.0.2.9";
    in->recipients = std::move(recipients);
    in->content = std::move(content);
    auto s = seen;
    in->answer = [s](bool ok, std::string why) { s->answers.emplace_back(ok, std::move(why)); };
    caf::anon_send(feedback, report_atom::value, std::move(in));
    sched->run();
  }

  // A DSN about `address`, to the VERP address of kRcpt.
  void send_dsn(const std::string& address, const std::string& status = "5.1.1",
                const std::string& diagnostic = "550 5.1.1 user unknown") {
    const auto p = paths();
    send(dsn_for(address, status, diagnostic), {p.address(*p.for_sender("news@shop.test"), kRcpt)});
  }
};

const std::string kHistory = R"({"event":"delivered","id":")" + kRcpt +
                             R"(","message_id":"0194c3b2a1f0e9d8c7b6a5f4","recipient":"user@gone.test",)"
                             R"("tenant":"t1","campaign":"spring","received_at":1700000000000})";

}  // namespace

TEST_CASE("a DSN to a VERP address becomes an async_bounce, suppresses first, and is answered after the write") {
  Fixture f(kHistory);
  f.send_dsn("user@gone.test");
  CHECK(f.seen->history_asked == std::vector<std::string>{kRcpt});
  // The suppression is asked for before the event goes anywhere.
  REQUIRE(f.seen->suppressed.size() == 1);
  CHECK(f.seen->suppressed[0].tenant == "t1");
  CHECK(f.seen->suppressed[0].email == "user@gone.test");
  CHECK(f.seen->suppressed[0].reason == "hard_bounce");
  CHECK(f.seen->suppressed[0].source == "async_bounce");
  CHECK(f.seen->reports.empty());
  CHECK(f.seen->answers.empty());

  f.answer_suppressions();
  REQUIRE(f.seen->reports.size() == 1);
  REQUIRE(f.seen->reports[0].size() == 1);
  const auto& o = f.seen->reports[0][0];
  CHECK(o.kind == OutcomeKind::async_bounce);
  CHECK(o.rcpt_id == kRcpt);
  CHECK(o.tenant == "t1");
  CHECK(o.campaign == "spring");
  CHECK(o.category == "bad-mailbox");
  CHECK(o.at_ms > 0);
  CHECK(f.seen->answers.empty());  // the events are not written yet

  f.answer_reports();
  REQUIRE(f.seen->answers.size() == 1);
  CHECK(f.seen->answers[0].first);
}

TEST_CASE("a bounce that does not suppress goes straight to the events") {
  Fixture f(kHistory);
  // 4.x.x in a failed DSN: classified, but not a suppressing category.
  f.send_dsn("user@gone.test", "4.2.2", "452 4.2.2 mailbox full");
  CHECK(f.seen->suppressed.empty());
  REQUIRE(f.seen->reports.size() == 1);
  f.answer_reports();
  REQUIRE(f.seen->answers.size() == 1);
  CHECK(f.seen->answers[0].first);
}

TEST_CASE("a report about a message Volley does not know is answered without an event or a suppression") {
  Fixture f("");
  f.send_dsn("user@gone.test");
  CHECK(f.seen->history_asked.size() == 1);
  CHECK(f.seen->suppressed.empty());
  CHECK(f.seen->reports.empty());
  REQUIRE(f.seen->answers.size() == 1);
  CHECK(f.seen->answers[0].first);
}

TEST_CASE("a history lookup that fails asks the sender to retry") {
  Fixture f(kHistory, true);
  f.send_dsn("user@gone.test");
  CHECK(f.seen->suppressed.empty());
  CHECK(f.seen->reports.empty());
  REQUIRE(f.seen->answers.size() == 1);
  CHECK_FALSE(f.seen->answers[0].first);
}

TEST_CASE("a message that is not a report is answered at once") {
  Fixture f(kHistory);
  f.send("Subject: hello\n\njust a message\n", {"postmaster@bounce.volley.test"});
  CHECK(f.seen->history_asked.empty());
  REQUIRE(f.seen->answers.size() == 1);
  CHECK(f.seen->answers[0].first);
}
