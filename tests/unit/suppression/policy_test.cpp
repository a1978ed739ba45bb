// Which outcomes put an address on the suppression list (core/suppression/policy.hpp).
#include <catch2/catch.hpp>

#include "core/suppression/policy.hpp"

using namespace volley;
using events::OutcomeKind;
using suppression::Policy;

namespace {

events::Outcome outcome(OutcomeKind kind, std::string category, smtp::Stage stage = smtp::Stage::none) {
  events::Outcome o;
  o.kind = kind;
  o.tenant = "t1";
  o.recipient = "User@Gone.Test";
  o.category = std::move(category);
  o.reply = "550 5.1.1 user unknown";
  o.smtp_stage = stage;
  return o;
}

const Policy kPolicy({"bad-mailbox", "bad-domain"}, true);

}  // namespace

TEST_CASE("a synchronous bounce suppresses when its category does and the reply was about the recipient") {
  for (auto stage : {smtp::Stage::rcpt, smtp::Stage::end_of_data, smtp::Stage::none}) {
    INFO(smtp::to_string(stage));
    const auto e = suppression::entry_for(outcome(OutcomeKind::bounced, "bad-mailbox", stage), kPolicy);
    REQUIRE(e);
    CHECK(e->tenant == "t1");
    CHECK(e->email == "User@Gone.Test");
    CHECK(e->reason == "hard_bounce");
    CHECK(e->source == "bounce");
    CHECK(e->category == "bad-mailbox");
    CHECK(e->description == "550 5.1.1 user unknown");
  }
  for (auto stage : {smtp::Stage::greeting, smtp::Stage::ehlo, smtp::Stage::mail, smtp::Stage::data}) {
    INFO(smtp::to_string(stage));
    CHECK_FALSE(suppression::suppresses(outcome(OutcomeKind::bounced, "bad-mailbox", stage), kPolicy));
    CHECK_FALSE(suppression::entry_for(outcome(OutcomeKind::bounced, "bad-mailbox", stage), kPolicy));
  }
  CHECK_FALSE(suppression::suppresses(outcome(OutcomeKind::bounced, "policy", smtp::Stage::rcpt), kPolicy));
}

TEST_CASE("an asynchronous bounce suppresses by its category alone") {
  const auto e = suppression::entry_for(outcome(OutcomeKind::async_bounce, "bad-domain"), kPolicy);
  REQUIRE(e);
  CHECK(e->reason == "hard_bounce");
  CHECK(e->source == "async_bounce");
  CHECK_FALSE(suppression::suppresses(outcome(OutcomeKind::async_bounce, "mailbox-full"), kPolicy));
}

TEST_CASE("complaints suppress, not-spam and disabled complaints do not") {
  const auto e = suppression::entry_for(outcome(OutcomeKind::complaint, "abuse"), kPolicy);
  REQUIRE(e);
  CHECK(e->reason == "complaint");
  CHECK(e->source == "complaint");
  CHECK(e->category == "abuse");
  CHECK(e->description == "feedback type abuse");
  CHECK_FALSE(suppression::suppresses(outcome(OutcomeKind::complaint, "not-spam"), kPolicy));
  CHECK_FALSE(suppression::suppresses(outcome(OutcomeKind::complaint, "abuse"), Policy({"bad-mailbox"}, false)));
}

TEST_CASE("other outcomes, and outcomes without a tenant or a recipient, never suppress") {
  for (auto kind : {OutcomeKind::delivered, OutcomeKind::deferred, OutcomeKind::expired, OutcomeKind::received,
                    OutcomeKind::suppressed}) {
    INFO(events::to_string(kind));
    CHECK_FALSE(suppression::suppresses(outcome(kind, "bad-mailbox", smtp::Stage::rcpt), kPolicy));
  }
  auto no_tenant = outcome(OutcomeKind::async_bounce, "bad-mailbox");
  no_tenant.tenant.clear();
  CHECK_FALSE(suppression::entry_for(no_tenant, kPolicy));
  auto no_recipient = outcome(OutcomeKind::complaint, "abuse");
  no_recipient.recipient.clear();
  CHECK_FALSE(suppression::entry_for(no_recipient, kPolicy));
}

TEST_CASE("a long reply is cut to the list's description limit") {
  auto o = outcome(OutcomeKind::async_bounce, "bad-mailbox");
  o.reply = std::string(suppression::kMaxDescription + 50, 'x');
  const auto e = suppression::entry_for(o, kPolicy);
  REQUIRE(e);
  CHECK(e->description.size() == suppression::kMaxDescription);
}
