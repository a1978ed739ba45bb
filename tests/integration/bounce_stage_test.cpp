// End to end: a refusal is filed by the SMTP command it answered. volleyd delivers to
// volley-receivers that refuse at EHLO, at MAIL FROM or at RCPT; its events say the category and
// the stage, and only a refusal of the recipient itself puts the address on the suppression list.
#include <catch2/catch.hpp>

#include <string>

#include <nlohmann/json.hpp>

#include "receiver_fixture.hpp"
#include "volleyd_fixture.hpp"

using namespace volley::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

json message_to(const std::string& rcpt) {
  return {{"from", "sender@volley.test"}, {"to", {rcpt}}, {"subject", "stage"}, {"text", "hello\n"}};
}

// The one event of `kind` for `recipient`, once volleyd has written it.
json await_event(const Volleyd& volleyd, const std::string& kind, const std::string& recipient) {
  json found;
  const bool seen = wait_until(
      [&] {
        const auto events = events_for(volleyd.events(), kind, recipient);
        if (events.empty()) return false;
        found = events.front();
        return true;
      },
      60s, 50ms);
  INFO("volleyd log:\n" << volleyd.log());
  REQUIRE(seen);
  return found;
}

bool suppressed(const Volleyd& volleyd, const std::string& address) {
  auto client = volleyd.client();
  return client.get("/api/v1/suppressions/" + address).status == 200;
}

}  // namespace

TEST_CASE("a refusal at EHLO, at MAIL FROM or at RCPT is filed by its stage, and only RCPT suppresses",
          "[integration][bounces]") {
  TempDir dir("volley-it-stage");
  SmtpReceiver refuses_ehlo(dir / "ehlo", "[refuse]\nehlo = \"501 5.0.0 Invalid domain name\"\n");
  SmtpReceiver refuses_sender(dir / "mail", "[refuse]\nmail = \"553 5.1.0 <sender@volley.test> does not exist\"\n");
  SmtpReceiver refuses_recipient(dir / "rcpt", R"(
[[rule]]
match = "later@rcpt.test"
action = "tempfail"
times = 1000
reply = "450 4.2.0 Not today"

[default]
action = "reject"
reply = "550 5.1.1 <gone@rcpt.test>: Recipient address rejected: User unknown"
)");
  VolleydOptions opts;
  opts.dns_port = 9;  // never asked: every domain has a static route
  opts.smtp_port = 25;
  opts.routes = {Route{"ehlo.test", "127.0.0.1", refuses_ehlo.port()},
                 Route{"mail.test", "127.0.0.1", refuses_sender.port()},
                 Route{"rcpt.test", "127.0.0.1", refuses_recipient.port()}};
  Volleyd volleyd(dir / "volleyd", opts);
  auto client = volleyd.client();

  // "does not exist" at MAIL FROM is about our sender: not a bad mailbox of the recipient.
  inject(client, message_to("user@mail.test"));
  const auto sender = await_event(volleyd, "bounced", "user@mail.test");
  CHECK(sender["category"] == "bad-sender");
  CHECK(sender["smtp_stage"] == "mail");
  CHECK(sender["reply"] == "553 5.1.0 <sender@volley.test> does not exist");

  // A 5xx to EHLO and to HELO after it: our client's name is refused, for good.
  inject(client, message_to("user@ehlo.test"));
  const auto ehlo = await_event(volleyd, "bounced", "user@ehlo.test");
  CHECK(ehlo["category"] == "bad-configuration");
  CHECK(ehlo["smtp_stage"] == "ehlo");
  CHECK(ehlo["reply"] == "501 5.0.0 Invalid domain name");
  CHECK(ehlo["mx_host"] == "127.0.0.1");
  CHECK(refuses_ehlo.events("ehlo").size() == 2);  // EHLO, then HELO
  CHECK(refuses_ehlo.events("mail").empty());

  // The recipient itself refused: bad-mailbox, and its address is suppressed.
  inject(client, message_to("gone@rcpt.test"));
  const auto recipient = await_event(volleyd, "bounced", "gone@rcpt.test");
  CHECK(recipient["category"] == "bad-mailbox");
  CHECK(recipient["smtp_stage"] == "rcpt");
  REQUIRE(wait_until([&] { return suppressed(volleyd, "gone@rcpt.test"); }, 30s, 50ms));
  // Bounces are suppressed in the order they happened: the earlier ones have been decided by now.
  CHECK_FALSE(suppressed(volleyd, "user@mail.test"));
  CHECK_FALSE(suppressed(volleyd, "user@ehlo.test"));

  // A deferral carries its stage too.
  inject(client, message_to("later@rcpt.test"));
  const auto later = await_event(volleyd, "deferred", "later@rcpt.test");
  CHECK(later["smtp_stage"] == "rcpt");
  CHECK(later["reply"] == "450 4.2.0 Not today");
}
