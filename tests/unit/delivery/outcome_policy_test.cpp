#include <catch2/catch.hpp>

#include "core/delivery/outcome_policy.hpp"

using namespace volley::delivery;
using volley::smtp::Reply;
using volley::smtp::Stage;

namespace {

RetryPolicy policy() {
  RetryPolicy p;
  p.first = std::chrono::seconds(300);
  p.max_interval = std::chrono::seconds(3600);
  p.max_age = std::chrono::seconds(24 * 3600);
  p.greylist = {std::chrono::seconds(60)};
  return p;
}

Reply reply(int code, std::string enhanced, std::string text, Stage stage = Stage::rcpt) {
  Reply r = Reply::synthetic(code, std::move(enhanced), std::move(text));
  r.stage = stage;
  return r;
}

constexpr std::int64_t kNow = 10'000'000;

}  // namespace

TEST_CASE("outcome policy: a 2xx delivers, a 5xx bounces with its category and stage") {
  const auto classifier = ReplyClassifier::builtin();
  OutcomePolicy p(classifier);
  PendingRcpt r{"a@example.com", 0, 1, 0, 0};
  auto ok = p.on_reply(reply(250, "2.0.0", "queued as 1", Stage::data), policy(), r, 0, kNow);
  CHECK(ok.verdict == Verdict::delivered);
  CHECK(ok.reply == reply(250, "2.0.0", "queued as 1").summary());
  CHECK(ok.category.empty());
  auto no = p.on_reply(reply(550, "5.1.1", "user unknown"), policy(), r, 0, kNow);
  CHECK(no.verdict == Verdict::bounced);
  CHECK(no.category == classifier.classify_permanent(reply(550, "5.1.1", "user unknown")).category);
  CHECK(no.category == "bad-mailbox");
  CHECK(no.stage == Stage::rcpt);
}

TEST_CASE("outcome policy: a temporary failure is deferred on the schedule of its kind") {
  const auto classifier = ReplyClassifier::builtin();
  OutcomePolicy p(classifier);
  PendingRcpt first{"a@example.com", 0, 1, 0, 0};
  PendingRcpt third{"a@example.com", 0, 3, 0, 0};

  auto other = p.on_reply(reply(451, "4.3.0", "local problem"), policy(), first, 0, kNow);
  CHECK(other.verdict == Verdict::deferred);
  CHECK(other.kind == TempfailKind::other);
  CHECK(other.category == "other");
  CHECK(other.next_attempt_ms == kNow + 300'000);
  // The delay doubles with each failed attempt: 300 s, 600 s, 1200 s.
  CHECK(p.on_reply(reply(451, "4.3.0", "local problem"), policy(), third, 0, kNow).next_attempt_ms == kNow + 1'200'000);

  auto grey = p.on_reply(reply(451, "4.7.1", "greylisted, come back later"), policy(), third, 0, kNow);
  CHECK(grey.kind == TempfailKind::greylisted);
  CHECK(grey.category == "greylisted");
  CHECK(grey.next_attempt_ms == kNow + 60'000);  // the greylist schedule, whatever the attempt

  // "Slow down" keeps the first delay: the destination's backoff does the slowing.
  auto slow = p.on_reply(reply(421, "4.7.0", "too many connections from your IP"), policy(), third, 0, kNow);
  CHECK(slow.kind == TempfailKind::rate_limited);
  CHECK(slow.next_attempt_ms == kNow + 300'000);
  CHECK(p.rate_limited(reply(421, "4.7.0", "too many connections from your IP")));
  CHECK_FALSE(p.rate_limited(reply(451, "4.3.0", "local problem")));
}

TEST_CASE("outcome policy: a failure before reaching a server is never greylisting") {
  const auto classifier = ReplyClassifier::builtin();
  OutcomePolicy p(classifier);
  PendingRcpt r{"a@example.com", 0, 2, 0, 0};
  auto d = p.on_temporary(reply(451, "4.7.1", "greylisted"), false, policy(), r, 0, kNow);
  CHECK(d.kind == TempfailKind::other);
  CHECK(d.next_attempt_ms == kNow + 600'000);
}

TEST_CASE("outcome policy: past the maximum age a temporary failure expires") {
  const auto classifier = ReplyClassifier::builtin();
  OutcomePolicy p(classifier);
  PendingRcpt r{"a@example.com", 0, 7, 0, 0};
  const std::int64_t received = kNow - 24 * 3600 * 1000ll;
  auto d = p.on_reply(reply(451, "4.3.0", "local problem"), policy(), r, received, kNow);
  CHECK(d.verdict == Verdict::expired);
  CHECK(d.category == "message-expired");
  CHECK(d.reply == "gave up after 7 attempts; last reply: " + reply(451, "4.3.0", "local problem").summary());
  // Just before the limit, the next attempt is placed at the limit itself.
  auto last = p.on_reply(reply(451, "4.3.0", "local problem"), policy(), r, received + 60'000, kNow);
  CHECK(last.verdict == Verdict::deferred);
  CHECK(last.next_attempt_ms == received + 60'000 + 24 * 3600 * 1000ll);
}

TEST_CASE("outcome policy: local decisions") {
  PendingRcpt r{"a@example.com", 0, 4, 0, 0};
  auto held = OutcomePolicy::held_too_long(r);
  CHECK(held.verdict == Verdict::expired);
  CHECK(held.reply == "gave up after 4 attempts: held past the maximum queue age");
  auto op = OutcomePolicy::operator_bounce("cleanup");
  CHECK(op.verdict == Verdict::bounced);
  CHECK(op.reply == "554 5.0.0 bounced by an operator: cleanup");
  CHECK(op.category == "other");
  CHECK(OutcomePolicy::operator_bounce("").reply == "554 5.0.0 bounced by an operator");
  auto refused = OutcomePolicy::refused(Reply::synthetic(550, "5.1.2", "x: no MX"), "bad-domain");
  CHECK(refused.verdict == Verdict::bounced);
  CHECK(refused.category == "bad-domain");
}
