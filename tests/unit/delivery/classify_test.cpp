#include <catch2/catch.hpp>

#include "core/delivery/classify.hpp"

using volley::delivery::bounce_category;
using volley::delivery::disposition;
using volley::delivery::Disposition;
using volley::smtp::Reply;

TEST_CASE("reply classes decide the disposition") {
  CHECK(disposition(Reply::synthetic(250, "2.0.0", "ok")) == Disposition::delivered);
  CHECK(disposition(Reply::synthetic(251, "", "forwarded")) == Disposition::delivered);
  CHECK(disposition(Reply::synthetic(450, "4.2.0", "greylisted")) == Disposition::deferred);
  CHECK(disposition(Reply::synthetic(421, "4.7.0", "too many connections")) == Disposition::deferred);
  CHECK(disposition(Reply::synthetic(550, "5.1.1", "no such user")) == Disposition::bounced);
  CHECK(disposition(Reply::synthetic(554, "", "rejected")) == Disposition::bounced);
}

TEST_CASE("bounce categories come from the enhanced status code first") {
  CHECK(bounce_category(Reply::synthetic(550, "5.1.1", "user unknown")) == "bad-mailbox");
  CHECK(bounce_category(Reply::synthetic(550, "5.1.2", "host unknown")) == "bad-domain");
  CHECK(bounce_category(Reply::synthetic(550, "5.1.10", "null MX")) == "bad-domain");
  CHECK(bounce_category(Reply::synthetic(550, "5.2.1", "mailbox disabled")) == "inactive-mailbox");
  CHECK(bounce_category(Reply::synthetic(552, "5.2.2", "mailbox full")) == "quota-issues");
  CHECK(bounce_category(Reply::synthetic(552, "5.3.4", "message too big")) == "content-related");
  CHECK(bounce_category(Reply::synthetic(554, "5.7.1", "message rejected as spam")) == "spam-related");
  CHECK(bounce_category(Reply::synthetic(554, "5.7.1", "relay access denied")) == "policy-related");
  CHECK(bounce_category(Reply::synthetic(554, "5.4.4", "unable to route")) == "routing-errors");
  CHECK(bounce_category(Reply::synthetic(550, "5.5.2", "syntax error")) == "protocol-errors");
  CHECK(bounce_category(Reply::synthetic(554, "5.6.0", "bad content")) == "content-related");
}

TEST_CASE("without an enhanced code the basic code and text decide") {
  CHECK(bounce_category(Reply::synthetic(550, "", "No such user here")) == "bad-mailbox");
  CHECK(bounce_category(Reply::synthetic(554, "", "Your message looks like SPAM")) == "spam-related");
  CHECK(bounce_category(Reply::synthetic(552, "", "Requested mail action aborted")) == "quota-issues");
  CHECK(bounce_category(Reply::synthetic(502, "", "Command not implemented")) == "protocol-errors");
  CHECK(bounce_category(Reply::synthetic(554, "", "Transaction failed")) == "other");
}
