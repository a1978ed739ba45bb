// Every sample in tests/data/feedback parsed, with what it must say asserted.
#include <catch2/catch.hpp>

#include <set>

#include "core/feedback/report.hpp"
#include "samples.hpp"

using namespace volley::feedback;
using Kind = Report::Kind;

namespace {

struct Rcpt {
  std::string address, action, status, diagnostic;  // diagnostic: expected prefix
};

struct Expected {
  std::string file;
  Kind kind;
  bool standard = true;
  std::vector<Rcpt> recipients = {};  // dsn
  std::string feedback_type = {};     // arf
  std::vector<std::string> rcpt_to = {};
  std::string volley_id = {};  // of the original
  std::string return_path = {};
  std::string message_id = {};
};

const std::string kVid = "0123456789abcdef01234567";
const std::string kMid = "<0123456789abcdef01234567@example.com>";
std::string verp(int n) { return "bounces+0123456789abcdef01234567-" + std::to_string(n) + "@bounce.example.com"; }

const std::vector<Expected>& table() {
  static const std::vector<Expected> t = {
      {"rfc3464_example1.eml", Kind::dsn, true,
       {{"louisl@larry.example.net", "failed", "4.0.0", "426 connection timed out"}}, "", {}, "", "sender@example.com",
       "<199407022109.RAA10468@relay.example.com>"},
      {"rfc3464_multi_recipient.eml", Kind::dsn, true,
       {{"arathib@vnet.example.net", "failed", "5.0.0", "550 'arathib@vnet.example.net' is not a registered gateway user"},
        {"johnh@hpnjld.example.net", "delayed", "4.0.0", ""},
        {"wsnell@sdcc13.example.edu", "failed", "5.0.0", "550 user unknown"},
        {"carol@example.org", "delivered", "2.0.0", ""}},
       "", {}, "", "owner-list@example.com", "<digest-42@example.com>"},
      {"rfc3464_delayed.eml", Kind::dsn, true,
       {{"slow@example.net", "delayed", "4.4.7", "451 4.4.7 Message delayed: remote server busy, try again later"}}, "",
       {}, kVid, verp(0), kMid},
      {"rfc6533_global_dsn.eml", Kind::dsn, true,
       {{"jörg@example.de", "failed", "5.1.1", "550 5.1.1 <jörg@example.de>"}}, "", {}, "89abcdef0123456789abcdef",
       "bounces+89abcdef0123456789abcdef-2@bounce.example.com", "<89abcdef0123456789abcdef@example.com>"},
      {"gmail_dsn.eml", Kind::dsn, true,
       {{"nobody@example.net", "failed", "5.1.1",
         "550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown in virtual mailbox table"}},
       "", {}, kVid, verp(0), kMid},
      {"gmail_delayed_dsn.eml", Kind::dsn, true,
       {{"waiting@example.org", "delayed", "4.7.0", "421-4.7.0 Try again later, closing connection. 421 4.7.0"}}, "",
       {}, kVid, verp(1), kMid},
      {"outlook_o365_dsn.eml", Kind::dsn, true,
       {{"bob@example.net", "failed", "5.1.10", "550 5.1.10 RESOLVER.ADR.RecipientNotFound"}}, "", {}, kVid, verp(3), kMid},
      {"postfix_dsn.eml", Kind::dsn, true,
       {{"alice@example.org", "failed", "5.1.1",
         "550 5.1.1 <alice@example.org>: Recipient address rejected: User unknown in local recipient table"},
        {"bob@example.org", "failed", "5.2.2", "552 5.2.2 <bob@example.org>: Mailbox full"}},
       "", {}, kVid, verp(0), kMid},
      {"sendmail_dsn_delayed.eml", Kind::dsn, true, {{"leo@example.net", "delayed", "4.4.1", ""}}, "", {}, kVid, verp(0), kMid},
      {"hostile_huge_headers.eml", Kind::dsn, true,
       {{"xena@example.org", "failed", "5.0.0", "550 start of a very long diagnostic more text 0 more text 1"}}, "", {},
       "fedcba9876543210fedcba98", "", "<fedcba9876543210fedcba98@example.com>"},
      {"hostile_truncated_boundary.eml", Kind::dsn, true,
       {{"vera@example.org", "failed", "5.1.1", "550 5.1.1 unknown"}}},  // the cut-off second group is dropped

      // Non-standard bounces.
      {"exchange_text_ndr.eml", Kind::dsn, false,
       {{"dana.smith@corp.example.org", "failed", "5.1.1", "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found"}}, "", {},
       kVid, verp(4), kMid},
      {"o365_text_ndr.eml", Kind::dsn, false,
       {{"erin@example.net", "failed", "5.1.10",
         "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup"}},
       "", {}, kVid, verp(5), kMid},
      {"postfix_text_bounce.eml", Kind::dsn, false,
       {{"gone@example.net", "failed", "5.1.1",
         "550 5.1.1 <gone@example.net>: Recipient address rejected: User unknown (in reply to RCPT TO command)"}},
       "", {}, kVid, verp(0), kMid},
      {"exim_bounce.eml", Kind::dsn, false,
       {{"frank@example.net", "failed", "5.1.1", "550 5.1.1 <frank@example.net>: Recipient address rejected: User unknown"},
        {"grace@example.net", "failed", "5.0.0", "552 Message size exceeds fixed maximum message size"}},
       "", {}, kVid, verp(0), kMid},
      {"exim_delay.eml", Kind::dsn, false,
       {{"henry@example.org", "delayed", "4.7.1", "451 4.7.1 Greylisted, please try again later"}}},
      {"qmail_bounce.eml", Kind::dsn, false,
       {{"ivan@example.net", "failed", "5.1.1", "550 5.1.1 <ivan@example.net>: Recipient address rejected: User unknown"},
        {"judy@mail.example.net", "failed", "5.1.1", "Sorry, no mailbox here by that name. (#5.1.1)"}},
       "", {}, kVid, verp(0), kMid},
      {"sendmail_bounce.eml", Kind::dsn, false,
       {{"kim@example.org", "failed", "5.1.1", "550 5.1.1 <kim@example.org>... User unknown"}}, "", {}, kVid, verp(0), kMid},
      {"yahoo_bounce.eml", Kind::dsn, false,
       {{"mia@yahoo.example.com", "failed", "5.0.0", "554 delivery error: dd This user doesn't have"}}, "", {}, kVid,
       verp(0), kMid},
      {"hotmail_old_bounce.eml", Kind::dsn, false, {{"noah@hotmail.example.com", "failed", "5.0.0", ""}}, "", {}, kVid,
       verp(0), kMid},

      // Complaints.
      {"rfc5965_example.eml", Kind::arf, true, {}, "abuse", {"user@example.com"}, "", "",
       "8787KJKJ3K4J3K4J3K4J3.mail@example.net"},
      {"yahoo_arf.eml", Kind::arf, true, {}, "abuse", {"olivia@yahoo.example.com"}, kVid, verp(0), kMid},
      {"aol_arf_no_rcpt.eml", Kind::arf, true, {}, "abuse", {}, kVid, verp(0), kMid},
      {"comcast_arf.eml", Kind::arf, true, {}, "abuse", {"rita@comcast.example.net", "sam@comcast.example.net"}, kVid,
       verp(0), kMid},
      {"rfc6591_auth_failure.eml", Kind::arf, true, {}, "auth-failure", {"uma@example.net"}, kVid, verp(0), kMid},
      {"mailru_arf_textplain.eml", Kind::arf, false, {}, "abuse", {"tanya@mail.example.ru"}, kVid, verp(0), kMid},
      {"microsoft_jmrp.eml", Kind::arf, false, {}, "abuse", {"quinn@outlook.example.com"}, kVid, verp(0), kMid},

      // Not reports, or too broken to be read.
      {"autoreply_out_of_office.eml", Kind::unrecognised},
      {"not_a_report_newsletter.eml", Kind::unrecognised},
      {"hostile_missing_parts.eml", Kind::unrecognised},
      {"hostile_no_boundary.eml", Kind::unrecognised},
      {"hostile_deep_nesting.eml", Kind::unrecognised},
      {"hostile_binary_garbage.eml", Kind::unrecognised},
  };
  return t;
}

const OriginalHeaders& original_of(const Report& r) { return r.kind == Kind::arf ? r.arf.original : r.dsn.original; }

}  // namespace

TEST_CASE("every corpus sample has expectations, and the corpus is big enough") {
  std::set<std::string> expected;
  for (const auto& e : table()) expected.insert(e.file);
  auto names = test::sample_names();
  CHECK(names.size() >= 24);
  for (const auto& name : names) {
    CAPTURE(name);
    CHECK(expected.count(name) == 1);
  }
  CHECK(expected.size() == names.size());
}

TEST_CASE("each corpus sample parses to what it says") {
  for (const auto& e : table()) {
    CAPTURE(e.file);
    auto message = test::read_sample(e.file);
    REQUIRE(!message.empty());
    auto r = parse_report(message);
    CAPTURE(r.problem);
    REQUIRE(r.kind == e.kind);
    if (e.kind == Kind::unrecognised) {
      CHECK(!r.problem.empty());
      continue;
    }
    const auto& original = original_of(r);
    CHECK(original.volley_id == e.volley_id);
    CHECK(original.return_path == e.return_path);
    CHECK(original.message_id == e.message_id);
    if (e.kind == Kind::dsn) {
      CHECK(r.dsn.standard == e.standard);
      REQUIRE(r.dsn.recipients.size() == e.recipients.size());
      for (std::size_t i = 0; i < e.recipients.size(); ++i) {
        const auto& got = r.dsn.recipients[i];
        const auto& want = e.recipients[i];
        CHECK(got.final_recipient == want.address);
        CHECK(got.action == want.action);
        CHECK(got.status == want.status);
        CHECK_THAT(got.diagnostic_code, Catch::StartsWith(want.diagnostic));
        if (want.diagnostic.empty()) CHECK(got.diagnostic_code.empty());
      }
    } else {
      CHECK(r.arf.standard == e.standard);
      CHECK(r.arf.feedback_type == e.feedback_type);
      CHECK(r.arf.original_rcpt_to == e.rcpt_to);
    }
  }
}

TEST_CASE("per-message DSN fields are read") {
  auto r = parse_report(test::read_sample("rfc3464_multi_recipient.eml"));
  REQUIRE(r.kind == Kind::dsn);
  CHECK(r.dsn.reporting_mta == "mx.example.org");
  CHECK(r.dsn.original_envelope_id == "list-0042-bcast");
  CHECK(r.dsn.arrival_date == "Fri, 8 Jul 1994 09:21:45 -0400");
  CHECK(r.dsn.recipients[0].original_recipient == "arathib@vnet.example.net");
  CHECK(r.dsn.recipients[0].remote_mta == "vnet.example.net");
  CHECK(r.dsn.recipients[3].original_recipient.empty());

  auto gmail = parse_report(test::read_sample("gmail_dsn.eml"));
  CHECK(gmail.dsn.reporting_mta == "googlemail.com");
  CHECK(gmail.dsn.recipients.at(0).remote_mta == "mx.example.net");  // comment and root dot dropped
  CHECK(gmail.dsn.original.subject == "Your March update");
  CHECK(gmail.dsn.original.from == "Example News <news@example.com>");
}

TEST_CASE("ARF fields are read") {
  auto r = parse_report(test::read_sample("rfc5965_example.eml"));
  REQUIRE(r.kind == Kind::arf);
  const auto& a = r.arf;
  CHECK(a.user_agent == "SomeGenerator/1.0");
  CHECK(a.version == "1");
  CHECK(a.original_mail_from == "somespammer@example.net");
  CHECK(a.source_ip == "192.0.2.1");
  CHECK(a.arrival_date == "Thu, 8 Mar 2005 14:00:00 EDT");
  CHECK(a.reporting_mta == "mail.example.com");
  CHECK(a.reported_domain == "example.net");
  CHECK(a.original.subject == "Earn money");

  auto comcast = parse_report(test::read_sample("comcast_arf.eml"));  // base64 feedback part
  CHECK(comcast.arf.incidents == "2");
  CHECK(comcast.arf.reporting_mta == "fbl.comcast.example.net");

  auto aol = parse_report(test::read_sample("aol_arf_no_rcpt.eml"));
  CHECK(aol.arf.source_ip == "192.0.2.10");  // "(out1.example.com)" comment dropped
  CHECK(aol.arf.original.to == "paul@aol.example.net");  // the only place the recipient shows

  auto auth = parse_report(test::read_sample("rfc6591_auth_failure.eml"));
  CHECK(auth.arf.source_ip == "2001:db8::25");

  auto jmrp = parse_report(test::read_sample("microsoft_jmrp.eml"));
  CHECK(jmrp.arf.source_ip == "192.0.2.10");
}

TEST_CASE("huge headers are cut to the limits, not refused") {
  auto r = parse_report(test::read_sample("hostile_huge_headers.eml"));
  REQUIRE(r.kind == Kind::dsn);
  CHECK(r.dsn.recipients.at(0).diagnostic_code.size() <= kMaxValueLength);
  CHECK(r.dsn.recipients.at(0).diagnostic_code.size() > 4000);
  CHECK(r.dsn.original.all.size() == kMaxHeaders);
}
