// The one JSON form of an event (core/events/outcome.hpp): the event log's lines, the webhooks'
// events and the history records are this text, so its exact shape is pinned here.
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

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

namespace {

// The line as an nlohmann object dumped, as to_json built it before it wrote the text itself:
// the reference the direct writer must match byte for byte.
std::string reference_json(const Outcome& o) {
  nlohmann::json j{{"event", events::to_string(o.kind)}, {"id", o.rcpt_id},      {"message_id", o.message_id},
                   {"recipient", o.recipient},            {"domain", o.domain},    {"tenant", o.tenant},
                   {"at", o.at_ms},                       {"received_at", o.received_at_ms}};
  if (o.attempt > 0) j["attempt"] = o.attempt;
  if (!o.campaign.empty()) j["campaign"] = o.campaign;
  if (!o.mx_host.empty()) j["mx_host"] = o.mx_host;
  if (!o.pool.empty()) j["pool"] = o.pool;
  if (!o.source.empty()) j["source"] = o.source;
  if (!o.reply.empty()) j["reply"] = o.reply;
  if (!o.category.empty()) j["category"] = o.category;
  if (o.smtp_stage != smtp::Stage::none) j["smtp_stage"] = smtp::to_string(o.smtp_stage);
  if (o.kind == OutcomeKind::deferred) j["next_attempt_at"] = o.next_attempt_ms;
  if (o.kind == OutcomeKind::delivered) {
    j["tls"] = o.tls ? nlohmann::json{{"version", o.tls->version},
                                      {"cipher", o.tls->cipher},
                                      {"verified", o.tls->verified},
                                      {"policy", o.tls->policy}}
                     : nlohmann::json(nullptr);
    auto& signatures = j["dkim"] = nlohmann::json::array();
    if (o.extras)
      for (const auto& d : o.extras->dkim)
        signatures.push_back({{"domain", d.domain}, {"selector", d.selector}, {"algorithm", d.algorithm}});
  }
  if (o.extras && !o.extras->tags.empty()) j["tags"] = o.extras->tags;
  std::string out = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  auto splice = [&out](std::string_view name, const std::string& object) {
    if (object.empty() || object == "{}") return;
    out.pop_back();
    out += ",\"";
    out += name;
    out += "\":";
    out += object;
    out += '}';
  };
  if (o.extras) splice("metadata", o.extras->metadata_json);
  splice("report", o.report_json);
  return out;
}

}  // namespace

TEST_CASE("the written line is nlohmann's dump of the same event, escapes and bad UTF-8 included") {
  const std::vector<std::string> texts = {
      "",        "plain",          "quote \" and back\\slash", "tab\there\r\nline", std::string("nul\0byte", 8),
      "\x01\x1f\x7f", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7", "bad \xff byte", "cut \xe2\x82", "overlong \xc0\xaf",
      "surrogate \xed\xa0\x80", "\xf4\x90\x80\x80 above"};
  const std::vector<OutcomeKind> kinds = {
      OutcomeKind::delivered, OutcomeKind::deferred,  OutcomeKind::bounced,     OutcomeKind::expired,
      OutcomeKind::received,  OutcomeKind::suppressed, OutcomeKind::async_bounce, OutcomeKind::complaint,
      OutcomeKind::unsubscribe, OutcomeKind::cancelled};
  std::size_t n = 0;
  for (const auto kind : kinds) {
    for (std::size_t t = 0; t < texts.size(); ++t) {
      const std::string& s = texts[t];
      const std::string& other = texts[(t + 5) % texts.size()];
      Outcome o;
      o.kind = kind;
      o.rcpt_id = "m" + s;
      o.message_id = s;
      o.recipient = other + "@b.test";
      o.domain = s;
      o.tenant = other;
      o.campaign = t % 2 ? s : "";
      o.mx_host = t % 3 ? other : "";
      o.pool = t % 4 ? s : "";
      o.source = t % 5 ? other : "";
      o.reply = s;
      o.category = other;
      o.attempt = static_cast<std::uint32_t>(t * 1000003u);
      o.at_ms = -static_cast<std::int64_t>(t) * 1234567890123;
      o.received_at_ms = static_cast<std::int64_t>(t) * 987654321987;
      o.next_attempt_ms = std::numeric_limits<std::int64_t>::max() - static_cast<std::int64_t>(t);
      o.smtp_stage = t % 2 ? smtp::Stage::rcpt : smtp::Stage::none;
      if (t % 3 != 1) o.tls = events::TlsSummary{s, other, t % 2 == 0, s};
      if (t % 4 != 3) {
        auto extras = std::make_shared<events::MessageExtras>();
        if (t % 2) extras->tags = {s, other, "x"};
        if (t % 3 == 0) extras->metadata_json = R"({"k":"v"})";
        if (t % 2 == 0) extras->dkim = {{s, other, "rsa-sha256"}, {"d.test", "sel", "ed25519-sha256"}};
        o.extras = extras;
      }
      if (t % 3 == 2) o.report_json = R"({"status":"5.1.1"})";
      INFO(events::to_string(kind) << " text " << t);
      CHECK(events::to_json(o) == reference_json(o));
      ++n;
    }
  }
  CHECK(n == kinds.size() * texts.size());
}
