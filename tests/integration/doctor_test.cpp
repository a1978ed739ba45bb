// The doctor end to end: a real NSD serves good.test and broken.test (one correct and one broken
// record of each kind: DKIM, SPF, DMARC, PTR, MX) and the PTR zones of two TEST-NET sources;
// `volleyd doctor --config ... --json` and its table, and GET /api/v1/doctor of a running volleyd,
// report each line as the zone deserves. The sources are only evaluated, never bound (libspf2
// passes loopback clients unconditionally, so they are TEST-NET addresses).
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <map>
#include <sstream>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "dkim_keygen.hpp"
#include "dns_zone.hpp"
#include "volleyd_fixture.hpp"

using namespace volley::test;
using nlohmann::json;

namespace {

struct DoctorRig {
  TempDir dir;
  std::unique_ptr<NsdServer> nsd;
  VolleydOptions options;

  DoctorRig() {
    const std::string good_key = keygen(dir, "good.test", "s1", "ed25519");
    keygen(dir, "broken.test", "s1", "ed25519");
    // broken.test publishes another key than the one it signs with.
    std::string other_key = keygen(dir, "other.test", "s1", "ed25519");
    other_key.replace(0, std::string("s1._domainkey.other.test.").size(), "s1._domainkey.broken.test.");
    const std::string records =
        "good IN TXT \"v=spf1 ip4:192.0.2.10 -all\"\n" + good_key + "\n" +
        "_dmarc.good IN TXT \"v=DMARC1; p=reject; rua=mailto:dmarc@good.test\"\n"
        "bounces.good IN TXT \"v=spf1 include:good.test -all\"\n"
        "bounces.good IN MX 10 mx.good\n"
        "mx.good IN A 127.0.0.1\n"
        "mail.good IN A 192.0.2.10\n"
        "broken IN TXT \"v=spf1 ip4:192.0.2.0/24 -all\"\n" + other_key + "\n" +
        "mail.broken IN A 198.51.100.99\n";
    nsd = std::make_unique<NsdServer>(std::vector<NsdZone>{
        test_zone(records),
        NsdZone{"2.0.192.in-addr.arpa", zone_file(Zone{"2.0.192.in-addr.arpa", "10 IN PTR mail.good.test.\n"})},
        NsdZone{"100.51.198.in-addr.arpa", zone_file(Zone{"100.51.198.in-addr.arpa", "7 IN PTR mail.broken.test.\n"})},
    });
    options = volleyd_options(nsd->port(), 9);
    options.delivery_extra = "default_pool = \"shared\"\n";
    const auto key = [&](const std::string& domain) { return (dir / "keys" / (domain + ".s1.pem")).string(); };
    options.extra_toml =
        "[[source]]\nname = \"a\"\naddress = \"192.0.2.10\"\nehlo_name = \"mail.good.test\"\n"
        "[[source]]\nname = \"b\"\naddress = \"198.51.100.7\"\nehlo_name = \"mail.broken.test\"\n"
        "[[pool]]\nname = \"shared\"\nsources = [{ name = \"a\" }]\n"
        "[[pool]]\nname = \"broken\"\nsources = [{ name = \"b\" }]\n"
        "[[pool_rule]]\nsender_domain = \"broken.test\"\npool = \"broken\"\n"
        "[[return_path]]\nsender_domain = \"broken.test\"\ndomain = \"bounces.esp.test\"\n"
        "[[return_path]]\nsender_domain = \"*\"\ndomain = \"bounces.good.test\"\n"
        "[[dkim]]\ndomain = \"good.test\"\nselector = \"s1\"\nkey_file = \"" + key("good.test") + "\"\n"
        "[[dkim]]\ndomain = \"broken.test\"\nselector = \"s1\"\nkey_file = \"" + key("broken.test") + "\"\n"
        "[smtp_in]\nhostname = \"mx.good.test\"\n";
  }

  std::string config_file() const {
    const auto path = dir / "doctor.toml";
    write_file(path, volleyd_config(options, free_port(), dir / "spool", dir / "events.jsonl"));
    return path.string();
  }
};

// What each line must say, by check and subject.
const std::map<std::pair<std::string, std::string>, std::string> kExpected = {
    {{"dkim", "s1._domainkey.good.test"}, "ok"},
    {{"spf", "good.test for 192.0.2.10"}, "ok"},
    {{"spf", "bounces.good.test for 192.0.2.10"}, "ok"},
    {{"dmarc", "_dmarc.good.test"}, "ok"},
    {{"alignment", "good.test"}, "ok"},
    {{"dkim", "s1._domainkey.broken.test"}, "fail"},
    {{"spf", "broken.test for 198.51.100.7"}, "fail"},
    {{"spf", "bounces.esp.test for 198.51.100.7"}, "fail"},
    {{"dmarc", "_dmarc.broken.test"}, "fail"},
    {{"alignment", "broken.test"}, "warn"},
    {{"ptr", "192.0.2.10 (a)"}, "ok"},
    {{"ptr", "198.51.100.7 (b)"}, "fail"},
    {{"mx", "bounces.good.test (return path)"}, "ok"},
    {{"mx", "bounces.esp.test (return path)"}, "fail"},
};

void check_findings(const json& report) {
  INFO(report.dump(2));
  CHECK(report["ok"] == false);
  std::map<std::pair<std::string, std::string>, std::string> seen;
  for (const auto& f : report["findings"]) {
    seen[{f["check"].get<std::string>(), f["subject"].get<std::string>()}] = f["status"].get<std::string>();
    CHECK(f["fix"].get<std::string>().empty() == (f["status"] == "ok"));
  }
  CHECK(seen == kExpected);
  std::map<std::string, json> by_subject;
  for (const auto& f : report["findings"]) by_subject[f["subject"].get<std::string>()] = f;
  CHECK(by_subject["broken.test for 198.51.100.7"]["fix"] == "add ip4:198.51.100.7 to the SPF record of broken.test");
  CHECK(by_subject["broken.test for 198.51.100.7"]["record"] == "v=spf1 ip4:192.0.2.0/24 -all");
  CHECK(by_subject["bounces.esp.test for 198.51.100.7"]["fix"] ==
        "publish a TXT record at bounces.esp.test: v=spf1 ip4:198.51.100.7 -all");
  CHECK(by_subject["198.51.100.7 (b)"]["record"] == "mail.broken.test -> 198.51.100.99");
  CHECK(by_subject["_dmarc.good.test"]["record"] == "v=DMARC1; p=reject; rua=mailto:dmarc@good.test");
  CHECK(by_subject["s1._domainkey.broken.test"]["fix"].get<std::string>().find("another key") != std::string::npos);
}

}  // namespace

TEST_CASE("volleyd doctor reports each record of a good and a broken zone", "[integration][doctor]") {
  DoctorRig rig;
  const std::string config = rig.config_file();

  const auto [status, output] = run_with_input({Volleyd::binary(), "doctor", "--config", config, "--json"}, "", rig.dir.path());
  INFO(output);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);
  const auto start = output.find('{');
  REQUIRE(start != std::string::npos);
  check_findings(json::parse(output.substr(start)));

  const auto [table_status, table] = run_with_input({Volleyd::binary(), "doctor", "--config", config}, "", rig.dir.path());
  INFO(table);
  REQUIRE(WIFEXITED(table_status));
  CHECK(WEXITSTATUS(table_status) == 1);
  CHECK(table.find("fail   spf        broken.test for 198.51.100.7") != std::string::npos);
  CHECK(table.find("       fix: add ip4:198.51.100.7 to the SPF record of broken.test\n") != std::string::npos);
  CHECK(table.find("7 ok, 1 warn, 6 fail\n") != std::string::npos);
  std::istringstream lines(table);
  for (std::string line; std::getline(lines, line);) CHECK(line.size() <= 100);

  // A configuration that does not load is exit status 2, not a report.
  write_file(rig.dir / "bad.toml", "[delivery]\nno_such_key = 1\n");
  const auto [bad_status, bad_output] =
      run_with_input({Volleyd::binary(), "doctor", "--config", (rig.dir / "bad.toml").string()}, "", rig.dir.path());
  INFO(bad_output);
  REQUIRE(WIFEXITED(bad_status));
  CHECK(WEXITSTATUS(bad_status) == 2);
}

TEST_CASE("GET /api/v1/doctor runs the same checks for admin keys only", "[integration][doctor]") {
  DoctorRig rig;
  rig.options.extra_toml +=
      "[[api_key]]\nname = \"app\"\ntenant = \"acme\"\n"
      "key_sha256 = \"835f6c88bfff60677c55929335f32e3380341c714c62d9baf5d84cca5cb82c11\"\n"
      "[[api_key]]\nname = \"ops\"\nadmin = true\n"
      "key_sha256 = \"dcb1b08f0acb7b53bfe9939165e70e9a20147ab617bffadfbfb6b0009968b145\"\n";
  Volleyd volleyd(rig.dir / "volleyd", rig.options);
  auto app = volleyd.client();
  app.set_bearer("inject-secret-1");
  CHECK(app.get("/api/v1/doctor").status == 403);
  auto ops = volleyd.client();
  ops.set_bearer("admin-secret-2");
  CHECK(ops.request(boost::beast::http::verb::post, "/api/v1/doctor", "", "application/json").status == 405);
  const auto r = ops.get("/api/v1/doctor");
  INFO(r.body);
  REQUIRE(r.status == 200);
  check_findings(json::parse(r.body));
  // Again: the worker takes a second run once the first is over.
  CHECK(ops.get("/api/v1/doctor").status == 200);
}
