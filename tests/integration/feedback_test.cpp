// Closing the loop with the sender, end to end with real processes on loopback: volleyd with
// VERP return paths and its [smtp_in] listener, volley-receiver accepting mail and bouncing it
// afterwards with a DSN, feedback reports sent with swaks, and a webhook endpoint that is down
// while events pile up (and volleyd restarts) and then takes every one, signed.
#include <sys/wait.h>

#include <catch2/catch.hpp>

#include <map>
#include <set>

#include "receiver_fixture.hpp"
#include "volleyd_fixture.hpp"

using namespace volley::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// volleyd with VERP for every sender, its listener on a free port, routes to the receiver.
struct FeedbackSetup {
  FeedbackSetup(std::uint16_t receiver_port, std::uint16_t listener_port, std::string more_toml = "") {
    opts.dns_port = 9;
    opts.smtp_port = 25;
    for (const char* domain : {"gone.test", "ok.test"}) opts.routes.push_back(Route{domain, "127.0.0.1", receiver_port});
    opts.extra_toml = "[[return_path]]\nsender_domain = \"*\"\ndomain = \"bounce.volley.test\"\n"
                      "[smtp_in]\nlisten = \"127.0.0.1:" + std::to_string(listener_port) + "\"\n"
                      "hostname = \"bounce.volley.test\"\ndomains = [\"fbl.volley.test\"]\n" + more_toml;
  }
  VolleydOptions opts;
};

json message_to(const std::string& rcpt) {
  return {{"from", "news@volley.test"}, {"to", {rcpt}}, {"subject", "Spring offers"}, {"text", "Hello\n"},
          {"campaign", "spring"}, {"tags", {"newsletter", "eu"}}, {"metadata", {{"customer", 42}}}};
}

// The recipients array of a 202 answer.
json inject_answer(HttpClient& client, const json& message) {
  const auto res = client.post_json("/api/v1/messages", message.dump());
  REQUIRE(res.status == 202);
  return json::parse(res.body);
}

struct Command {
  int status = -1;
  std::string output;
};

Command run_swaks(const std::filesystem::path& scratch, std::uint16_t port, std::vector<std::string> args) {
  std::vector<std::string> argv{"/usr/bin/timeout", "30", "swaks", "--server", "127.0.0.1", "--port", std::to_string(port),
                                "--timeout", "20"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto [status, output] = run_with_input(argv, "", scratch);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

std::string metrics(const Volleyd& v) {
  auto c = v.client();
  return c.get("/metrics").body;
}

json only(const std::vector<json>& events) {
  REQUIRE(events.size() == 1);
  return events.front();
}

}  // namespace

TEST_CASE("an asynchronous bounce becomes async_bounce, suppresses the address, and the next injection is "
          "answered suppressed",
          "[integration][feedback]") {
  TempDir dir("volley-it-bounce");
  const auto listener_port = free_port();
  SmtpReceiver receiver(dir / "receiver",
                        "bounce_to = \"127.0.0.1:" + std::to_string(listener_port) + "\"\n"
                        "[[rule]]\nmatch = \"gone.test\"\naction = \"bounce_later\"\n"
                        "reply = \"550 5.1.1 <user@gone.test>: Recipient address rejected: User unknown in virtual mailbox table\"\n");
  FeedbackSetup setup(receiver.port(), listener_port);
  Volleyd volleyd(dir / "volleyd", setup.opts);
  auto client = volleyd.client();

  const auto first = inject_answer(client, message_to("user@gone.test"));
  const std::string rcpt_id = first["recipients"][0]["id"];
  REQUIRE(wait_until([&] { return !events_for(volleyd.events(), "async_bounce", "user@gone.test").empty(); }, 60s, 50ms));

  // The receiver took the message from a VERP return path naming the recipient message, then
  // sent its DSN back to that address.
  const auto data = receiver.events("data");
  REQUIRE(data.size() == 1);
  const std::string sender = data[0]["sender"];
  CHECK(sender.rfind("bounces+" + rcpt_id + ".", 0) == 0);  // then the 10-hex-digit tag
  CHECK(sender.size() == std::string("bounces+").size() + rcpt_id.size() + 11 + std::string("@bounce.volley.test").size());
  CHECK(sender.substr(sender.size() - 19) == "@bounce.volley.test");
  REQUIRE(wait_until([&] { return receiver.events("bounce").size() == 1; }, 10s, 20ms));
  CHECK(receiver.events("bounce")[0]["ok"] == true);

  const auto events = volleyd.events();
  CHECK(events_for(events, "received", "user@gone.test").size() == 1);
  CHECK(events_for(events, "delivered", "user@gone.test").size() == 1);
  const auto bounce = only(events_for(events, "async_bounce", "user@gone.test"));
  CHECK(bounce["id"] == rcpt_id);
  CHECK(bounce["message_id"] == first["id"]);
  CHECK(bounce["tenant"] == "default");
  CHECK(bounce["campaign"] == "spring");
  CHECK(bounce["tags"] == json({"newsletter", "eu"}));
  CHECK(bounce["metadata"] == json({{"customer", 42}}));
  CHECK(bounce["category"] == "bad-mailbox");
  CHECK(bounce["domain"] == "gone.test");
  CHECK(bounce["report"]["status"] == "5.1.1");
  CHECK(bounce["report"]["format"] == "rfc3464");
  CHECK(bounce.value("reply", "").find("550 5.1.1") == 0);

  // On the tenant's suppression list, and the next message to it is not sent.
  const auto entry = client.get("/api/v1/suppressions/user@gone.test");
  REQUIRE(entry.status == 200);
  CHECK(json::parse(entry.body)["reason"] == "hard_bounce");
  CHECK(json::parse(entry.body)["source"] == "async_bounce");
  const auto second = inject_answer(client, message_to("user@gone.test"));
  CHECK(second["recipients"][0]["status"] == "suppressed");
  REQUIRE(wait_until([&] { return !events_for(volleyd.events(), "suppressed", "user@gone.test").empty(); }, 10s, 20ms));
  CHECK(only(events_for(volleyd.events(), "suppressed", "user@gone.test"))["campaign"] == "spring");
  const std::string suppressed_id = second["recipients"][0]["id"];
  const auto status = client.get("/api/v1/messages/" + suppressed_id);
  REQUIRE(status.status == 200);
  CHECK(json::parse(status.body)["status"] == "suppressed");
  CHECK(receiver.events("data").size() == 1);  // nothing more was sent

  const auto m = metrics(volleyd);
  CHECK(m.find("volley_bounces_total{") != std::string::npos);
  CHECK(m.find("type=\"async\"") != std::string::npos);
  CHECK(m.find("volley_suppressed_total{") != std::string::npos);
}

TEST_CASE("a feedback-loop report becomes a complaint tied to the message and suppresses the address",
          "[integration][feedback]") {
  TempDir dir("volley-it-fbl");
  const auto listener_port = free_port();
  SmtpReceiver receiver(dir / "receiver", "");
  FeedbackSetup setup(receiver.port(), listener_port);
  Volleyd volleyd(dir / "volleyd", setup.opts);
  auto client = volleyd.client();

  const auto sent = inject_answer(client, message_to("reader@ok.test"));
  const std::string rcpt_id = sent["recipients"][0]["id"];
  REQUIRE(wait_until([&] { return !events_for(volleyd.events(), "delivered", "reader@ok.test").empty(); }, 30s, 50ms));

  // X-Volley-ID carries the same signed id as the VERP return path the receiver saw.
  const auto data = receiver.events("data");
  REQUIRE(data.size() == 1);
  const std::string sender = data[0]["sender"];
  const std::string signed_id = sender.substr(8, sender.find('@') - 8);
  REQUIRE(signed_id.rfind(rcpt_id + ".", 0) == 0);

  // The mailbox provider's report (RFC 5965) quotes the original's headers, X-Volley-ID among
  // them; Original-Rcpt-To is redacted, as many providers do.
  auto arf_with = [](const std::string& volley_id) {
    return std::string(
      "From: feedback@provider.example\r\n"
      "To: fbl@fbl.volley.test\r\n"
      "Subject: FW: Spring offers\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: multipart/report; report-type=feedback-report; boundary=\"arf\"\r\n\r\n"
      "--arf\r\nContent-Type: text/plain\r\n\r\nThis is an email abuse report.\r\n\r\n"
      "--arf\r\nContent-Type: message/feedback-report\r\n\r\n"
      "Feedback-Type: abuse\r\nUser-Agent: ProviderFBL/2.1\r\nVersion: 1\r\n"
      "Source-IP: 127.0.0.1\r\nReported-Domain: volley.test\r\n\r\n"
      "--arf\r\nContent-Type: text/rfc822-headers\r\n\r\n"
      "From: news@volley.test\r\nTo: reader@ok.test\r\nSubject: Spring offers\r\n"
      "X-Volley-ID: " + volley_id + "\r\n\r\n"
      "--arf--\r\n");
  };

  // A forged report naming the recipient message without its tag is taken (250) and ignored.
  write_file(dir / "forged.eml", arf_with(rcpt_id));
  const auto forged = run_swaks(dir.path(), listener_port, {"--from", "<>", "--to", "fbl@fbl.volley.test", "--data",
                                                            "@" + (dir / "forged.eml").string()});
  INFO(forged.output);
  REQUIRE(forged.status == 0);  // answered only once the feedback actor had processed it
  CHECK(client.get("/api/v1/suppressions/reader@ok.test").status == 404);

  write_file(dir / "arf.eml", arf_with(signed_id));
  const auto sent_report = run_swaks(dir.path(), listener_port, {"--from", "<>", "--to", "fbl@fbl.volley.test", "--data",
                                                          "@" + (dir / "arf.eml").string()});
  INFO(sent_report.output);
  REQUIRE(sent_report.status == 0);

  REQUIRE(wait_until([&] { return !events_for(volleyd.events(), "complaint", "reader@ok.test").empty(); }, 30s, 50ms));
  const auto complaint = only(events_for(volleyd.events(), "complaint", "reader@ok.test"));  // not the forged one
  CHECK(complaint["id"] == rcpt_id);
  CHECK(complaint["message_id"] == sent["id"]);
  CHECK(complaint["campaign"] == "spring");
  CHECK(complaint["tags"] == json({"newsletter", "eu"}));
  CHECK(complaint["category"] == "abuse");
  CHECK(complaint["report"]["feedback_type"] == "abuse");
  CHECK(complaint["report"]["user_agent"] == "ProviderFBL/2.1");

  const auto entry = client.get("/api/v1/suppressions/reader@ok.test");
  REQUIRE(entry.status == 200);
  CHECK(json::parse(entry.body)["reason"] == "complaint");
  CHECK(inject_answer(client, message_to("reader@ok.test"))["recipients"][0]["status"] == "suppressed");
  CHECK(metrics(volleyd).find("volley_complaints_total{") != std::string::npos);
}

TEST_CASE("the bounce listener is no open relay (swaks)", "[integration][feedback]") {
  TempDir dir("volley-it-relay");
  const auto listener_port = free_port();
  SmtpReceiver receiver(dir / "receiver", "");
  FeedbackSetup setup(receiver.port(), listener_port);
  Volleyd volleyd(dir / "volleyd", setup.opts);

  const auto relay = run_swaks(dir.path(), listener_port, {"--from", "spammer@elsewhere.example", "--to", "victim@ok.test"});
  INFO(relay.output);
  CHECK(relay.status != 0);
  CHECK(relay.output.find("550 5.7.1") != std::string::npos);
  const auto percent = run_swaks(dir.path(), listener_port, {"--from", "x@elsewhere.example", "--to",
                                                      "victim%ok.test@bounce.volley.test"});
  CHECK(percent.status != 0);
  CHECK(percent.output.find("550 5.7.1") != std::string::npos);
  // Nothing reached delivery: no event at all for the victim.
  CHECK(events_for(volleyd.events(), "received", "victim@ok.test").empty());
}

TEST_CASE("a webhook endpoint that was down, across a restart of volleyd, gets every event once, signed",
          "[integration][feedback][webhook]") {
  TempDir dir("volley-it-webhook");
  const auto listener_port = free_port();
  const auto hook_port = free_port();
  const std::string secret = "integration-test-secret-123";
  SmtpReceiver receiver(dir / "receiver", "");
  FeedbackSetup setup(receiver.port(), listener_port,
                      "[[webhook]]\nname = \"app\"\nurl = \"http://127.0.0.1:" + std::to_string(hook_port) +
                          "/volley-events\"\nsecret = \"" + secret +
                          "\"\nmax_batch = 7\nretry_first = \"100ms\"\nretry_max = \"400ms\"\n");
  Volleyd volleyd(dir / "volleyd", setup.opts);
  auto client = volleyd.client();

  constexpr int kMessages = 20;
  std::set<std::string> ids;
  for (int i = 0; i < kMessages; ++i)
    ids.insert(inject_answer(client, message_to("r" + std::to_string(i) + "@ok.test"))["recipients"][0]["id"]);
  auto count = [&](const std::string& kind) {
    std::size_t n = 0;
    for (const auto& e : volleyd.events()) n += e.value("event", "") == kind ? 1 : 0;
    return n;
  };
  REQUIRE(wait_until([&] { return count("delivered") == kMessages; }, 60s, 50ms));
  // Failures are being counted: the endpoint is down.
  REQUIRE(wait_until([&] { return metrics(volleyd).find("result=\"failed\"") != std::string::npos; }, 20s, 50ms));

  // A restart in between: the queued events are on disk, not in memory.
  REQUIRE(volleyd.stop() == 0);
  volleyd.start();

  const auto posts = dir / "posts.jsonl";
  ChildProcess hook({"/usr/bin/python3", std::string(VOLLEY_SOURCE_DIR) + "/tests/integration/webhook_receiver.py",
                     std::to_string(hook_port), secret, posts.string()},
                    dir / "webhook_receiver.log");
  std::map<std::pair<std::string, std::string>, int> seen;  // (event, id) -> times
  auto collect = [&] {
    seen.clear();
    for (const auto& post : read_json_lines(posts)) {
      REQUIRE(post["valid"] == true);
      for (const auto& e : post["events"]) ++seen[{e.value("event", ""), e.value("id", "")}];
    }
    std::size_t delivered = 0;
    for (const auto& id : ids) delivered += seen.count({"delivered", id});
    return delivered == ids.size();
  };
  REQUIRE(wait_until(collect, 60s, 100ms));
  for (const auto& id : ids) {
    CHECK(seen[{"received", id}] == 1);
    CHECK(seen[{"delivered", id}] == 1);
  }
  for (const auto& post : read_json_lines(posts)) CHECK(post["events"].size() <= 7);
  REQUIRE(wait_until([&] { return metrics(volleyd).find("volley_webhook_queue_depth{endpoint=\"app\"} 0") != std::string::npos; },
                     20s, 100ms));
  CHECK(metrics(volleyd).find("volley_webhook_deliveries_total{endpoint=\"app\",result=\"delivered\"}") !=
        std::string::npos);
}
