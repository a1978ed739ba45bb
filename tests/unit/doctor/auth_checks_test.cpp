// The doctor's decisions on authentication records: DKIM, SPF verdicts, DMARC, alignment.
#include "core/doctor/auth_checks.hpp"

#include <catch2/catch.hpp>

using namespace volley;
using namespace volley::doctor;

namespace {

dns::RecordResolution txt(std::vector<std::string> texts) {
  dns::RecordResolution r;
  r.status = texts.empty() ? dns::Status::perm_fail : dns::Status::ok;
  if (texts.empty()) r.error = "NXDOMAIN";
  for (auto& t : texts) r.records.push_back(dns::Record{"x", dns::RrType::txt, 60, 0, std::move(t)});
  return r;
}

dns::RecordResolution servfail() {
  dns::RecordResolution r;
  r.status = dns::Status::temp_fail;
  r.error = "SERVFAIL";
  return r;
}

const DkimKey kKey{"good.test", false, "s1", "ed25519", "MCowBQYDK2VwAyEAabc="};

}  // namespace

TEST_CASE("DKIM: the published key must be the configured one", "[doctor][dkim]") {
  auto ok = check_dkim(kKey, txt({"v=DKIM1; k=ed25519; p=MCowBQYDK2VwAyEAabc="}));
  CHECK(ok.status == Status::ok);
  CHECK(ok.subject == "s1._domainkey.good.test");
  CHECK(ok.record == "v=DKIM1; k=ed25519; p=MCowBQYDK2VwAyEAabc=");
  CHECK(ok.fix.empty());
  // Folding white space inside p= is allowed (RFC 6376 §3.6.1); other TXT records are skipped.
  CHECK(check_dkim(kKey, txt({"v=spf1 -all", "v=DKIM1;k=ed25519;p=MCowBQYDK2Vw AyEAabc="})).status == Status::ok);

  auto other = check_dkim(kKey, txt({"v=DKIM1; k=ed25519; p=MCowBQYDK2VwAyEAxyz="}));
  CHECK(other.status == Status::fail);
  CHECK(other.fix == "the p= at s1._domainkey.good.test is another key than the configured one: publish "
                     "v=DKIM1; k=ed25519; p=MCowBQYDK2VwAyEAabc=");

  auto revoked = check_dkim(kKey, txt({"v=DKIM1; k=ed25519; p="}));
  CHECK(revoked.status == Status::fail);
  CHECK(revoked.fix.find("revoked") != std::string::npos);

  auto missing = check_dkim(kKey, txt({}));
  CHECK(missing.status == Status::fail);
  CHECK(missing.record.empty());
  CHECK(missing.fix == "publish a TXT record at s1._domainkey.good.test: v=DKIM1; k=ed25519; p=MCowBQYDK2VwAyEAabc=");

  // k= defaults to rsa: an Ed25519 key published without k= does not verify.
  CHECK(check_dkim(kKey, txt({"v=DKIM1; p=MCowBQYDK2VwAyEAabc="})).status == Status::fail);
  CHECK(check_dkim(kKey, txt({"v=DKIM2; k=ed25519; p=MCowBQYDK2VwAyEAabc="})).status == Status::fail);
  CHECK(check_dkim(kKey, txt({"garbage without tags"})).status == Status::fail);
  auto failed = check_dkim(kKey, servfail());
  CHECK(failed.status == Status::fail);
  CHECK(failed.fix.find("SERVFAIL") != std::string::npos);
}

TEST_CASE("SPF verdicts map to statuses and fixes", "[doctor][spf]") {
  SpfVerdict v{SpfResult::pass, "v=spf1 ip4:192.0.2.10 -all", ""};
  auto ok = spf_finding("good.test", "192.0.2.10", v);
  CHECK(ok.status == Status::ok);
  CHECK(ok.subject == "good.test for 192.0.2.10");
  CHECK(ok.record == "v=spf1 ip4:192.0.2.10 -all");

  v.result = SpfResult::fail;
  CHECK(spf_finding("example.com", "192.0.2.10", v).fix == "add ip4:192.0.2.10 to the SPF record of example.com");
  CHECK(spf_finding("example.com", "192.0.2.10", v).status == Status::fail);
  CHECK(spf_finding("example.com", "2001:db8::1", v).fix == "add ip6:2001:db8::1 to the SPF record of example.com");
  v.result = SpfResult::softfail;
  CHECK(spf_finding("example.com", "192.0.2.10", v).status == Status::warn);
  v.result = SpfResult::neutral;
  CHECK(spf_finding("example.com", "192.0.2.10", v).status == Status::warn);
  v.result = SpfResult::none;
  CHECK(spf_finding("example.com", "192.0.2.10", v).status == Status::fail);
  CHECK(spf_finding("example.com", "192.0.2.10", v).fix == "publish a TXT record at example.com: v=spf1 ip4:192.0.2.10 -all");
  v.result = SpfResult::permerror;
  v.detail = "Unknown mechanism found";
  CHECK(spf_finding("example.com", "192.0.2.10", v).status == Status::fail);
  CHECK(spf_finding("example.com", "192.0.2.10", v).fix.find("Unknown mechanism found") != std::string::npos);
  v.result = SpfResult::temperror;
  CHECK(spf_finding("example.com", "192.0.2.10", v).status == Status::fail);
}

TEST_CASE("DMARC: the domain's record first, then the org domain's, with its policy", "[doctor][dmarc]") {
  const dns::RecordResolution none = txt({});
  auto own = read_dmarc("good.test", "good.test", txt({"v=DMARC1; p=reject; adkim=s"}), none);
  CHECK(own.found);
  CHECK(own.where == "_dmarc.good.test");
  CHECK(own.p == "reject");
  CHECK(own.strict_dkim);
  CHECK_FALSE(own.strict_spf);
  CHECK(check_dmarc("good.test", "good.test", own, txt({"v=DMARC1; p=reject; adkim=s"}), none).status == Status::ok);

  // A subdomain without its own record takes the org domain's sp=.
  auto sub = read_dmarc("news.good.test", "good.test", none, txt({"v=DMARC1; p=reject; sp=none"}));
  CHECK(sub.found);
  CHECK(sub.where == "_dmarc.good.test");
  CHECK(sub.p == "none");
  auto monitoring = check_dmarc("news.good.test", "good.test", sub, none, txt({"v=DMARC1; p=reject; sp=none"}));
  CHECK(monitoring.status == Status::warn);
  CHECK(monitoring.fix.find("p=quarantine") != std::string::npos);

  auto missing = read_dmarc("broken.test", "broken.test", none, none);
  CHECK_FALSE(missing.found);
  auto f = check_dmarc("broken.test", "broken.test", missing, none, none);
  CHECK(f.status == Status::fail);
  CHECK(f.subject == "_dmarc.broken.test");
  CHECK(f.fix.rfind("publish a TXT record at _dmarc.broken.test: v=DMARC1; p=none", 0) == 0);

  // Invalid policies and two records are no policy.
  for (auto bad : {txt({"v=DMARC1; p=maybe"}), txt({"p=reject; v=DMARC1"}), txt({"v=DMARC1; p=reject", "v=DMARC1; p=none"})}) {
    auto p = read_dmarc("broken.test", "broken.test", bad, none);
    CHECK_FALSE(p.found);
    CHECK(check_dmarc("broken.test", "broken.test", p, bad, none).status == Status::fail);
  }
  CHECK(check_dmarc("x.test", "x.test", read_dmarc("x.test", "x.test", servfail(), none), servfail(), none)
            .fix.find("SERVFAIL") != std::string::npos);
}

TEST_CASE("alignment of DKIM d= and the return path with the From domain", "[doctor][dmarc]") {
  const PublicSuffixList psl = PublicSuffixList::parse("test\nco.uk\n");
  DmarcPolicy relaxed;
  relaxed.found = true;
  const std::vector<DkimKey> keys{kKey, DkimKey{"corp.co.uk", true, "s", "rsa", "p"}};
  CHECK(check_alignment("good.test", relaxed, keys, "bounces.good.test", psl).status == Status::ok);
  CHECK(check_alignment("good.test", relaxed, keys, "", psl).status == Status::ok);
  // Another organization's return path: DKIM alone.
  auto spf_off = check_alignment("good.test", relaxed, keys, "bounces.esp.test", psl);
  CHECK(spf_off.status == Status::warn);
  CHECK(spf_off.record == "DKIM d=good.test aligned (relaxed), return path bounces.esp.test not aligned (relaxed)");
  // No key: SPF alone, or nothing.
  CHECK(check_alignment("other.test", relaxed, keys, "", psl).status == Status::warn);
  CHECK(check_alignment("other.test", relaxed, keys, "bounces.esp.test", psl).status == Status::fail);
  // A key with subdomains signs news.corp.co.uk with d=corp.co.uk: relaxed yes, strict no.
  CHECK(check_alignment("news.corp.co.uk", relaxed, keys, "", psl).status == Status::ok);
  DmarcPolicy strict = relaxed;
  strict.strict_dkim = strict.strict_spf = true;
  CHECK(check_alignment("news.corp.co.uk", strict, keys, "corp.co.uk", psl).status == Status::fail);
  CHECK(check_alignment("good.test", strict, keys, "bounces.good.test", psl).status == Status::warn);
}
