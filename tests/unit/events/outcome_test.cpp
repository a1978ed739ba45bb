// The one JSON form of an event (core/events/outcome.hpp): the event log's lines, the webhooks'
// events and the history records are this text, so its exact shape is pinned here.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "core/events/outcome.hpp"

using namespace volley;
using events::Outcome;
using events::OutcomeKind;

TEST_CASE("a delivered event has the envelope fields and only the optional ones that are set") {
  Outcome o;
  o.kind = OutcomeKind::delivered;
  o.rcpt_id = "m-0";
  o.message_id = "m";
  o.recipient = "a@b.test";
  o.domain = "b.test";
  o.tenant = "t1";
  o.at_ms = 2000;
  o.received_at_ms = 1000;
  o.attempt = 1;
  o.mx_host = "mx.b.test";
  o.source = "s1";
  o.reply = "250 ok";
  o.smtp_stage = smtp::Stage::end_of_data;
  CHECK(events::to_json(o) ==
        R"({"at":2000,"attempt":1,"dkim":[],"domain":"b.test","event":"delivered","id":"m-0","message_id":"m",)"
        R"("mx_host":"mx.b.test","received_at":1000,"recipient":"a@b.test","reply":"250 ok",)"
        R"("smtp_stage":"end_of_data","source":"s1","tenant":"t1","tls":null})");
}

TEST_CASE("a delivered event lists the DKIM signatures the message left with, only a delivered one") {
  Outcome o;
  o.kind = OutcomeKind::delivered;
  auto extras = std::make_shared<events::MessageExtras>();
  extras->dkim = {{"example.com", "s2026r", "rsa-sha256"}, {"example.com", "s2026e", "ed25519-sha256"}};
  o.extras = extras;
  const auto j = nlohmann::json::parse(events::to_json(o));
  CHECK(j["dkim"] == nlohmann::json::parse(R"([{"algorithm":"rsa-sha256","domain":"example.com","selector":"s2026r"},)"
                                           R"({"algorithm":"ed25519-sha256","domain":"example.com","selector":"s2026e"}])"));
  o.kind = OutcomeKind::deferred;
  CHECK(nlohmann::json::parse(events::to_json(o)).count("dkim") == 0);
}

TEST_CASE("a deferred event has next_attempt_at, tags, and metadata and report spliced in last") {
  Outcome o;
  o.kind = OutcomeKind::deferred;
  o.rcpt_id = "m-1";
  o.message_id = "m";
  o.recipient = "a@b.test";
  o.domain = "b.test";
  o.tenant = "t1";
  o.campaign = "spring";
  o.pool = "bulk";
  o.category = "greylisted";
  o.next_attempt_ms = 5000;
  auto extras = std::make_shared<events::MessageExtras>();
  extras->tags = {"x", "y"};
  extras->metadata_json = R"({"customer":42})";
  o.extras = extras;
  o.report_json = R"({"status":"4.7.1"})";
  CHECK(events::to_json(o) ==
        R"({"at":0,"campaign":"spring","category":"greylisted","domain":"b.test","event":"deferred","id":"m-1",)"
        R"("message_id":"m","next_attempt_at":5000,"pool":"bulk","received_at":0,"recipient":"a@b.test",)"
        R"("tags":["x","y"],"tenant":"t1","metadata":{"customer":42},"report":{"status":"4.7.1"}})");
}

TEST_CASE("empty metadata and tags are left out, and bad UTF-8 is replaced rather than refused") {
  Outcome o;
  o.kind = OutcomeKind::received;
  o.recipient = "\xff@b.test";
  o.extras = std::make_shared<events::MessageExtras>();  // no tags, metadata "{}"
  const auto line = events::to_json(o);
  const auto j = nlohmann::json::parse(line);
  CHECK(j.count("tags") == 0);
  CHECK(j.count("metadata") == 0);
  CHECK(j.count("next_attempt_at") == 0);
  CHECK(j["recipient"] == "\xef\xbf\xbd@b.test");
}

TEST_CASE("every kind has its event name, and which end a recipient's status") {
  const std::vector<std::pair<OutcomeKind, std::string>> names = {
      {OutcomeKind::delivered, "delivered"},       {OutcomeKind::deferred, "deferred"},
      {OutcomeKind::bounced, "bounced"},           {OutcomeKind::expired, "expired"},
      {OutcomeKind::received, "received"},         {OutcomeKind::suppressed, "suppressed"},
      {OutcomeKind::async_bounce, "async_bounce"}, {OutcomeKind::complaint, "complaint"},
      {OutcomeKind::unsubscribe, "unsubscribe"}};
  for (const auto& [kind, name] : names) {
    INFO(name);
    CHECK(events::to_string(kind) == name);
    const bool final = name == "delivered" || name == "bounced" || name == "expired";
    CHECK(events::is_final(kind) == final);
    CHECK(events::ends_status(kind) == (final || name == "suppressed"));
  }
}
