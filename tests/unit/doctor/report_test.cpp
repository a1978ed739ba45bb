// The doctor's plan from a configuration, org domains, and its two renderings (table, JSON).
#include <catch2/catch.hpp>

#include <sstream>

#include <nlohmann/json.hpp>

#include "core/doctor/org_domain.hpp"
#include "core/doctor/plan.hpp"
#include "core/doctor/table.hpp"

using namespace volley;
using namespace volley::doctor;

TEST_CASE("org domains follow the public suffix list, or the last two labels", "[doctor][psl]") {
  const auto psl = PublicSuffixList::parse("// comment\ncom\nco.uk\n*.ck\n!www.ck\n\n");
  CHECK(psl.size() == 4);
  CHECK(psl.org_domain("mail.news.example.com") == "example.com");
  CHECK(psl.org_domain("A.B.Example.CO.UK.") == "example.co.uk");
  CHECK(psl.org_domain("shop.foo.ck") == "shop.foo.ck");
  CHECK(psl.org_domain("www.ck") == "www.ck");
  CHECK(psl.org_domain("a.www.ck") == "www.ck");
  CHECK(psl.org_domain("co.uk") == "co.uk");
  CHECK(psl.org_domain("bounces.good.test") == "good.test");  // "*": one label
  CHECK(PublicSuffixList{}.org_domain("a.b.good.test") == "good.test");
}

TEST_CASE("the plan names the sending domains, their sources and the MX domains", "[doctor][plan]") {
  const auto loaded = parse_config(R"(
[delivery]
default_pool = "shared"
[[source]]
name = "a"
address = "192.0.2.10"
ehlo_name = "mail.good.test"
[[source]]
name = "b"
address = "198.51.100.7"
ehlo_name = "mail.broken.test"
[[pool]]
name = "shared"
sources = [{ name = "a" }]
[[pool]]
name = "broken"
sources = [{ name = "b" }]
[[pool_rule]]
sender_domain = "broken.test"
pool = "broken"
[[return_path]]
sender_domain = "broken.test"
domain = "bounces.broken.test"
[[return_path]]
sender_domain = "*"
domain = "bounces.good.test"
[[dkim]]
domain = "good.test"
selector = "s1"
key_file = "/nonexistent"
[smtp_in]
hostname = "mx.good.test"
domains = ["fbl.good.test", "bounces.good.test"]
)", "doctor.toml");
  INFO(loaded.error);
  REQUIRE(loaded.ok());
  const auto& cfg = *loaded.config;
  CHECK(sending_domains(cfg) == std::vector<std::string>{"good.test", "broken.test"});
  const Plan plan = make_plan(cfg, {});
  REQUIRE(plan.domains.size() == 2);
  CHECK(plan.domains[0].domain == "good.test");
  CHECK(plan.domains[0].return_path_domain == "bounces.good.test");
  REQUIRE(plan.domains[0].sources.size() == 1);
  CHECK(plan.domains[0].sources[0].name == "a");
  CHECK(plan.domains[1].return_path_domain == "bounces.broken.test");
  REQUIRE(plan.domains[1].sources.size() == 1);
  CHECK(plan.domains[1].sources[0].name == "b");
  CHECK(plan.sources.size() == 2);
  REQUIRE(plan.mail_domains.size() == 3);
  CHECK(plan.mail_domains[2].domain == "fbl.good.test");
  CHECK(plan.mail_domains[2].role == "[smtp_in] domain");
  CHECK(plan.smtp_in_hostname == "mx.good.test");
}

TEST_CASE("the table fits 100 columns and the JSON carries every field", "[doctor][render]") {
  std::vector<Finding> findings{
      {"dkim", "s1._domainkey.good.test", Status::ok, "v=DKIM1; k=ed25519; p=" + std::string(200, 'A'), ""},
      {"spf", "broken.test for 192.0.2.10", Status::fail, "v=spf1 ip4:198.51.100.0/24 -all",
       "add ip4:192.0.2.10 to the SPF record of broken.test"},
      {"dkim", "a-very-long-selector-name-2026._domainkey.subdomain.broken.test", Status::fail, "",
       "publish a TXT record at a-very-long-selector-name-2026._domainkey.subdomain.broken.test: v=DKIM1; k=rsa; p=" +
           std::string(300, 'B')},
      {"ptr", "192.0.2.11 (b)", Status::warn, "odd\x1b[31mbytes", "x"},
  };
  const std::string table = render_table(findings);
  INFO(table);
  std::istringstream lines(table);
  std::size_t n = 0;
  for (std::string line; std::getline(lines, line); ++n) {
    CHECK(line.size() <= kTableWidth);
    CHECK(line.find('\x1b') == std::string::npos);
  }
  CHECK(n > 8);
  CHECK(table.rfind("STATUS", 0) == 0);
  CHECK(table.find("fail   spf        broken.test for 192.0.2.10          v=spf1 ip4:198.51.100.0/24 -all\n"
                   "       fix: add ip4:192.0.2.10 to the SPF record of broken.test\n") != std::string::npos);
  CHECK(table.find("1 ok, 1 warn, 2 fail\n") != std::string::npos);

  const auto j = nlohmann::json::parse(findings_json(findings));
  CHECK(j["ok"] == false);
  CHECK(j["counts"]["fail"] == 2);
  REQUIRE(j["findings"].size() == 4);
  CHECK(j["findings"][1]["status"] == "fail");
  CHECK(j["findings"][1]["fix"] == "add ip4:192.0.2.10 to the SPF record of broken.test");
  CHECK(j["findings"][0]["record"].get<std::string>().size() == 222);
  CHECK_FALSE(any_fail({findings[0]}));
  CHECK(nlohmann::json::parse(findings_json({}))["ok"] == true);
}

TEST_CASE("doctor plan: submission users' sender domains are sending domains too", "[doctor]") {
  const auto loaded = parse_config(R"(
[[dkim]]
domain = "good.test"
selector = "s1"
key_file = "/nonexistent"
[[submission_user]]
name = "app"
password_hash = "$y$j9T$viZxfF0T4xwnB94Voe4KH1je.023lrRfSLM42S2MpH1$Y20e8SlJp97mwNm47RD/Fj5VkdU1RPY.Q5n4rU.Ixo8"
sender_domains = ["Apps.Good.Test", "good.test"]
)", "doctor.toml");
  INFO(loaded.error);
  REQUIRE(loaded.ok());
  CHECK(sending_domains(*loaded.config) == std::vector<std::string>{"good.test", "apps.good.test"});
}

TEST_CASE("doctor plan: the unsubscribe base_url's host must resolve", "[doctor]") {
  const auto loaded = parse_config(R"(
[unsubscribe]
base_url = "https://Unsub.Good.Test:8443"
)", "doctor.toml");
  INFO(loaded.error);
  REQUIRE(loaded.ok());
  const auto hosts = hosts_to_resolve(*loaded.config);
  REQUIRE(hosts.size() == 1);
  CHECK(hosts[0].host == "unsub.good.test");
  CHECK(hosts[0].role == "[unsubscribe] base_url");
}
