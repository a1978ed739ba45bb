// From parsed reports to events tied to their recipient messages (core/feedback/correlate.hpp):
// where a report points, what its events say, and what the history adds.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "core/feedback/correlate.hpp"

using namespace volley;
using namespace volley::feedback;
using events::OutcomeKind;
using nlohmann::json;

namespace {

const std::string kMessage = "0194c3b2a1f0e9d8c7b6a5f4";
const std::string kRcpt = kMessage + "-0";
const std::string kOther = kMessage + "-1";

delivery::ReturnPaths paths() {
  return delivery::ReturnPaths({delivery::ReturnPathRule{"*", "bounce.volley.test", "bounces"}}, "secret key");
}

std::string verp(const std::string& rcpt_id) {
  const auto p = paths();
  return p.address(*p.for_sender("news@shop.test"), rcpt_id);
}

DsnRecipient failed(std::string address, std::string status, std::string diagnostic) {
  DsnRecipient r;
  r.final_recipient = std::move(address);
  r.action = "failed";
  r.status = std::move(status);
  r.diagnostic_code = std::move(diagnostic);
  return r;
}

Report dsn_of(std::vector<DsnRecipient> recipients) {
  Report r;
  r.kind = Report::Kind::dsn;
  r.dsn.reporting_mta = "mx.gone.test";
  r.dsn.recipients = std::move(recipients);
  return r;
}

Report arf_of(std::string feedback_type) {
  Report r;
  r.kind = Report::Kind::arf;
  r.arf.feedback_type = std::move(feedback_type);
  r.arf.user_agent = "ProviderFBL/2.1";
  r.arf.source_ip = "192.0.2.1";
  r.arf.original.to = "Reader <reader@ok.test>";
  return r;
}

const delivery::ReplyClassifier& classifier() {
  static const auto c = delivery::ReplyClassifier::builtin();
  return c;
}

}  // namespace

TEST_CASE("a report to a VERP address is about the recipient message the address names") {
  OriginalHeaders none;
  const auto where = locate(paths(), {verp(kRcpt)}, none, 1);
  CHECK(where.rcpt_id == kRcpt);
  CHECK(where.message_id.empty());
}

TEST_CASE("a VERP address with a wrong tag names nothing, and nothing else is tried without headers") {
  OriginalHeaders none;
  std::string forged = verp(kRcpt);
  forged[forged.find('.') + 1] = forged[forged.find('.') + 1] == 'a' ? 'b' : 'a';
  const auto where = locate(paths(), {forged}, none, 1);
  CHECK(where.rcpt_id.empty());
  CHECK(where.message_id.empty());
}

TEST_CASE("the quoted original's signed X-Volley-ID names a recipient or a message, an unsigned one nothing") {
  const auto p = paths();
  OriginalHeaders original;
  original.volley_id = p.signed_id(kRcpt);
  CHECK(locate(p, {"fbl@fbl.test"}, original, 1).rcpt_id == kRcpt);
  original.volley_id = p.signed_id(kMessage);
  const auto message = locate(p, {"fbl@fbl.test"}, original, 1);
  CHECK(message.rcpt_id.empty());
  CHECK(message.message_id == kMessage);
  original.volley_id = kRcpt;  // no tag
  const auto unsigned_id = locate(p, {"fbl@fbl.test"}, original, 1);
  CHECK(unsigned_id.rcpt_id.empty());
  CHECK(unsigned_id.message_id.empty());
}

TEST_CASE("the quoted original's VERP Return-Path is the last resort before the envelope") {
  OriginalHeaders original;
  original.return_path = verp(kOther);
  CHECK(locate(paths(), {"postmaster@shop.test"}, original, 1).rcpt_id == kOther);
  // A DSN of two failed recipients that came to one VERP address: the quoted original decides.
  CHECK(locate(paths(), {verp(kRcpt)}, original, 2).rcpt_id == kOther);
  // ... and when it names nothing, the VERP address still does.
  CHECK(locate(paths(), {verp(kRcpt)}, OriginalHeaders{}, 2).rcpt_id == kRcpt);
}

TEST_CASE("each failed DSN recipient becomes one classified async_bounce, delayed ones none") {
  auto delayed = failed("late@gone.test", "4.4.1", "");
  delayed.action = "delayed";
  OriginalHeaders original;
  auto report = dsn_of({failed("User@Gone.Test", "5.1.1", "550 5.1.1 <user@gone.test>: user unknown"), delayed});
  const auto out = report_events(report, {verp(kRcpt)}, paths(), classifier());
  REQUIRE(out.size() == 1);
  const auto& o = out[0].event;
  CHECK(o.kind == OutcomeKind::async_bounce);
  CHECK(o.recipient == "User@Gone.Test");
  CHECK(o.domain == "gone.test");
  CHECK(o.category == "bad-mailbox");
  CHECK(o.reply.rfind("550 5.1.1", 0) == 0);
  CHECK(o.reply.find("5.1.1 5.1.1") == std::string::npos);  // the enhanced code once
  CHECK(o.rcpt_id == kRcpt);
  CHECK(o.message_id == kMessage);
  CHECK(o.at_ms == 0);  // the caller's to set
  const auto report_json = json::parse(o.report_json);
  CHECK(report_json == json{{"format", "rfc3464"},
                            {"action", "failed"},
                            {"status", "5.1.1"},
                            {"diagnostic_code", "550 5.1.1 <user@gone.test>: user unknown"},
                            {"reporting_mta", "mx.gone.test"},
                            {"final_recipient", "User@Gone.Test"}});
}

TEST_CASE("a DSN without a diagnostic code is read from its status") {
  const auto out = report_events(dsn_of({failed("user@gone.test", "4.2.2", "")}), {verp(kRcpt)}, paths(), classifier());
  REQUIRE(out.size() == 1);
  CHECK(out[0].event.reply.rfind("450 4.2.2", 0) == 0);
  CHECK(json::parse(out[0].event.report_json).count("diagnostic_code") == 0);
}

TEST_CASE("failed recipients that resolve to one recipient message give one event") {
  const auto p = paths();
  Report report = dsn_of({failed("a@gone.test", "5.1.1", ""), failed("b@gone.test", "5.1.1", "")});
  report.dsn.original.volley_id = p.signed_id(kRcpt);
  CHECK(report_events(report, {"postmaster@shop.test"}, p, classifier()).size() == 1);
  // Unmatched ones stay apart: each is logged on its own.
  report.dsn.original.volley_id.clear();
  CHECK(report_events(report, {"postmaster@shop.test"}, p, classifier()).size() == 2);
}

TEST_CASE("an ARF report becomes one complaint with its feedback type and the address inside <>") {
  auto report = arf_of("abuse");
  report.arf.original.volley_id = paths().signed_id(kMessage);
  const auto out = report_events(report, {"fbl@fbl.volley.test"}, paths(), classifier());
  REQUIRE(out.size() == 1);
  const auto& o = out[0].event;
  CHECK(o.kind == OutcomeKind::complaint);
  CHECK(o.recipient == "reader@ok.test");
  CHECK(o.domain == "ok.test");
  CHECK(o.category == "abuse");
  CHECK(out[0].where.message_id == kMessage);
  CHECK(o.message_id == kMessage);
  CHECK(o.rcpt_id.empty());
  CHECK(json::parse(o.report_json) ==
        json{{"format", "rfc5965"}, {"feedback_type", "abuse"}, {"user_agent", "ProviderFBL/2.1"}, {"source_ip", "192.0.2.1"}});
}

TEST_CASE("feedback types outside RFC 5965 are other, a missing one abuse") {
  CHECK(feedback_type("not-spam") == "not-spam");
  CHECK(feedback_type("auth-failure") == "auth-failure");
  CHECK(feedback_type("") == "abuse");
  CHECK(feedback_type("<script>") == "other");
  auto report = arf_of("made-up");
  report.arf.original_rcpt_to = {"first@ok.test"};
  const auto out = report_events(report, {}, paths(), classifier());
  REQUIRE(out.size() == 1);
  CHECK(out[0].event.category == "other");
  CHECK(out[0].event.recipient == "first@ok.test");  // Original-Rcpt-To before To:
}

TEST_CASE("an unrecognised report gives no events") {
  Report report;
  report.problem = "no report part";
  CHECK(report_events(report, {verp(kRcpt)}, paths(), classifier()).empty());
}

TEST_CASE("the history record fills the message's fields into the event") {
  events::Outcome o;
  o.kind = OutcomeKind::async_bounce;
  o.recipient = "User@Gone.Test";
  o.rcpt_id = kRcpt;
  apply_history(o, R"({"event":"delivered","id":"ignored","message_id":")" + kMessage +
                       R"(","recipient":"user@gone.test","tenant":"t1","campaign":"spring","pool":"bulk",)"
                       R"("source":"s1","mx_host":"mx.gone.test","received_at":1700000000000,)"
                       R"("tags":["newsletter","eu"],"metadata":{"customer":42}})");
  CHECK(o.rcpt_id == kRcpt);  // the report's own
  CHECK(o.message_id == kMessage);
  CHECK(o.recipient == "user@gone.test");  // as sent
  CHECK(o.domain == "gone.test");
  CHECK(o.tenant == "t1");
  CHECK(o.campaign == "spring");
  CHECK(o.pool == "bulk");
  CHECK(o.source == "s1");
  CHECK(o.mx_host == "mx.gone.test");
  CHECK(o.received_at_ms == 1700000000000);
  REQUIRE(o.extras);
  CHECK(o.extras->tags == std::vector<std::string>{"newsletter", "eu"});
  CHECK(json::parse(o.extras->metadata_json) == json{{"customer", 42}});
}

TEST_CASE("a history record without an id gives its own, and one that is not JSON changes nothing") {
  events::Outcome o;
  o.recipient = "a@b.test";
  apply_history(o, "not json");
  CHECK(o.rcpt_id.empty());
  CHECK(o.tenant.empty());
  apply_history(o, R"({"id":")" + kOther + R"(","tenant":"t2"})");
  CHECK(o.rcpt_id == kOther);
  CHECK(o.tenant == "t2");
  CHECK(o.recipient == "a@b.test");
  CHECK_FALSE(o.extras);
}

TEST_CASE("an event's JSON line read back as history gives the same message fields") {
  events::Outcome sent;
  sent.kind = OutcomeKind::delivered;
  sent.rcpt_id = kRcpt;
  sent.message_id = kMessage;
  sent.recipient = "user@gone.test";
  sent.domain = "gone.test";
  sent.tenant = "t1";
  sent.campaign = "spring";
  sent.pool = "bulk";
  sent.source = "s1";
  sent.mx_host = "mx.gone.test";
  sent.received_at_ms = 1700000000000;
  auto extras = std::make_shared<events::MessageExtras>();
  extras->tags = {"a"};
  extras->metadata_json = R"({"k":"v"})";
  sent.extras = extras;
  events::Outcome later;
  later.rcpt_id = kRcpt;
  apply_history(later, events::to_json(sent));
  CHECK(later.message_id == sent.message_id);
  CHECK(later.recipient == sent.recipient);
  CHECK(later.tenant == sent.tenant);
  CHECK(later.campaign == sent.campaign);
  CHECK(later.pool == sent.pool);
  CHECK(later.source == sent.source);
  CHECK(later.mx_host == sent.mx_host);
  CHECK(later.received_at_ms == sent.received_at_ms);
  REQUIRE(later.extras);
  CHECK(later.extras->tags == extras->tags);
  CHECK(json::parse(later.extras->metadata_json) == json::parse(extras->metadata_json));
}
