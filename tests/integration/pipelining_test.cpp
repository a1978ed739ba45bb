// A backlog to one destination over one connection (max_connections = 1): the session holds up
// to three transactions and sends each message's commands behind the body before it (RFC 2920
// §3.1). aiosmtpd, an independent server, judges the stream: every message arrives once, with
// its own recipient and bytes; a refused recipient and a refused DATA in the middle of the
// pipeline end only their own transactions.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dns_zone.hpp"
#include "sink_fixture.hpp"
#include "volleyd_fixture.hpp"

using namespace volley::test;
using nlohmann::json;
using namespace std::chrono_literals;

TEST_CASE("a backlog to one destination goes out over one pipelining session, each message once",
          "[integration][delivery][pipelining]") {
  TempDir dir("volley-it-pipelining");
  NsdServer nsd({test_zone("one IN MX 10 mx.one\nmx.one IN A 127.0.0.2\n")});
  const auto smtp_port = free_port();
  constexpr int kRecipients = 40;
  const std::string refused = "r7@one.test";     // RCPT refused: bounced
  const std::string data_refused = "r12@one.test";  // DATA refused, every time: deferred
  SmtpSink sink(dir / "sink", {"127.0.0.2"}, smtp_port,
                json{{refused, {{"rcpt", "550 5.1.1 no such user"}}},
                     {data_refused, {{"data", "452 4.3.1 try again later"}}}});
  auto opts = volleyd_options(nsd.port(), smtp_port);
  opts.extra_toml = "[shaping.default]\nmax_connections = 1\nmax_recipients_per_transaction = 1\n";
  Volleyd volleyd(dir / "volleyd", opts);

  // One request, forty recipients: forty transactions ready at once for the one session.
  json to = json::array();
  for (int i = 0; i < kRecipients; ++i) to.push_back("r" + std::to_string(i) + "@one.test");
  auto http = volleyd.client();
  const Accepted accepted = inject(http, {{"from", "sender@volley.test"},
                                          {"to", to},
                                          {"subject", "pipelined"},
                                          {"text", "One body, forty transactions.\n"}});
  REQUIRE(accepted.recipients.size() == kRecipients);

  const auto decided = [&] {
    std::size_t n = 0;
    for (const auto& e : volleyd.events()) {
      const auto kind = e.value("event", "");
      n += kind == "delivered" || kind == "bounced" || (kind == "deferred" && e.value("recipient", "") == data_refused);
    }
    return n;
  };
  const bool done = wait_until([&] { return decided() >= kRecipients; }, 60s, 50ms);
  INFO("volleyd log:\n" << volleyd.log());
  INFO("sink log:\n" << sink.log());
  REQUIRE(done);

  const auto events = volleyd.events();
  const auto received = sink.messages();
  std::set<std::string> peers;
  std::map<std::string, int> per_rcpt;
  for (const auto& m : received) {
    REQUIRE(m.rcpt_tos.size() == 1);
    ++per_rcpt[m.rcpt_tos.front()];
    peers.insert(m.peer);
    CHECK(m.mail_from == "sender@volley.test");
    CHECK(m.data.find("One body, forty transactions.") != std::string::npos);
    // Each transaction carries its own recipient message's id, not its neighbour's.
    const auto& ids = accepted.recipients;
    const auto it = std::find_if(ids.begin(), ids.end(), [&](const auto& r) { return r.first == m.rcpt_tos.front(); });
    REQUIRE(it != ids.end());
    CHECK(m.data.find("X-Volley-ID: " + it->second) != std::string::npos);
  }
  CHECK(peers.size() == 1);  // one connection carried the whole backlog
  for (int i = 0; i < kRecipients; ++i) {
    const std::string r = "r" + std::to_string(i) + "@one.test";
    INFO("recipient " << r);
    if (r == refused) {
      CHECK(per_rcpt.count(r) == 0);
      CHECK(events_for(events, "bounced", r).size() == 1);
    } else if (r == data_refused) {
      CHECK(per_rcpt.count(r) == 0);
      CHECK(events_for(events, "delivered", r).empty());
      CHECK_FALSE(events_for(events, "deferred", r).empty());  // and tried again later
    } else {
      CHECK(per_rcpt[r] == 1);
      CHECK(events_for(events, "delivered", r).size() == 1);
    }
  }
}
