// The webhook actor against a real HTTP receiver on loopback (HttpServer on its own
// thread), with its queue on disk: order, batching, signatures, outages, retries, restarts and
// filters. Every wait is bounded; none stands in for synchronisation.
#include "tests/support/http_connection.hpp"  // first: <utility> before Boost.Asio

#include "actors/webhook_actor.hpp"

#include <algorithm>
#include <condition_variable>
#include <ctime>
#include <mutex>
#include <optional>

#include <caf/all.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "actors/messages.hpp"
#include "net/http_server.hpp"
#include "core/events/webhook_signature.hpp"
#include "tests/unit/spool/spool_fixtures.hpp"

using namespace volley;
using volley::spool::testing::TempDir;
using volley::test::IoThreads;
using namespace std::chrono_literals;

namespace {

constexpr auto kDeadline = 30s;
constexpr const char* kSecret = "whsec_test";

struct Post {
  std::string target;
  std::string body;
  std::string timestamp, signature, content_type, user_agent;
  int answered = 0;
};

// A webhook receiver: records every POST and answers 200, or 500 to the first `fail_first`.
class Receiver {
 public:
  explicit Receiver(std::uint16_t port, int fail_first = 0) : fail_first_(fail_first) {
    server_.emplace(io_.io, [this](HttpRequest&& req, Responder respond) {
      Post p;
      p.target = req.target;
      p.body = req.body;
      p.timestamp = std::string(req.header("x-volley-timestamp").value_or(""));
      p.signature = std::string(req.header("x-volley-signature").value_or(""));
      p.content_type = std::string(req.header("content-type").value_or(""));
      p.user_agent = std::string(req.header("user-agent").value_or(""));
      {
        std::lock_guard<std::mutex> lock(mu_);
        p.answered = static_cast<int>(posts_.size()) < fail_first_ ? 500 : 200;
        posts_.push_back(p);
        cv_.notify_all();
      }
      respond(HttpResponse{p.answered, "application/json", "{}", {}, {}});
    });
    server_->start({"127.0.0.1", port});
  }
  ~Receiver() {
    server_->stop();
    io_.join();
  }

  std::vector<Post> posts() {
    std::lock_guard<std::mutex> lock(mu_);
    return posts_;
  }

  // The "id" of every event in POSTs answered 200 to `target`, in arrival order.
  std::vector<std::string> delivered(const std::string& target = "/hook") {
    std::lock_guard<std::mutex> lock(mu_);
    return delivered_locked(target);
  }

  bool wait_delivered(std::size_t n, const std::string& target = "/hook") {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kDeadline, [&] { return delivered_locked(target).size() >= n; });
  }

 private:
  std::vector<std::string> delivered_locked(const std::string& target) {
    std::vector<std::string> ids;
    for (const auto& p : posts_) {
      if (p.answered != 200 || p.target != target) continue;
      const auto body = nlohmann::json::parse(p.body);
      for (const auto& e : body.at("events")) ids.push_back(e.at("id"));
    }
    return ids;
  }

  IoThreads io_;
  std::optional<HttpServer> server_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Post> posts_;
  int fail_first_ = 0;
};

// A loopback port with nothing listening on it (until a Receiver is started there).
std::uint16_t free_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

struct Report {
  std::string endpoint, result;
  std::uint64_t events = 0, depth = 0;
};

// What the actor sent to metrics.
struct Metrics {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Report> reports;

  template <class Pred>
  bool wait(Pred pred) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, kDeadline, [&] { return pred(reports); });
  }
  std::vector<Report> all() {
    std::lock_guard<std::mutex> lock(mu);
    return reports;
  }
};

caf::behavior metrics_recorder(caf::event_based_actor*, std::shared_ptr<Metrics> m) {
  return {[m](webhook_atom, const std::string& endpoint, const std::string& result,
              std::uint64_t events, std::uint64_t depth) {
    std::lock_guard<std::mutex> lock(m->mu);
    m->reports.push_back({endpoint, result, events, depth});
    m->cv.notify_all();
  }};
}

std::size_t count(const std::vector<Report>& rs, const std::string& result) {
  std::size_t n = 0;
  for (const auto& r : rs) n += r.result == result;
  return n;
}

WebhookEndpoint endpoint(std::uint16_t port, std::string name = "main", std::string path = "/hook") {
  WebhookEndpoint ep;
  ep.name = std::move(name);
  ep.url = "http://127.0.0.1:" + std::to_string(port) + path;
  ep.secret = kSecret;
  ep.timeout = 5s;
  ep.retry_first = 50ms;
  ep.retry_max = 200ms;
  return ep;
}

WebhookEvents make_events(int from, int to, std::string type = "delivered", std::string tenant = "t1") {
  WebhookEvents out;
  for (int i = from; i < to; ++i) {
    nlohmann::json j = {{"id", "e" + std::to_string(i)}, {"type", type}, {"tenant", tenant}};
    out.push_back({type, tenant, j.dump()});
  }
  return out;
}

std::vector<std::string> ids(int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i < to; ++i) out.push_back("e" + std::to_string(i));
  return out;
}

// Everything one test needs, torn down in a safe order: the actor is told to exit before the
// client's io_context is joined, and both before the actor system goes.
struct Fixture {
  TempDir dir;
  caf::actor_system_config cfg;
  std::optional<caf::actor_system> sys;
  IoThreads client_io;
  std::shared_ptr<Metrics> metrics = std::make_shared<Metrics>();
  volley::metrics_actor metrics_handle;
  webhook_actor webhook;

  Fixture() : sys(std::in_place, cfg) { metrics_handle = caf::actor_cast<volley::metrics_actor>(sys->spawn(metrics_recorder, metrics)); }
  ~Fixture() {
    if (webhook) caf::anon_send_exit(webhook, caf::exit_reason::user_shutdown);
    webhook = nullptr;
    caf::anon_send_exit(metrics_handle, caf::exit_reason::user_shutdown);
    metrics_handle = nullptr;
    client_io.join();
  }

  void start(std::vector<WebhookEndpoint> endpoints) {
    WebhookOptions o;
    o.queue_path = dir.sub("webhooks");
    o.endpoints = std::move(endpoints);
    webhook = spawn_webhook_actor(*sys, client_io.io, std::move(o), metrics_handle);
  }

  bool stop() {
    bool stopped = false;
    caf::scoped_actor self{*sys};
    self->request(webhook, caf::infinite, stop_atom::value)
        .receive([&](bool ok) { stopped = ok; }, [&](caf::error&) {});
    webhook = nullptr;
    return stopped;
  }

  void send(WebhookEvents events) { caf::anon_send(webhook, event_atom::value, std::move(events)); }
};

}  // namespace

TEST_CASE("events arrive in order, in batches of max_batch, signed and labelled") {
  Fixture f;
  const auto port = free_port();
  Receiver receiver(port);
  auto ep = endpoint(port);
  ep.max_batch = 10;
  f.start({ep});
  f.send(make_events(0, 35));
  REQUIRE(receiver.wait_delivered(35));
  f.send(make_events(35, 40));
  REQUIRE(receiver.wait_delivered(40));
  CHECK(receiver.delivered() == ids(0, 40));

  const auto posts = receiver.posts();
  // All 35 were queued in one append before the first POST: 10, 10, 10, 5; then the last 5.
  std::vector<std::size_t> sizes;
  for (const auto& p : posts) {
    sizes.push_back(nlohmann::json::parse(p.body).at("events").size());
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    CHECK(events::verify(kSecret, p.body, p.timestamp, p.signature, now));
    CHECK_FALSE(events::verify("wrong", p.body, p.timestamp, p.signature, now));
    CHECK(p.content_type == "application/json");
    CHECK(p.user_agent == "Volley-Webhook/1");
    CHECK(p.body.rfind(R"({"events":[{"id":)", 0) == 0);
  }
  CHECK(sizes == std::vector<std::size_t>{10, 10, 10, 5, 5});

  REQUIRE(f.metrics->wait([](auto& rs) { return count(rs, "delivered") == 5; }));
  const auto reports = f.metrics->all();
  REQUIRE(!reports.empty());
  CHECK(reports.front().result.empty());  // start-up: the recovered depth
  CHECK(reports.front().depth == 0);
  CHECK(reports.back().result == "delivered");
  CHECK(reports.back().events == 5);
  CHECK(reports.back().depth == 0);
  CHECK(f.stop());
}

TEST_CASE("events sent while the receiver is down all arrive, exactly once, when it is up") {
  Fixture f;
  const auto port = free_port();  // nothing listens there yet
  f.start({endpoint(port)});
  for (int i = 0; i < 500; i += 10) f.send(make_events(i, i + 10));
  // Every event is queued once a report says so (the depth after a failed POST).
  REQUIRE(f.metrics->wait([](auto& rs) { return !rs.empty() && rs.back().result == "failed" && rs.back().depth == 500; }));

  Receiver receiver(port);
  REQUIRE(receiver.wait_delivered(500));
  REQUIRE(f.metrics->wait([](auto& rs) { return rs.back().result == "delivered" && rs.back().depth == 0; }));
  CHECK(receiver.delivered() == ids(0, 500));
  CHECK(receiver.posts().size() == 5);  // 100 per POST, nothing sent twice
  CHECK(f.stop());
}

TEST_CASE("answers other than 2xx are retried until the receiver takes the events") {
  Fixture f;
  const auto port = free_port();
  Receiver receiver(port, /*fail_first=*/3);
  f.start({endpoint(port)});
  f.send(make_events(0, 20));
  REQUIRE(receiver.wait_delivered(20));
  f.send(make_events(20, 25));
  REQUIRE(receiver.wait_delivered(25));
  CHECK(receiver.delivered() == ids(0, 25));
  const auto posts = receiver.posts();
  REQUIRE(posts.size() >= 4);
  for (int i = 0; i < 3; ++i) CHECK(posts[i].answered == 500);
  REQUIRE(f.metrics->wait([](auto& rs) { return count(rs, "delivered") >= 2 && rs.back().depth == 0; }));
  CHECK(count(f.metrics->all(), "failed") == 3);
  CHECK(f.stop());
}

TEST_CASE("queued events survive a restart of the actor") {
  Fixture f;
  const auto port = free_port();
  f.start({endpoint(port)});
  f.send(make_events(0, 30));
  REQUIRE(f.metrics->wait([](auto& rs) { return !rs.empty() && rs.back().result == "failed" && rs.back().depth == 30; }));
  REQUIRE(f.stop());

  f.start({endpoint(port)});  // same queue path
  // The new actor's first report: the depth it found in the queue.
  REQUIRE(f.metrics->wait([](auto& rs) { return count(rs, "") == 2; }));
  const auto reports = f.metrics->all();
  const auto restart = std::find_if(reports.rbegin(), reports.rend(), [](auto& r) { return r.result.empty(); });
  CHECK(restart->depth == 30);
  f.send(make_events(30, 35));
  Receiver receiver(port);
  REQUIRE(receiver.wait_delivered(35));
  CHECK(receiver.delivered() == ids(0, 35));
  CHECK(f.stop());
}

TEST_CASE("each endpoint gets only the event types and tenants it asked for") {
  Fixture f;
  const auto port = free_port();
  Receiver receiver(port);
  auto all = endpoint(port, "all", "/all");
  auto bounces = endpoint(port, "bounces", "/bounces");
  bounces.events = {"bounced", "complaint"};
  auto tenant_a = endpoint(port, "tenant-a", "/a");
  tenant_a.tenants = {"a"};
  auto a_delivered = endpoint(port, "a-delivered", "/a-delivered");
  a_delivered.tenants = {"a"};
  a_delivered.events = {"delivered"};
  f.start({all, bounces, tenant_a, a_delivered});

  WebhookEvents events;
  for (auto batch : {make_events(0, 2, "delivered", "a"), make_events(2, 4, "bounced", "b"),
                     make_events(4, 5, "complaint", "a"), make_events(5, 6, "delivered", "b"),
                     make_events(6, 7, "deferred", "a")}) {
    events.insert(events.end(), batch.begin(), batch.end());
  }
  f.send(events);
  REQUIRE(receiver.wait_delivered(7, "/all"));
  REQUIRE(receiver.wait_delivered(3, "/bounces"));
  REQUIRE(receiver.wait_delivered(4, "/a"));
  REQUIRE(receiver.wait_delivered(2, "/a-delivered"));
  CHECK(receiver.delivered("/all") == ids(0, 7));
  CHECK(receiver.delivered("/bounces") == std::vector<std::string>{"e2", "e3", "e4"});
  CHECK(receiver.delivered("/a") == std::vector<std::string>{"e0", "e1", "e4", "e6"});
  CHECK(receiver.delivered("/a-delivered") == ids(0, 2));
  CHECK(f.stop());
}

TEST_CASE("a reload adds, removes and renames endpoints, and a removed one's pending events wait on disk for it") {
  Fixture f;
  const auto port = free_port();
  const auto late_port = free_port();  // "late" has no receiver until the end
  Receiver receiver(port);
  f.start({endpoint(port, "a", "/a"), endpoint(late_port, "late", "/late")});
  auto reload = [&](std::vector<WebhookEndpoint> endpoints) {
    std::string refused = "no answer";
    caf::scoped_actor self{*f.sys};
    self->request(f.webhook, kDeadline, reload_atom::value, std::move(endpoints))
        .receive([&](const std::string& why) { refused = why; }, [&](caf::error&) {});
    return refused;
  };
  f.send(make_events(0, 3));
  REQUIRE(receiver.wait_delivered(3, "/a"));
  REQUIRE(f.metrics->wait([](auto& rs) {
    return std::any_of(rs.begin(), rs.end(), [](auto& r) { return r.endpoint == "late" && r.result == "failed" && r.depth == 3; });
  }));

  // b added (before a: the order does not matter); late removed with its 3 events pending.
  CHECK(reload({endpoint(port, "b", "/b"), endpoint(port, "a", "/a")}).empty());
  f.send(make_events(3, 5));
  REQUIRE(receiver.wait_delivered(2, "/b"));
  REQUIRE(receiver.wait_delivered(5, "/a"));
  CHECK(receiver.delivered("/b") == ids(3, 5));

  // a renamed c: a gets nothing more, c gets what comes from now on.
  CHECK(reload({endpoint(port, "b", "/b"), endpoint(port, "c", "/c")}).empty());
  f.send(make_events(5, 6));
  REQUIRE(receiver.wait_delivered(1, "/c"));
  REQUIRE(receiver.wait_delivered(3, "/b"));
  CHECK(receiver.delivered("/a") == ids(0, 5));
  CHECK(receiver.delivered("/c") == ids(5, 6));

  // late back, and up: the events it had pending when it was removed, not those sent since.
  Receiver late_receiver(late_port);
  CHECK(reload({endpoint(port, "b", "/b"), endpoint(late_port, "late", "/late")}).empty());
  REQUIRE(late_receiver.wait_delivered(3, "/late"));
  CHECK(late_receiver.delivered("/late") == ids(0, 3));

  // Nothing changes when one endpoint is invalid, or two share a name.
  auto bad = endpoint(port, "d", "/d");
  bad.url = "ftp://127.0.0.1/";
  CHECK_FALSE(reload({endpoint(port, "b", "/b"), bad}).empty());
  CHECK_FALSE(reload({endpoint(port, "b", "/b"), endpoint(port, "b", "/x")}).empty());
  f.send(make_events(6, 7));
  REQUIRE(receiver.wait_delivered(4, "/b"));
  REQUIRE(late_receiver.wait_delivered(4, "/late"));
  CHECK(f.stop());
}

TEST_CASE("invalid endpoints are refused at spawn") {
  Fixture f;
  auto ep = endpoint(1);
  ep.url = "ftp://127.0.0.1/";
  CHECK_THROWS(f.start({ep}));
  CHECK_THROWS(f.start({endpoint(1, "x"), endpoint(2, "x")}));
  auto zero = endpoint(1);
  zero.max_batch = 0;
  CHECK_THROWS(f.start({zero}));
}
