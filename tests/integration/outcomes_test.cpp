// End to end: what happens to mail when the far side is not simply willing. MX fallback past a
// dead host, permanent and temporary RCPT replies, and domains that cannot receive mail at all,
// each judged by what a real SMTP server stored and by volleyd's event log.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dns_zone.hpp"
#include "sink_fixture.hpp"
#include "volleyd_fixture.hpp"

using namespace volley::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

std::size_t count_event(const std::vector<json>& events, const std::string& kind,
                        const std::string& recipient) {
  return events_for(events, kind, recipient).size();
}

// Position of the first event of `kind` for `recipient` in the log, or npos.
std::size_t first_position(const std::vector<json>& events, const std::string& kind,
                           const std::string& recipient) {
  for (std::size_t i = 0; i < events.size(); ++i)
    if (events[i].value("event", "") == kind && events[i].value("recipient", "") == recipient)
      return i;
  return std::string::npos;
}

std::size_t rcpt_attempts(const SmtpSink& sink, const std::string& recipient) {
  const auto events = sink.events();
  return static_cast<std::size_t>(std::count_if(events.begin(), events.end(), [&](const json& e) {
    return e.value("kind", "") == "rcpt" && e.value("recipient", "") == recipient;
  }));
}

}  // namespace

TEST_CASE("a dead primary MX is skipped for the next preference", "[integration][mx]") {
  TempDir dir("volley-it-mx");
  // 127.0.0.2 has no listener: connecting there is refused at once.
  NsdServer nsd({test_zone("fb IN MX 10 mx1.fb\n"
                          "fb IN MX 20 mx2.fb\n"
                          "mx1.fb IN A 127.0.0.2\n"
                          "mx2.fb IN A 127.0.0.3\n")});
  const auto smtp_port = free_port();
  SmtpSink sink(dir / "sink", {"127.0.0.3"}, smtp_port);
  Volleyd volleyd(dir / "volleyd", volleyd_options(nsd.port(), smtp_port));

  auto http = volleyd.client();
  std::vector<std::string> recipients;
  for (int i = 0; i < 10; ++i) {
    recipients.push_back("user" + std::to_string(i) + "@fb.test");
    inject(http, {{"from", "sender@volley.test"},
                  {"to", {recipients.back()}},
                  {"subject", "fallback " + std::to_string(i)},
                  {"text", "via the second MX\n"}});
  }
  const bool done = wait_until(
      [&] {
        const auto events = volleyd.events();
        return std::all_of(recipients.begin(), recipients.end(), [&](const std::string& r) {
          return count_event(events, "delivered", r) + count_event(events, "bounced", r) > 0;
        });
      },
      90s, 100ms);
  INFO("volleyd log:\n" << volleyd.log());
  REQUIRE(done);

  const auto events = volleyd.events();
  const auto per_rcpt = sink.deliveries_per_recipient();
  for (const auto& r : recipients) {
    INFO("recipient " << r);
    CHECK(count_event(events, "bounced", r) == 0);
    const auto delivered = events_for(events, "delivered", r);
    REQUIRE(delivered.size() == 1);
    CHECK(delivered[0].value("mx_host", "") == "mx2.fb.test");
    CHECK(per_rcpt.count(r) == 1);
    CHECK((per_rcpt.count(r) ? per_rcpt.at(r) : 0) == 1);
  }
  for (const auto& m : sink.messages())
    CHECK(m.local == "127.0.0.3:" + std::to_string(smtp_port));
}

TEST_CASE("RCPT replies decide: 5xx bounces at once and 4xx defers until a retry succeeds",
          "[integration][replies]") {
  TempDir dir("volley-it-replies");
  NsdServer nsd({test_zone("d IN MX 10 mx.d\nmx.d IN A 127.0.0.2\n")});
  const auto smtp_port = free_port();
  const json script = {
      {"bad@d.test", {{"rcpt", "550 5.1.1 no such user"}}},
      {"alsobad@d.test", {{"rcpt", "550 5.1.1 no such user"}}},
      {"grey@d.test", {{"rcpt_sequence", {"451 4.7.1 greylisted, come back later", "250 OK"}}}},
  };
  SmtpSink sink(dir / "sink", {"127.0.0.2"}, smtp_port, script);
  Volleyd volleyd(dir / "volleyd", volleyd_options(nsd.port(), smtp_port));

  auto http = volleyd.client();
  // One transaction with all three kinds of answer, and one where every RCPT fails (so DATA
  // must not be sent at all).
  const auto mixed = inject(http, {{"from", "sender@volley.test"},
                                   {"to", {"bad@d.test", "grey@d.test", "ok@d.test"}},
                                   {"subject", "mixed"},
                                   {"text", "three fates\n"}});
  const auto only_bad = inject(http, {{"from", "sender@volley.test"},
                                      {"to", {"alsobad@d.test"}},
                                      {"subject", "doomed"},
                                      {"text", "nobody home\n"}});
  REQUIRE(mixed.recipients.size() == 3);
  REQUIRE(only_bad.recipients.size() == 1);

  const bool settled = wait_until(
      [&] {
        const auto events = volleyd.events();
        return count_event(events, "bounced", "bad@d.test") > 0 &&
               count_event(events, "bounced", "alsobad@d.test") > 0 &&
               count_event(events, "delivered", "grey@d.test") > 0 &&
               count_event(events, "delivered", "ok@d.test") > 0;
      },
      90s, 100ms);
  INFO("volleyd log:\n" << volleyd.log());
  INFO("sink events:\n" << json(sink.events()).dump(1));
  REQUIRE(settled);

  const auto events = volleyd.events();
  const auto per_rcpt = sink.deliveries_per_recipient();

  {  // 5xx: bounced once, with the reply and a category, never stored, never retried
    for (const auto& [r, id] : {std::pair{std::string("bad@d.test"), mixed.recipients[0].second},
                                std::pair{std::string("alsobad@d.test"),
                                          only_bad.recipients[0].second}}) {
      INFO("recipient " << r);
      const auto bounced = events_for(events, "bounced", r);
      REQUIRE(bounced.size() == 1);
      CHECK(bounced[0].value("id", "") == id);
      CHECK(bounced[0].value("reply", "").find("550") != std::string::npos);
      CHECK_FALSE(bounced[0].value("category", "").empty());
      CHECK(count_event(events, "delivered", r) == 0);
      CHECK(count_event(events, "deferred", r) == 0);
      CHECK(per_rcpt.count(r) == 0);
      CHECK(rcpt_attempts(sink, r) == 1);
    }
    // The all-rejected transaction never reached DATA: nothing of it was stored.
    for (const auto& m : sink.messages()) CHECK(m.data.find("nobody home") == std::string::npos);
  }

  {  // 4xx: deferred with the reply, then delivered exactly once
    const std::string r = "grey@d.test";
    const auto deferred = events_for(events, "deferred", r);
    REQUIRE(deferred.size() >= 1);
    CHECK(deferred[0].value("reply", "").find("451") != std::string::npos);
    CHECK(deferred[0].value("id", "") == mixed.recipients[1].second);
    CHECK(first_position(events, "deferred", r) < first_position(events, "delivered", r));
    const auto delivered = events_for(events, "delivered", r);
    REQUIRE(delivered.size() == 1);
    if (delivered[0].contains("attempt") && deferred[0].contains("attempt"))
      CHECK(delivered[0]["attempt"].get<int>() > deferred[0]["attempt"].get<int>());
    CHECK(count_event(events, "bounced", r) == 0);
    CHECK((per_rcpt.count(r) ? per_rcpt.at(r) : 0) == 1);
    CHECK(rcpt_attempts(sink, r) == 2);
  }

  {  // 2xx in the same transaction: delivered once, first time
    const std::string r = "ok@d.test";
    CHECK(count_event(events, "delivered", r) == 1);
    CHECK(count_event(events, "deferred", r) == 0);
    CHECK((per_rcpt.count(r) ? per_rcpt.at(r) : 0) == 1);
  }
}

TEST_CASE("domains that cannot receive mail bounce without a connection",
          "[integration][dns]") {
  TempDir dir("volley-it-dns");
  // nullmx.test says "no mail here" (RFC 7505); nx.test does not exist (NXDOMAIN from the
  // authoritative server); ok.test is the control.
  NsdServer nsd({test_zone("nullmx IN MX 0 .\n"
                          "ok IN MX 10 mx.ok\n"
                          "mx.ok IN A 127.0.0.2\n")});
  REQUIRE(dns_query_rcode(nsd.port(), "nx.test", 15, 1000ms) == 3);  // the zone really says so
  const auto smtp_port = free_port();
  SmtpSink sink(dir / "sink", {"127.0.0.2"}, smtp_port);
  Volleyd volleyd(dir / "volleyd", volleyd_options(nsd.port(), smtp_port));

  auto http = volleyd.client();
  const auto a = inject(http, {{"from", "sender@volley.test"},
                               {"to", {"x@nullmx.test", "y@nx.test", "z@ok.test"}},
                               {"subject", "three domains"},
                               {"text", "hello\n"}});
  REQUIRE(a.recipients.size() == 3);

  const bool settled = wait_until(
      [&] {
        const auto events = volleyd.events();
        return count_event(events, "bounced", "x@nullmx.test") > 0 &&
               count_event(events, "bounced", "y@nx.test") > 0 &&
               count_event(events, "delivered", "z@ok.test") > 0;
      },
      60s, 100ms);
  INFO("volleyd log:\n" << volleyd.log());
  REQUIRE(settled);

  const auto events = volleyd.events();
  for (const std::string r : {"x@nullmx.test", "y@nx.test"}) {
    INFO("recipient " << r);
    CHECK(count_event(events, "bounced", r) == 1);
    CHECK(count_event(events, "deferred", r) == 0);
    CHECK(count_event(events, "delivered", r) == 0);
    CHECK(rcpt_attempts(sink, r) == 0);
  }
  CHECK(count_event(events, "delivered", "z@ok.test") == 1);
  const auto per_rcpt = sink.deliveries_per_recipient();
  CHECK(per_rcpt.size() == 1);
  CHECK(per_rcpt.count("z@ok.test") == 1);
}
