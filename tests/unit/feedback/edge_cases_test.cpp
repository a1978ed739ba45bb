// Edge cases of the report parser and the field and status readers under it.
#include <catch2/catch.hpp>

#include "core/feedback/fields.hpp"
#include "core/feedback/report.hpp"
#include "core/feedback/status_text.hpp"
#include "samples.hpp"

using namespace volley::feedback;
using Kind = Report::Kind;

namespace {

std::string crlf(std::string_view lf) {
  std::string out;
  for (char c : lf) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

std::string lf(std::string_view text) {
  std::string out;
  for (char c : text)
    if (c != '\r') out += c;
  return out;
}

const char* kDsn =
    "From: MAILER-DAEMON@example.org\n"
    "Content-Type: multipart/report; report-type=delivery-status; boundary=b\n"
    "\n"
    "--b\n"
    "Content-Type: message/delivery-status\n"
    "\n"
    "reporting-mta: DNS; mx.example.org (Postfix)\n"
    "\n"
    "final-recipient: RFC822; \"odd (name)\"@example.org (a comment)\n"
    "ACTION: Failed (gave up)\n"
    "status: 5.1.1 (bad mailbox)\n"
    "diagnostic-code: SMTP;\n"
    "\t550\n"
    "  5.1.1   user\n"
    " unknown\n"
    "\n"
    "--b--\n";

}  // namespace

TEST_CASE("delivery-status fields: any case, comments, folds") {
  auto r = parse_report(kDsn);
  REQUIRE(r.kind == Kind::dsn);
  CHECK(r.dsn.reporting_mta == "mx.example.org");
  REQUIRE(r.dsn.recipients.size() == 1);
  const auto& x = r.dsn.recipients[0];
  CHECK(x.final_recipient == "\"odd (name)\"@example.org");
  CHECK(x.action == "failed");
  CHECK(x.status == "5.1.1");
  CHECK(x.diagnostic_code == "550 5.1.1   user unknown");  // folds joined; spaces inside a line kept
}

TEST_CASE("CRLF and LF line ends give the same report") {
  for (const auto& name : {"gmail_dsn.eml", "exim_bounce.eml", "yahoo_arf.eml", "exchange_text_ndr.eml"}) {
    CAPTURE(name);
    auto original = test::read_sample(name);
    auto a = parse_report(crlf(lf(original)));
    auto b = parse_report(lf(original));
    REQUIRE(a.kind == b.kind);
    REQUIRE(a.kind != Kind::unrecognised);
    CHECK(a.dsn.recipients.size() == b.dsn.recipients.size());
    for (std::size_t i = 0; i < a.dsn.recipients.size(); ++i)
      CHECK(a.dsn.recipients[i].diagnostic_code == b.dsn.recipients[i].diagnostic_code);
    CHECK(a.arf.original_rcpt_to == b.arf.original_rcpt_to);
    CHECK(a.dsn.original.all == b.dsn.original.all);
    CHECK(a.arf.original.all == b.arf.original.all);
  }
}

TEST_CASE("empty, tiny and oversized input is refused, not parsed") {
  CHECK(parse_report("").kind == Kind::unrecognised);
  CHECK(parse_report("x").kind == Kind::unrecognised);
  CHECK(parse_report("\n\n\n").kind == Kind::unrecognised);
  std::string huge(kMaxMessageSize + 1, 'a');
  auto r = parse_report(huge);
  CHECK(r.kind == Kind::unrecognised);
  CHECK_THAT(r.problem, Catch::Contains("20 MiB"));
}

TEST_CASE("a report forwarded as an attachment is read, a report about a bounce stays a report") {
  auto inner = lf(test::read_sample("postfix_dsn.eml"));
  std::string forwarded =
      "From: helpdesk@example.net\nSubject: Fwd: bounce\nContent-Type: multipart/mixed; boundary=fw\n\n"
      "--fw\nContent-Type: text/plain\n\nSee attached.\n\n--fw\nContent-Type: message/rfc822\n\n" +
      inner + "\n--fw--\n";
  auto r = parse_report(forwarded);
  REQUIRE(r.kind == Kind::dsn);
  CHECK(r.dsn.recipients.size() == 2);

  // An ARF about a message that itself was a bounce: the complaint wins.
  auto arf = lf(test::read_sample("rfc5965_example.eml"));
  auto at = arf.find("From: <somespammer@example.net>");
  REQUIRE(at != std::string::npos);
  arf.insert(at, "Content-Type: multipart/report; report-type=delivery-status; boundary=zz\n");
  CHECK(parse_report(arf).kind == Kind::arf);
}

TEST_CASE("field blocks: folding, junk lines, limits") {
  auto groups = parse_field_groups("A: 1\n  more\nnot a field\n\tstray fold\nB : 2\n\n\n\nC: 3\n", 10, 10);
  REQUIRE(groups.size() == 2);
  CHECK(groups[0].size() == 2);
  CHECK(field_value(groups[0], "a") == "1 more");
  CHECK(field_value(groups[0], "B") == "2");
  CHECK(field_value(groups[1], "c") == "3");
  CHECK(parse_field_groups("A: 1\n\nB: 2\n\nC: 3\n", 2, 10).size() == 2);
  CHECK(parse_header_block("A: 1\nB: 2\nC: 3\n", 2).size() == 2);
  CHECK(parse_header_block("A: 1\n\nB: 2\n", 10).size() == 1);
  std::string long_value = "X: " + std::string(3 * kMaxValueLength, 'v') + "\n " + std::string(100, 'w') + "\n";
  CHECK(parse_header_block(long_value, 10).at(0).value.size() == kMaxValueLength);
}

TEST_CASE("addresses and typed values") {
  CHECK(typed_address("rfc822; <a@example.org>") == "a@example.org");
  CHECK(typed_address("rfc822;a@example.org (comment)") == "a@example.org");
  CHECK(typed_address("a@example.org") == "a@example.org");
  CHECK(addr_spec("Name <a@example.org>") == "a@example.org");
  CHECK(addr_spec("<>").empty());
  CHECK(addr_spec("x a@example.org y") == "a@example.org");
  CHECK(addr_spec("no address here") == "no address here");
  CHECK(after_type("smtp; 550 5.1.1 x; y") == "550 5.1.1 x; y");
  CHECK(strip_comments("a (b (c) d) e") == "a  e");
  CHECK(strip_comments("a (unclosed") == "a");
}

TEST_CASE("status codes found in prose") {
  CHECK(status_in("550 5.1.1 <a@b>: unknown") == "5.1.1");
  CHECK(status_in("Sorry (#5.1.1)") == "5.1.1");
  CHECK(status_in("550-5.7.1 blocked") == "5.7.1");
  CHECK(status_in("550 user unknown") == "5.0.0");
  CHECK(status_in("host 192.0.2.5 said 421 try later") == "4.0.0");
  CHECK(status_in("host 10.5.1.1 refused") == "");   // an IP address is no status
  CHECK(status_in("waited 2500 seconds") == "");     // nor a longer number
  CHECK(status_in("5.1.10 RESOLVER") == "5.1.10");
  CHECK(action_for_status("4.4.7") == "delayed");
  CHECK(action_for_status("") == "");
}

TEST_CASE("non-standard bounces: delay words and plain prose") {
  std::string qmail_like =
      "From: MAILER-DAEMON@example.net\nSubject: failure notice\n\n"
      "Hi. This is the qmail-send program at example.net.\n\n"
      "<a@example.org>:\nConnection refused. This is only a warning; I will keep trying.\n";
  auto r = parse_report(qmail_like);
  REQUIRE(r.kind == Kind::dsn);
  CHECK_FALSE(r.dsn.standard);
  CHECK(r.dsn.reporting_mta == "example.net");
  REQUIRE(r.dsn.recipients.size() == 1);
  CHECK(r.dsn.recipients[0].action == "delayed");
  CHECK(r.dsn.recipients[0].status == "4.0.0");

  // A bounce phrase but no recipient in sight is not a report.
  CHECK(parse_report("Subject: Undeliverable\n\nYour message could not be delivered.\n").kind == Kind::unrecognised);
}
