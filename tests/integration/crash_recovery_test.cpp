// End to end: a 202 is a promise. volleyd is killed with SIGKILL while clients are injecting and
// mail is being delivered; restarted on the same spool, it must deliver every message it had
// acknowledged. Duplicates are allowed (at-least-once across a crash) and reported.
#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "dns_zone.hpp"
#include "sink_fixture.hpp"
#include "volleyd_fixture.hpp"

using namespace volley::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> recipients_for(int i) {
  std::vector<std::string> to{"r" + std::to_string(i) + "@a.test"};
  if (i % 3 == 0) to.push_back("s" + std::to_string(i) + "@b.test");
  return to;
}

}  // namespace

TEST_CASE("every acknowledged message survives kill -9 and is delivered after restart",
          "[integration][crash]") {
  TempDir dir("volley-it-crash");
  NsdServer nsd({test_zone("a IN MX 10 mx.a\nmx.a IN A 127.0.0.2\n"
                          "b IN MX 10 mx.b\nmx.b IN A 127.0.0.3\n")});
  const auto smtp_port = free_port();
  SmtpSink sink(dir / "sink", {"127.0.0.2", "127.0.0.3"}, smtp_port);
  Volleyd volleyd(dir / "volleyd", volleyd_options(nsd.port(), smtp_port));

  constexpr int kClients = 4;
  constexpr int kPerClient = 400;       // bound on the run, should the kill come late
  constexpr std::size_t kKillAfter = 150;  // acknowledged messages before the crash
  std::mutex mutex;
  std::map<int, Accepted> acked;  // index -> 202 answer
  std::set<int> unanswered;       // sent, but the connection died first: fate unknown
  std::atomic<std::size_t> acked_count{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      auto http = volleyd.client();
      for (int n = 0; n < kPerClient; ++n) {
        const int i = n * kClients + c;
        try {
          Accepted a = inject(http, {{"from", "sender@volley.test"},
                                     {"to", recipients_for(i)},
                                     {"subject", "crash test " + std::to_string(i)},
                                     {"text", "message " + std::to_string(i) + "\n"}});
          std::lock_guard lock(mutex);
          acked[i] = std::move(a);
          ++acked_count;
        } catch (const std::exception&) {
          // volleyd is gone (or refused): this one may or may not have been committed.
          std::lock_guard lock(mutex);
          unanswered.insert(i);
          return;
        }
      }
    });
  }
  const bool enough = wait_until([&] { return acked_count.load() >= kKillAfter; }, 120s, 5ms);
  volleyd.crash();
  for (auto& t : clients) t.join();
  INFO("volleyd log before the crash:\n" << volleyd.log());
  REQUIRE(enough);
  const std::size_t delivered_before_crash = [&] {
    std::size_t n = 0;
    for (const auto& [r, k] : sink.deliveries_per_recipient()) n += k;
    return n;
  }();

  volleyd.start();  // same spool, same event log

  std::map<std::string, int> owner;  // acknowledged recipient -> message index
  for (const auto& [i, a] : acked)
    for (const auto& r : recipients_for(i)) owner[r] = i;
  std::set<std::string> maybe;  // recipients of unanswered requests
  for (int i : unanswered)
    for (const auto& r : recipients_for(i)) maybe.insert(r);

  auto missing = [&] {
    const auto per_rcpt = sink.deliveries_per_recipient();
    std::vector<std::string> out;
    for (const auto& [r, i] : owner)
      if (!per_rcpt.count(r)) out.push_back(r);
    return out;
  };
  const bool all_delivered = wait_until([&] { return missing().empty(); }, 240s, 200ms);
  INFO("volleyd log after the restart:\n" << volleyd.log());
  const auto lost = missing();
  for (std::size_t k = 0; k < std::min<std::size_t>(lost.size(), 20); ++k)
    UNSCOPED_INFO("lost: " << lost[k]);
  CHECK(all_delivered);
  CHECK(lost.empty());

  // Duplicates are allowed across a crash but counted; mail nobody sent is never allowed.
  std::size_t duplicates = 0, unanswered_delivered = 0;
  for (const auto& [r, n] : sink.deliveries_per_recipient()) {
    if (owner.count(r)) {
      duplicates += static_cast<std::size_t>(n - 1);
    } else {
      INFO("recipient " << r);
      CHECK(maybe.count(r) == 1);
      unanswered_delivered += maybe.count(r);
    }
  }
  WARN("crash recovery: " << acked.size() << " messages (" << owner.size()
                          << " recipients) acknowledged, " << delivered_before_crash
                          << " deliveries before the kill, " << duplicates
                          << " duplicate deliveries, " << unanswered.size()
                          << " requests unanswered (" << unanswered_delivered
                          << " of their recipients delivered)");

  // The events actor releases a recipient's spool records only after its event line is
  // written, so a kill can repeat a delivery but never lose its "delivered" line. Only the line
  // being written at the kill may be torn.
  std::size_t torn = 0;
  const auto events = read_json_lines(volleyd.event_log_path(), /*skip_torn=*/true, &torn);
  CHECK(torn <= 1);
  std::set<std::string> delivered_ids;
  for (const auto& e : events)
    if (e.value("event", "") == "delivered") delivered_ids.insert(e.value("id", ""));
  std::size_t without_event = 0;
  for (const auto& [i, a] : acked)
    for (const auto& [email, id] : a.recipients) without_event += delivered_ids.count(id) == 0;
  INFO("acknowledged recipients without a \"delivered\" line: " << without_event);
  CHECK(without_event == 0);
}
