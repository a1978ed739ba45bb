// Strict JSON on a real volleyd's HTTP API: a member the API does not know (a typo, a feature
// Volley does not have) and a member name given twice are refused with 400, the exact code and
// the field's path, and nothing of a refused request is queued, sent or stored.
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "receiver_fixture.hpp"
#include "volleyd_fixture.hpp"

using namespace volley::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

json message_to(const std::string& recipient) {
  return {{"from", "app@volley.test"}, {"to", {recipient}}, {"subject", "s"}, {"text", "t\n"}};
}

// POSTs `body` and checks the refusal: 400, `code`, `field`.
void check_refused(HttpClient& http, const std::string& path, const std::string& body, const std::string& code,
                   const std::string& field) {
  CAPTURE(path, body);
  const auto res = http.post_json(path, body);
  CHECK(res.status == 400);
  const auto answer = json::parse(res.body, nullptr, false);
  const auto error = answer.is_object() ? answer.value("error", json::object()) : json::object();
  CHECK(error.value("code", "") == code);
  CHECK(error.value("field", "") == field);
}

}  // namespace

TEST_CASE("strict JSON: unknown fields and repeated names are 400 with the field, and nothing is sent",
          "[integration][strict_json]") {
  TempDir dir("volley-it-strict-json");
  SmtpReceiver receiver(dir / "receiver", "");
  VolleydOptions opts;
  opts.dns_port = 9;
  opts.smtp_port = 25;
  opts.routes.push_back(Route{"strict.test", "127.0.0.1", receiver.port()});
  Volleyd volleyd(dir / "volleyd", opts);
  auto http = volleyd.client();

  json typo = message_to("typo@strict.test");
  typo.erase("subject");
  typo["subjet"] = "hello";
  check_refused(http, "/api/v1/messages", typo.dump(), "unknown_field", "subjet");

  json later = message_to("later@strict.test");
  later["send_time"] = "2030-01-01T00:00:00Z";  // send_at is known (docs/scheduling.md)
  check_refused(http, "/api/v1/messages", later.dump(), "unknown_field", "send_time");

  json inline_image = message_to("inline@strict.test");
  inline_image["attachments"] = {{{"filename", "logo.png"}, {"content", "aGk="}, {"cid", "logo@x"}}};
  check_refused(http, "/api/v1/messages", inline_image.dump(), "unknown_field", "attachments[0].cid");

  json batch = {{"messages", {message_to("batch0@strict.test"), typo}}};
  check_refused(http, "/api/v1/messages/batch", batch.dump(), "unknown_field", "messages[1].subjet");

  check_refused(http, "/api/v1/messages",
                R"({"from":"app@volley.test","to":["first@strict.test"],"subject":"s","text":"t\n",)"
                R"("to":["second@strict.test"]})",
                "duplicate_key", "to");
  check_refused(http, "/api/v1/messages/batch",
                R"({"messages":[{"from":"app@volley.test","to":["dup0@strict.test"],"text":"t\n",)"
                R"("metadata":{"user_id":1,"user_id":2}}]})",
                "duplicate_key", "messages[0].metadata.user_id");

  // A message sent after the refusals is delivered, and it is the only one.
  inject(http, message_to("control@strict.test"));
  auto received = [&] {
    std::set<std::string> out;
    for (const auto& data : receiver.events("data"))
      for (const auto& r : data.at("recipients")) out.insert(r.get<std::string>());
    return out;
  };
  REQUIRE(wait_until([&] { return received().count("control@strict.test") == 1; }, 30s, 50ms));
  CHECK(received() == std::set<std::string>{"control@strict.test"});
  REQUIRE(wait_until([&] { return !events_for(volleyd.events(), "delivered", "control@strict.test").empty(); },
                     30s, 50ms));
  for (const auto& e : volleyd.events())
    if (e.contains("recipient")) CHECK(e.at("recipient") == "control@strict.test");

  // The other JSON bodies: a suppression is not stored, a queue is not suspended.
  check_refused(http, "/api/v1/suppressions", R"({"email":"kept@strict.test","reasn":"typo"})", "unknown_field",
                "reasn");
  check_refused(http, "/api/v1/suppressions", R"({"email":"first@strict.test","email":"kept@strict.test"})",
                "duplicate_key", "email");
  CHECK(http.get("/api/v1/suppressions/kept@strict.test").status == 404);
  check_refused(http, "/api/v1/queues/strict.test/suspend", R"({"reason":"maintenance","until":"tomorrow"})",
                "unknown_field", "until");
  inject(http, message_to("kept@strict.test"));
  CHECK(wait_until([&] { return received().count("kept@strict.test") == 1; }, 30s, 50ms));
}
