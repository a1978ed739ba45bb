#include "actors/spool_actor.hpp"

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <caf/all.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "actors/messages.hpp"
#include "actors/recipient_status.hpp"
#include "core/util/ids.hpp"
#include "storage/rocksdb_spool.hpp"
#include "tests/unit/spool/open_spool.hpp"
#include "tests/unit/spool/spool_fixtures.hpp"

using namespace volley;
using spool::testing::body_for;
using spool::testing::make_message;
using spool::testing::TempDir;
using namespace std::chrono_literals;

namespace {

constexpr auto kDeadline = 30s;

// What the spool actor sent: routed batches (as router) and commit reports (as metrics).
struct Recorder {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<RecipientBatch> routed;  // one per spooled message
  std::size_t router_sends = 0;         // messages to the router (one per synced write)
  std::vector<std::size_t> commits;  // messages per synced write
  std::vector<double> commit_seconds;

  template <class Pred>
  bool wait(Pred pred) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, kDeadline, pred);
  }
};

caf::behavior recorder_actor(caf::event_based_actor*, std::shared_ptr<Recorder> rec) {
  return {
      [rec](enqueue_atom, SpooledMessages& spooled) {
        std::lock_guard<std::mutex> lock(rec->mu);
        ++rec->router_sends;
        for (auto& batch : spooled) rec->routed.push_back(std::move(batch));
        rec->cv.notify_all();
      },
      [rec](commit_atom, double seconds, std::size_t messages, std::size_t) {
        std::lock_guard<std::mutex> lock(rec->mu);
        rec->commits.push_back(messages);
        rec->commit_seconds.push_back(seconds);
        rec->cv.notify_all();
      },
  };
}

// The answers the actor gave, by request name.
struct Outcomes {
  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, InjectOutcome> by_name;
  std::size_t answered_twice = 0;  // (Catch2 assertions are for the test's own thread)

  bool wait_for_count(std::size_t n) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, kDeadline, [&] { return by_name.size() >= n; }) &&
           answered_twice == 0;
  }
  InjectOutcome get(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu);
    return by_name.at(name);
  }
};

// Holds the actor's thread inside a done() callback until the test opens it, so that the
// requests sent meanwhile are all waiting in the mailbox when the actor drains it next:
// batching becomes deterministic without any sleep.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false;
  bool open = false;

  void enter_and_wait() {
    std::unique_lock<std::mutex> lock(mu);
    entered = true;
    cv.notify_all();
    cv.wait_for(lock, kDeadline, [&] { return open; });
  }
  bool wait_entered() {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, kDeadline, [&] { return entered; });
  }
  void release() {
    std::lock_guard<std::mutex> lock(mu);
    open = true;
    cv.notify_all();
  }
};

InjectBatchPtr make_put(Outcomes& outcomes, const std::string& name,
                        std::vector<spool::NewMessage> messages, std::string key = "",
                        std::string response = "", Gate* gate = nullptr, std::string digest = "") {
  auto batch = std::make_shared<InjectBatch>();
  batch->messages = std::move(messages);
  batch->idempotency_key = std::move(key);
  batch->response_json = std::move(response);
  batch->request_digest = std::move(digest);
  batch->done = [&outcomes, name, gate](InjectOutcome o) {
    {
      std::lock_guard<std::mutex> lock(outcomes.mu);
      if (!outcomes.by_name.emplace(name, std::move(o)).second) ++outcomes.answered_twice;
      outcomes.cv.notify_all();
    }
    if (gate) gate->enter_and_wait();
  };
  return batch;
}

std::vector<spool::NewMessage> one(spool::NewMessage m) {
  std::vector<spool::NewMessage> v;
  v.push_back(std::move(m));
  return v;
}

const auto open_spool = spool::testing::open_spool_or_fail;

struct Fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> system;
  std::shared_ptr<Recorder> rec = std::make_shared<Recorder>();
  caf::actor recorder;

  Fixture() {
    cfg.set("scheduler.max-threads", 2);
    system = std::make_unique<caf::actor_system>(cfg);
    recorder = system->spawn(recorder_actor, rec);
  }
  ~Fixture() {
    caf::anon_send_exit(recorder, caf::exit_reason::user_shutdown);
    recorder = nullptr;
    system.reset();  // waits for every actor, the spool actor included
  }

  spool_actor spawn(const std::string& path) {
    return spawn_spool_actor(*system, open_spool(path), recorder, caf::actor_cast<metrics_actor>(recorder));
  }

  // Stops the actor and waits until it has quit (and so closed its spool).
  void stop(spool_actor& a) {
    caf::scoped_actor self{*system};
    caf::anon_send(a, stop_atom::value);
    self->wait_for(a);
    a = nullptr;
  }
};

}  // namespace

TEST_CASE("spool actor: concurrent puts are committed in few group writes", "[spool][actor]") {
  TempDir dir;
  Fixture f;
  auto actor = f.spawn(dir.path());
  Outcomes outcomes;
  Gate gate;

  caf::anon_send(actor, put_atom::value,
                 make_put(outcomes, "first", one(make_message("first", 1)), "", "", &gate));
  REQUIRE(gate.wait_entered());  // the actor is busy answering "first"

  // 4 threads x 50 puts; the body pointers let us check later that no body was copied.
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  std::mutex ptr_mu;
  std::map<std::string, const char*> body_ptrs;
  std::map<std::string, std::size_t> rcpt_counts;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string id = "t" + std::to_string(t) + "m" + std::to_string(i);
        auto m = make_message(id, 1 + static_cast<std::uint32_t>(i % 3), 1000);
        auto put = make_put(outcomes, id, one(std::move(m)));
        {
          std::lock_guard<std::mutex> lock(ptr_mu);
          body_ptrs[id] = put->messages[0].wire_data.data();
          rcpt_counts[id] = put->messages[0].recipients.size();
        }
        caf::anon_send(actor, put_atom::value, std::move(put));
      }
    });
  }
  for (auto& t : threads) t.join();
  gate.release();

  REQUIRE(outcomes.wait_for_count(1 + kThreads * kPerThread));
  for (const auto& [name, o] : outcomes.by_name) {
    INFO(name << ": " << o.error);
    CHECK(o.kind == InjectOutcome::Kind::committed);
  }

  // All 200 were waiting when the actor drained its mailbox: one write took them all.
  REQUIRE(f.rec->wait([&] { return f.rec->routed.size() == 1 + kThreads * kPerThread; }));
  std::lock_guard<std::mutex> lock(f.rec->mu);
  CHECK(f.rec->commits == std::vector<std::size_t>{1, kThreads * kPerThread});
  CHECK(f.rec->router_sends == 2);  // one hand-off to the router per write, not per message
  for (double seconds : f.rec->commit_seconds) CHECK(seconds >= 0);

  std::set<std::string> seen;
  for (const auto& batch : f.rec->routed) {
    REQUIRE_FALSE(batch.empty());
    const QueuedMessagePtr& qm = batch.front().message;
    const std::string& id = qm->id;
    seen.insert(id);
    for (const auto& r : batch) {
      CHECK(r.message == qm);  // one shared message per batch
      CHECK(r.rcpt.message_id == id);
      CHECK(r.body == batch.front().body);  // and one shared body
    }
    REQUIRE(batch.front().body);
    CHECK(qm->body() == batch.front().body);  // found by other domains' recipients too
    if (id == "first") continue;
    CHECK(batch.size() == rcpt_counts.at(id));
    CHECK(*batch.front().body == body_for(id, 1000));
    CHECK(batch.front().body->data() == body_ptrs.at(id));  // moved, never copied
  }
  CHECK(seen.size() == 1 + kThreads * kPerThread);
  f.stop(actor);
}

TEST_CASE("spool actor: one write takes at most 512 messages", "[spool][actor]") {
  TempDir dir;
  Fixture f;
  auto actor = f.spawn(dir.path());
  Outcomes outcomes;
  Gate gate;
  caf::anon_send(actor, put_atom::value,
                 make_put(outcomes, "hold", one(make_message("hold", 1)), "", "", &gate));
  REQUIRE(gate.wait_entered());
  for (int i = 0; i < 600; ++i) {
    const std::string id = "m" + std::to_string(i);
    caf::anon_send(actor, put_atom::value, make_put(outcomes, id, one(make_message(id, 1, 64))));
  }
  gate.release();
  REQUIRE(outcomes.wait_for_count(601));
  REQUIRE(f.rec->wait([&] { return f.rec->commits.size() == 3; }));
  {
    std::lock_guard<std::mutex> lock(f.rec->mu);
    CHECK(f.rec->commits == std::vector<std::size_t>{1, 512, 88});
  }
  f.stop(actor);
}

TEST_CASE("spool actor: idempotency keys replay the first answer", "[spool][actor]") {
  TempDir dir;
  Fixture f;
  auto actor = f.spawn(dir.path());
  Outcomes outcomes;

  caf::anon_send(actor, put_atom::value,
                 make_put(outcomes, "a", one(make_message("a", 1)), "k1", R"({"ids":["a"]})"));
  REQUIRE(outcomes.wait_for_count(1));
  CHECK(outcomes.get("a").kind == InjectOutcome::Kind::committed);

  caf::anon_send(actor, put_atom::value,
                 make_put(outcomes, "b", one(make_message("b", 1)), "k1", R"({"ids":["b"]})"));
  REQUIRE(outcomes.wait_for_count(2));
  CHECK(outcomes.get("b").kind == InjectOutcome::Kind::replayed);
  CHECK(outcomes.get("b").replay_json == R"({"ids":["a"]})");

  // Two requests with one key in the same write: the second repeats the first's answer.
  Gate gate;
  caf::anon_send(actor, put_atom::value,
                 make_put(outcomes, "hold", one(make_message("hold", 1)), "", "", &gate));
  REQUIRE(gate.wait_entered());
  caf::anon_send(actor, put_atom::value,
                 make_put(outcomes, "c", one(make_message("c", 1)), "k2", R"({"ids":["c"]})"));
  caf::anon_send(actor, put_atom::value,
                 make_put(outcomes, "d", one(make_message("d", 1)), "k2", R"({"ids":["d"]})"));
  caf::anon_send(actor, put_atom::value, make_put(outcomes, "e", one(make_message("e", 2))));
  gate.release();
  REQUIRE(outcomes.wait_for_count(6));
  CHECK(outcomes.get("c").kind == InjectOutcome::Kind::committed);
  CHECK(outcomes.get("d").kind == InjectOutcome::Kind::replayed);
  CHECK(outcomes.get("d").replay_json == R"({"ids":["c"]})");
  CHECK(outcomes.get("e").kind == InjectOutcome::Kind::committed);

  REQUIRE(f.rec->wait([&] { return f.rec->routed.size() == 4; }));
  {
    std::lock_guard<std::mutex> lock(f.rec->mu);
    std::set<std::string> ids;
    for (const auto& b : f.rec->routed) ids.insert(b.front().message->id);
    CHECK(ids == std::set<std::string>{"a", "hold", "c", "e"});  // b and d wrote nothing
    CHECK(f.rec->commits == std::vector<std::size_t>{1, 1, 2});
  }
  f.stop(actor);

  // The key outlives a restart.
  actor = f.spawn(dir.path());
  caf::anon_send(actor, put_atom::value,
                 make_put(outcomes, "f", one(make_message("f", 1)), "k2", R"({"ids":["f"]})"));
  REQUIRE(outcomes.wait_for_count(7));
  CHECK(outcomes.get("f").kind == InjectOutcome::Kind::replayed);
  CHECK(outcomes.get("f").replay_json == R"({"ids":["c"]})");
  f.stop(actor);
}

TEST_CASE("spool actor: a key repeated with another request is refused, not answered", "[spool][actor]") {
  TempDir dir;
  Fixture f;
  auto actor = f.spawn(dir.path());
  Outcomes outcomes;
  auto put = [&](const std::string& name, const std::string& key, const std::string& digest, Gate* gate = nullptr) {
    caf::anon_send(actor, put_atom::value,
                   make_put(outcomes, name, one(make_message(name, 1)), key, R"({"id":")" + name + "\"}", gate, digest));
  };

  put("a", "k1", "body-1");
  REQUIRE(outcomes.wait_for_count(1));
  CHECK(outcomes.get("a").kind == InjectOutcome::Kind::committed);
  put("same", "k1", "body-1");
  put("other", "k1", "body-2");
  REQUIRE(outcomes.wait_for_count(3));
  CHECK(outcomes.get("same").kind == InjectOutcome::Kind::replayed);
  CHECK(outcomes.get("same").replay_json == R"({"id":"a"})");
  CHECK(outcomes.get("other").kind == InjectOutcome::Kind::reused);
  CHECK(outcomes.get("other").replay_json.empty());

  // In one write: the first request with the key is written, the others compared with it.
  Gate gate;
  put("hold", "", "", &gate);
  REQUIRE(gate.wait_entered());
  put("c", "k2", "body-c");
  put("c-again", "k2", "body-c");
  put("d", "k2", "body-d");
  gate.release();
  REQUIRE(outcomes.wait_for_count(7));
  CHECK(outcomes.get("c").kind == InjectOutcome::Kind::committed);
  CHECK(outcomes.get("c-again").kind == InjectOutcome::Kind::replayed);
  CHECK(outcomes.get("c-again").replay_json == R"({"id":"c"})");
  CHECK(outcomes.get("d").kind == InjectOutcome::Kind::reused);
  f.stop(actor);

  // Entries from before digests have none: a repeat is answered as before.
  {
    auto s = open_spool(dir.path());
    spool::CommitBatch old;
    old.idempotency = {{"k-old", R"({"id":"old"})"}};
    old.now_ms = now_unix_ms();
    std::string error;
    REQUIRE(s->commit(old, &error));
  }
  actor = f.spawn(dir.path());
  put("after", "k-old", "body-x");
  put("later", "k2", "body-d");  // and digests outlive a restart
  REQUIRE(outcomes.wait_for_count(9));
  CHECK(outcomes.get("after").kind == InjectOutcome::Kind::replayed);
  CHECK(outcomes.get("after").replay_json == R"({"id":"old"})");
  CHECK(outcomes.get("later").kind == InjectOutcome::Kind::reused);
  REQUIRE(f.rec->wait([&] { return f.rec->routed.size() >= 3; }));
  {
    std::lock_guard<std::mutex> lock(f.rec->mu);
    std::set<std::string> ids;
    for (const auto& b : f.rec->routed) ids.insert(b.front().message->id);
    CHECK(ids == std::set<std::string>{"a", "hold", "c"});  // nothing else was written
  }
  f.stop(actor);
}

TEST_CASE("spool actor: a failed write fails every request in it", "[spool][actor]") {
  TempDir dir;
  Fixture f;
  auto actor = f.spawn(dir.path());
  Outcomes outcomes;
  Gate gate;

  caf::anon_send(actor, put_atom::value,
                 make_put(outcomes, "hold", one(make_message("hold", 1)), "", "", &gate));
  REQUIRE(gate.wait_entered());
  auto bad = make_message("bad", 1);
  bad.recipients[0].message_id = "someone-else";  // the spool refuses the whole write
  caf::anon_send(actor, put_atom::value, make_put(outcomes, "bad", one(std::move(bad)), "k", "{}"));
  caf::anon_send(actor, put_atom::value,
                 make_put(outcomes, "good", one(make_message("good", 1)), "k", "{}"));
  gate.release();
  REQUIRE(outcomes.wait_for_count(3));
  CHECK(outcomes.get("bad").kind == InjectOutcome::Kind::failed);
  CHECK_THAT(outcomes.get("bad").error, Catch::Contains("does not belong"));
  CHECK(outcomes.get("good").kind == InjectOutcome::Kind::failed);  // same key, same fate

  // The key was not stored: a retry is a fresh request.
  caf::anon_send(actor, put_atom::value,
                 make_put(outcomes, "retry", one(make_message("retry", 1)), "k", "{}"));
  REQUIRE(outcomes.wait_for_count(4));
  CHECK(outcomes.get("retry").kind == InjectOutcome::Kind::committed);
  f.stop(actor);
}

TEST_CASE("spool actor: puts that arrive after stop are failed, not lost", "[spool][actor]") {
  TempDir dir;
  Fixture f;
  auto actor = f.spawn(dir.path());
  Outcomes outcomes;
  Gate gate;
  caf::anon_send(actor, put_atom::value,
                 make_put(outcomes, "hold", one(make_message("hold", 1)), "", "", &gate));
  REQUIRE(gate.wait_entered());
  caf::anon_send(actor, stop_atom::value);
  caf::anon_send(actor, put_atom::value, make_put(outcomes, "late", one(make_message("late", 1))));
  gate.release();
  REQUIRE(outcomes.wait_for_count(2));
  CHECK(outcomes.get("late").kind == InjectOutcome::Kind::failed);
  caf::scoped_actor self{*f.system};
  self->wait_for(actor);
}

TEST_CASE("spool actor: recovery re-queues what is left after a restart", "[spool][actor]") {
  TempDir dir;
  Fixture f;
  Outcomes outcomes;
  spool::RecipientRecord deferred = make_message("m1", 3).recipients[1];
  deferred.state = spool::RecipientState::deferred;
  deferred.attempts = 1;
  deferred.next_attempt_ms = 123456;
  deferred.last_reply = "451 4.7.1 greylisted";
  {
    auto actor = f.spawn(dir.path());
    std::vector<spool::NewMessage> msgs;
    msgs.push_back(make_message("m1", 3, 70000));
    msgs.push_back(make_message("m2", 1));
    msgs.push_back(make_message("m3", 2));
    caf::anon_send(actor, put_atom::value, make_put(outcomes, "put", std::move(msgs)));
    REQUIRE(outcomes.wait_for_count(1));
    REQUIRE(outcomes.get("put").kind == InjectOutcome::Kind::committed);

    caf::anon_send(actor, done_atom::value, SpoolReleases{{"m2-0", "m2", true, {}}, {"m1-0", "m1", false, {}}});
    caf::anon_send(actor, defer_atom::value, deferred);
    // m3's recipients are both final, but "the process dies" before the message is deleted.
    caf::anon_send(actor, done_atom::value, SpoolReleases{{"m3-0", "m3", false, {}}, {"m3-1", "m3", false, {}}});
    f.stop(actor);
  }
  {
    // An idempotency key from two days ago, to be expired by recovery.
    auto s = open_spool(dir.path());
    spool::CommitBatch stale;
    stale.idempotency = {{"stale", "{}"}, {"fresh", "{}"}};
    stale.now_ms = now_unix_ms() - 48 * 3600 * 1000;
    std::string error;
    REQUIRE(s->commit(stale, &error));
    stale.idempotency = {{"fresh", "{}"}};
    stale.now_ms = now_unix_ms();
    REQUIRE(s->commit(stale, &error));
  }
  {
    std::lock_guard<std::mutex> lock(f.rec->mu);
    f.rec->routed.clear();
  }
  auto actor = f.spawn(dir.path());
  caf::scoped_actor self{*f.system};
  std::size_t recovered = 0;
  self->request(actor, caf::infinite, recover_atom::value)
      .receive([&](std::size_t n) { recovered = n; },
               [&](caf::error& e) { FAIL("recover failed: " << f.system->render(e)); });
  CHECK(recovered == 2);

  REQUIRE(f.rec->wait([&] { return f.rec->routed.size() == 1; }));
  {
    std::lock_guard<std::mutex> lock(f.rec->mu);
    const RecipientBatch& batch = f.rec->routed.front();
    REQUIRE(batch.size() == 2);
    const auto expect = make_message("m1", 3, 70000);
    CHECK(batch[0].message == batch[1].message);
    const QueuedMessage& qm = *batch[0].message;
    CHECK(qm.id == expect.message.id);
    CHECK(qm.envelope_from == expect.message.envelope_from);
    CHECK(qm.tenant == expect.message.tenant);
    CHECK(qm.campaign == expect.message.campaign);
    CHECK(qm.received_at_ms == expect.message.received_at_ms);
    CHECK(qm.message_size == expect.message.message_size);
    CHECK(qm.body_8bit == expect.message.body_8bit);
    CHECK(qm.needs_smtputf8 == expect.message.needs_smtputf8);
    // Recovery reads no body: delivery asks for it when the recipients are due.
    CHECK_FALSE(batch[0].body);
    CHECK_FALSE(batch[0].message->body());
    std::map<std::string, spool::RecipientRecord> rcpts;
    for (const auto& r : batch) rcpts[r.rcpt.id] = r.rcpt;
    CHECK(rcpts.at("m1-1") == deferred);
    CHECK(rcpts.at("m1-2") == expect.recipients[2]);
  }
  {
    const auto expect = make_message("m1", 3, 70000);
    self->request(actor, caf::infinite, load_atom::value, std::vector<std::string>{"m1", "m2", "nope"})
        .receive(
            [&](const LoadedBodies& bodies) {
              REQUIRE(bodies.size() == 3);
              REQUIRE(bodies[0]);
              CHECK(*bodies[0] == expect.wire_data);
              CHECK_FALSE(bodies[1]);  // m2 was delivered and deleted
              CHECK_FALSE(bodies[2]);
            },
            [&](caf::error& e) { FAIL("load failed: " << f.system->render(e)); });
    // A recipient still spooled has its status read from its record.
    self->request(actor, caf::infinite, status_atom::value, std::string("m1-1"))
        .receive(
            [&](const RecipientStatuses& found) {
              REQUIRE(found.size() == 1);
              CHECK(found[0].tenant == expect.message.tenant);
              const auto j = nlohmann::json::parse(found[0].render());
              CHECK(j["status"] == "deferred");
              CHECK(j["attempts"] == deferred.attempts);
              CHECK(j["last_reply"] == deferred.last_reply);
              CHECK(j["next_attempt_at"] == deferred.next_attempt_ms);
            },
            [&](caf::error& e) { FAIL("status failed: " << f.system->render(e)); });
    self->request(actor, caf::infinite, status_atom::value, std::string("m2-0"))
        .receive([&](const RecipientStatuses& found) { CHECK(found.empty()); },
                 [&](caf::error& e) { FAIL("status failed: " << f.system->render(e)); });
  }
  f.stop(actor);

  auto s = open_spool(dir.path());
  std::vector<std::string> left;
  s->for_each_message([&](spool::MessageRecord&& m) { left.push_back(m.id); });
  CHECK(left == std::vector<std::string>{"m1"});  // m2 finished, m3 was an orphan
  CHECK_FALSE(s->load_body("m3"));
  CHECK_FALSE(s->find_idempotent("stale", 0));
  CHECK(s->find_idempotent("fresh", 0));
}

namespace {

// The events actor's line for a final outcome, as it hands it to the spool.
std::string final_event(const std::string& kind, const std::string& rcpt_id, const std::string& message_id,
                        const std::string& recipient, const std::string& tenant) {
  return nlohmann::json{{"event", kind},           {"id", rcpt_id},   {"message_id", message_id},
                        {"recipient", recipient},  {"tenant", tenant}, {"at", 1700000001000},
                        {"attempt", 1},            {"reply", kind == "delivered" ? "250 ok" : "550 5.1.1 no"}}
      .dump();
}

RecipientStatuses ask_status(caf::actor_system& sys, const spool_actor& actor, const std::string& id) {
  caf::scoped_actor self{sys};
  RecipientStatuses out;
  self->request(actor, caf::infinite, status_atom::value, id)
      .receive([&](RecipientStatuses& found) { out = std::move(found); },
               [&](caf::error& e) { FAIL("status failed: " << sys.render(e)); });
  return out;
}

std::string ask_history(caf::actor_system& sys, const spool_actor& actor, const std::string& rcpt_id) {
  caf::scoped_actor self{sys};
  std::string out;
  self->request(actor, caf::infinite, history_atom::value, rcpt_id)
      .receive([&](std::string& entry) { out = std::move(entry); },
               [&](caf::error& e) { FAIL("history failed: " << sys.render(e)); });
  return out;
}

}  // namespace

TEST_CASE("spool actor: final statuses are kept in the history and outlive a restart", "[spool][actor]") {
  TempDir dir;
  Fixture f;
  Outcomes outcomes;
  // Recipient 3 was suppressed at injection: never spooled, only its final event is kept.
  auto m = make_message("m1", 3);
  m.message.tenant = "acme";
  const auto address = [&m](int i) { return m.recipients.at(static_cast<std::size_t>(i)).recipient; };
  auto actor = f.spawn(dir.path());
  caf::anon_send(actor, put_atom::value, make_put(outcomes, "put", one(m)));
  REQUIRE(outcomes.wait_for_count(1));
  REQUIRE(outcomes.get("put").kind == InjectOutcome::Kind::committed);
  caf::anon_send(actor, done_atom::value,
                 SpoolReleases{{"m1-0", "m1", false, final_event("delivered", "m1-0", "m1", address(0), "acme")},
                               {"m1-1", "m1", false, final_event("bounced", "m1-1", "m1", address(1), "acme")},
                               {"m1-3", "m1", false,
                                final_event("suppressed", "m1-3", "m1", "gone@example.org", "acme"), false}});

  auto check = [&] {
    const auto delivered = ask_status(*f.system, actor, "m1-0");
    REQUIRE(delivered.size() == 1);
    CHECK(delivered[0].status == "delivered");
    CHECK(delivered[0].tenant == "acme");
    CHECK(delivered[0].reply == "250 ok");
    const auto suppressed = ask_status(*f.system, actor, "m1-3");
    REQUIRE(suppressed.size() == 1);
    CHECK(suppressed[0].status == "suppressed");
    CHECK(suppressed[0].recipient == "gone@example.org");
    const auto queued = ask_status(*f.system, actor, "m1-2");
    REQUIRE(queued.size() == 1);
    CHECK(queued[0].status == "queued");
    CHECK(queued[0].tenant == "acme");  // from its message record

    // A message id: every recipient, open or final, in index order.
    const auto all = ask_status(*f.system, actor, "m1");
    REQUIRE(all.size() == 4);
    CHECK(all[0].id == "m1-0");
    CHECK(all[1].status == "bounced");
    CHECK(all[2].status == "queued");
    CHECK(all[3].status == "suppressed");
    CHECK(ask_status(*f.system, actor, "m2").empty());
    CHECK(ask_status(*f.system, actor, "m1-4").empty());

    // Feedback ties reports to delivered mail only: a bounced or suppressed recipient is no match.
    CHECK(nlohmann::json::parse(ask_history(*f.system, actor, "m1-0"))["event"] == "delivered");
    CHECK(ask_history(*f.system, actor, "m1-1").empty());
    CHECK(ask_history(*f.system, actor, "m1-3").empty());
  };
  check();
  f.stop(actor);
  actor = f.spawn(dir.path());
  check();
  f.stop(actor);
}
