// The TLS report actor with a stand-in DNS actor (the _smtp._tls records set by the test, every
// report host at 127.0.0.1) and a real local HTTPS server taking the POSTed reports.
#include "actors/tls_report_actor.hpp"

#include <utility>  // before Asio: Boost 1.74 with C++20 needs it

#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "core/util/ids.hpp"
#include "tests/support/sts_policy_server.hpp"
#include "tests/unit/actors/io_runtime.hpp"

using namespace volley;
using nlohmann::json;
using std::chrono_literals::operator""s;

namespace {

caf::behavior stand_in_dns(caf::event_based_actor*, std::uint16_t port) {
  return {
      [port](txt_atom, const std::string& name) {
        dns::TxtResolution r;
        r.status = dns::Status::ok;
        if (name == "_smtp._tls.example.test")
          r.texts = {"v=TLSRPTv1; rua=https://rpt.example.test:" + std::to_string(port) + "/r,ftp://x"};
        else if (name == "_smtp._tls.broken.test")
          r.texts = {"v=TLSRPTv1; rua=mailto:a@broken.test", "v=TLSRPTv1; rua=mailto:b@broken.test"};
        else
          r.status = dns::Status::perm_fail;
        return r;
      },
      [](resolve_atom, const std::string& name) {
        dns::MxResolution r;
        r.status = dns::Status::ok;
        r.implicit_mx = true;
        r.hosts.push_back(dns::MxHost{name, 0, {"127.0.0.1"}});
        return r;
      },
  };
}

TlsSessionRecord record(const std::string& domain, std::optional<tls_rpt::ResultType> failure, std::int64_t at_ms) {
  TlsSessionRecord r;
  r.outcome.policy = tls_rpt::Policy{tls_rpt::PolicyType::no_policy_found, {}, domain, {}};
  r.outcome.failure = failure;
  r.outcome.receiving_mx_hostname = "mx." + domain;
  r.at_ms = at_ms;
  return r;
}

struct Rig {
  Rig() : server({"rpt.example.test"}) {
    dns = caf::actor_cast<dns_actor>(rt.system->spawn(stand_in_dns, server.port()));
    start();
  }
  ~Rig() {
    caf::anon_send_exit(reports, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(dns, caf::exit_reason::user_shutdown);
  }
  void start() {
    TlsReportOptions o;
    o.settings.enabled = true;
    o.settings.organization_name = "Test";
    o.settings.contact_info = "mailto:p@volley.test";
    o.settings.from = "r@volley.test";
    o.settings.submitter = "mta.volley.test";
    o.state_file = (dir.path() / "tls-reports.json").string();
    o.dns = dns;
    o.io = &rt.io;
    o.ca_file = server.ca_file();
    o.max_send_delay = std::chrono::seconds(0);  // a closed day goes at once
    o.send_timeout = 10s;
    reports = spawn_tls_report_actor(*rt.system, o);
  }
  template <class... Ts>
  std::string ask(Ts... xs) {
    caf::scoped_actor self{*rt.system};
    std::string out;
    self->request(reports, 60s, xs...)
        .receive([&](const std::string& s) { out = s; },
                 [&](const caf::error& e) { FAIL("request failed: " << self->system().render(e)); });
    return out;
  }
  bool stop() {
    caf::scoped_actor self{*rt.system};
    bool ok = false;
    self->request(reports, 60s, stop_atom::value).receive([&](bool b) { ok = b; }, [&](const caf::error&) {});
    return ok;
  }
  std::size_t posts() const {
    const auto d = server.directory() / "posts";
    if (!std::filesystem::exists(d)) return 0;
    std::size_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator(d)) n += e.path().extension() == ".json";
    return n;
  }

  testing::IoRuntime rt;
  test::TempDir dir{"volley-tlsrpt-actor"};
  test::StsPolicyServer server;
  dns_actor dns;
  tls_report_actor reports;
};

}  // namespace

TEST_CASE("tls report actor: the day survives a restart and the trigger sends what has a record",
          "[tls_report_actor]") {
  Rig rig;
  const auto now = now_unix_ms();
  caf::anon_send(rig.reports, tls_report_atom::value, record("example.test", std::nullopt, now));
  caf::anon_send(rig.reports, tls_report_atom::value,
                 record("example.test", tls_rpt::ResultType::starttls_not_supported, now));
  caf::anon_send(rig.reports, tls_report_atom::value, record("broken.test", std::nullopt, now));
  caf::anon_send(rig.reports, tls_report_atom::value, record("silent.test", std::nullopt, now));
  auto shown = json::parse(rig.ask(tls_reports_atom::value));
  CHECK(shown["current"]["policies"].size() == 3);

  REQUIRE(rig.stop());
  rig.start();
  shown = json::parse(rig.ask(tls_reports_atom::value));
  REQUIRE(shown["current"]["policies"].size() == 3);

  const auto sent = json::parse(rig.ask(tls_send_atom::value));
  INFO(sent.dump());
  std::map<std::string, std::string> by_domain;
  for (const auto& r : sent["reports"]) by_domain[r["policy-domain"]] = r["result"];
  CHECK(by_domain["example.test"] == "ok");
  CHECK(by_domain["broken.test"] == "no_record");  // two TLSRPT records: none is used
  CHECK(by_domain["silent.test"] == "no_record");
  CHECK(rig.posts() == 1);
  CHECK(json::parse(rig.ask(tls_reports_atom::value))["current"]["policies"].empty());
}

TEST_CASE("tls report actor: an outcome of the next day closes the day and sends it", "[tls_report_actor]") {
  Rig rig;
  const auto now = now_unix_ms();
  caf::anon_send(rig.reports, tls_report_atom::value, record("example.test", std::nullopt, now));
  caf::anon_send(rig.reports, tls_report_atom::value, record("example.test", std::nullopt, now + 86400000));
  CHECK(test::wait_until([&] { return rig.posts() == 1; }, std::chrono::seconds(30)));
  const auto shown = json::parse(rig.ask(tls_reports_atom::value));
  CHECK(shown["closed"].empty());
  REQUIRE(shown["current"]["policies"].size() == 1);
  CHECK(shown["current"]["policies"][0]["total-successful-session-count"] == 1);  // the new day's
}
