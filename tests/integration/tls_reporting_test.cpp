// End to end: SMTP TLS Reporting (RFC 8460). nsd serves two MTA-STS enforce domains with a
// _smtp._tls record each, whose rua names an https: URL (the local HTTPS server that also serves
// the policies, tests/support/sts_policy_server) and a mailto: address whose domain's MX is an
// aiosmtpd sink:
//   ok.test   mx.ok.test offers STARTTLS with a certificate for its name: delivered, a success
//   bad.test  mx.bad.test's certificate does not carry its name: deferred, failures of type
//             certificate-host-mismatch
// The aggregate survives a restart; the operator's trigger sends the reports; python3 (gzip,
// json, email) reads what arrived.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dns_zone.hpp"
#include "receiver_fixture.hpp"
#include "sink_fixture.hpp"
#include "tests/support/sts_policy_server.hpp"
#include "volleyd_fixture.hpp"

using namespace volley::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const char* kRua = "\"v=TLSRPTv1; rua=https://rpt.reports.test/v1/tlsrpt,mailto:tlsrpt@reports.test\"";

std::string records() {
  return std::string(
             "_mta-sts.ok IN TXT \"v=STSv1; id=o1;\"\n"
             "mta-sts.ok IN A 127.0.0.1\n"
             "ok IN MX 10 mx.ok\n"
             "mx.ok IN A 127.0.0.6\n"
             "_mta-sts.bad IN TXT \"v=STSv1; id=b1;\"\n"
             "mta-sts.bad IN A 127.0.0.1\n"
             "bad IN MX 10 mx.bad\n"
             "mx.bad IN A 127.0.0.7\n"
             "rpt.reports IN A 127.0.0.1\n"
             "reports IN MX 10 mx.reports\n"
             "mx.reports IN A 127.0.0.9\n"
             "_smtp._tls.ok IN TXT ") +
         kRua + "\n_smtp._tls.bad IN TXT " + kRua + "\n";
}

std::string policy(const std::string& mx) { return "version: STSv1\nmode: enforce\nmx: " + mx + "\nmax_age: 86400\n"; }

// Every POSTed report, decompressed by python3: [{"path", "content_type", "report"}].
const char* kReadPosts = R"(
import glob, gzip, json, os, sys
out = []
for meta in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
    m = json.load(open(meta))
    m["report"] = json.loads(gzip.decompress(open(meta[:-5] + ".body", "rb").read()))
    out.append(m)
print(json.dumps(out))
)";

// Every mailed report, parsed by python3's email package: headers, parts, the report.
const char* kReadMails = R"(
import email, email.policy, glob, gzip, json, sys
out = []
for path in sorted(glob.glob(sys.argv[1] + "/*.eml")):
    msg = email.message_from_bytes(open(path, "rb").read(), policy=email.policy.default)
    parts = [p for p in msg.walk() if not p.is_multipart()]
    att = [p for p in parts if p.get_content_type() == "application/tlsrpt+gzip"]
    out.append({"subject": str(msg["Subject"]), "from": str(msg["From"]),
                "domain": str(msg["TLS-Report-Domain"]), "submitter": str(msg["TLS-Report-Submitter"]),
                "content_type": msg.get_content_type(), "report_type": msg.get_param("report-type"),
                "parts": [p.get_content_type() for p in parts],
                "filename": att[0].get_filename() if att else "",
                "report": json.loads(gzip.decompress(att[0].get_payload(decode=True))) if att else None})
print(json.dumps(out))
)";

json run_python(const char* script, const std::string& arg, const std::filesystem::path& scratch) {
  write_file(scratch / "read.py", script);
  auto [status, out] = run_with_input({"/usr/bin/python3", (scratch / "read.py").string(), arg}, "", scratch);
  INFO(out);
  REQUIRE(status == 0);
  return json::parse(out);
}

const json* policy_of(const json& report, const std::string& type) {
  for (const auto& p : report["policies"])
    if (p["policy"]["policy-type"] == type) return &p;
  return nullptr;
}

std::uint64_t count(const json& aggregate, const std::string& domain, const char* field) {
  std::uint64_t n = 0;
  for (const auto& p : aggregate["current"]["policies"])
    if (p["policy-domain"] == domain) n += p[field].get<std::uint64_t>();
  return n;
}

}  // namespace

TEST_CASE("TLS reporting: daily aggregates reach the rua over https and mail", "[integration][tls_rpt]") {
  TempDir dir("volley-it-tlsrpt");
  NsdServer nsd({test_zone(records())});
  StsPolicyServer https({"mta-sts.ok.test", "mta-sts.bad.test", "mx.ok.test", "rpt.reports.test"});
  https.answer("mta-sts.ok.test", 200, policy("mx.ok.test"));
  https.answer("mta-sts.bad.test", 200, policy("mx.bad.test"));

  const auto smtp_port = free_port();
  const std::string p = ":" + std::to_string(smtp_port);
  SmtpReceiver receiver(dir / "receiver", "", {"127.0.0.6" + p, "127.0.0.7" + p},
                        {"--tls-cert", (https.directory() / "server.pem").string(), "--tls-key",
                         (https.directory() / "server.key").string()});
  SmtpSink sink(dir / "sink", {"127.0.0.9"}, smtp_port);

  auto options = volleyd_options(nsd.port(), smtp_port);
  options.delivery_extra = "mta_sts_port = " + std::to_string(https.port()) + "\n";
  options.extra_toml = "[tls]\nca_file = \"" + https.ca_file() +
                       "\"\n"
                       "[tls_reporting]\nenabled = true\norganization_name = \"Volley Test\"\n"
                       "contact_info = \"mailto:postmaster@volley.test\"\nfrom = \"tlsrpt@volley.test\"\n"
                       "submitter = \"mta.volley.test\"\nhttps_port = " +
                       std::to_string(https.port()) + "\n";
  Volleyd volleyd(dir / "volleyd", options);
  auto http = volleyd.client();
  for (std::string to : {"a@ok.test", "b@bad.test"})
    inject(http, {{"from", "sender@volley.test"}, {"to", {to}}, {"subject", "tlsrpt " + to}, {"text", "hello\n"}});

  // The running aggregate shows the success and the failure as they happen.
  json aggregate;
  const bool counted = wait_until(
      [&] {
        const auto res = http.get("/api/v1/tls-reports");
        if (res.status != 200) return false;
        aggregate = json::parse(res.body);
        return count(aggregate, "ok.test", "total-successful-session-count") >= 1 &&
               count(aggregate, "bad.test", "total-failure-session-count") >= 1;
      },
      120s, 100ms);
  INFO("volleyd log:\n" << volleyd.log());
  INFO("aggregate: " << aggregate.dump());
  REQUIRE(counted);

  // A restart keeps the day (saved at stop, read back at start).
  REQUIRE(volleyd.stop() == 0);
  volleyd.start();
  auto api = volleyd.client();
  const auto after = json::parse(api.get("/api/v1/tls-reports").body);
  CHECK(count(after, "ok.test", "total-successful-session-count") >= 1);
  CHECK(count(after, "bad.test", "total-failure-session-count") >= 1);

  const auto sent = api.request(boost::beast::http::verb::post, "/api/v1/tls-reports/send", "", "");
  INFO("send: " << sent.body);
  REQUIRE(sent.status == 200);
  const auto results = json::parse(sent.body)["reports"];
  int https_ok = 0, mail_ok = 0;
  for (const auto& r : results) {
    if (r.value("method", "") == "https" && r["result"] == "ok") ++https_ok;
    if (r.value("method", "") == "mailto" && r["result"] == "ok") ++mail_ok;
  }
  CHECK(https_ok == 2);  // ok.test and bad.test (reports.test published nothing)
  CHECK(mail_ok == 2);

  // The POSTs: application/tlsrpt+gzip, one report per policy domain, with RFC 8460's fields.
  const auto posts = run_python(kReadPosts, (https.directory() / "posts").string(), dir.path());
  REQUIRE(posts.size() == 2);
  for (const auto& post : posts) {
    INFO(post.dump());
    CHECK(post["path"] == "/v1/tlsrpt");
    CHECK(post["content_type"] == "application/tlsrpt+gzip");
    const auto& report = post["report"];
    CHECK(report["organization-name"] == "Volley Test");
    CHECK(report["contact-info"] == "mailto:postmaster@volley.test");
    CHECK(report["report-id"].get<std::string>().find("@mta.volley.test") != std::string::npos);
    CHECK(report["date-range"]["start-datetime"].get<std::string>().back() == 'Z');
    CHECK(report["date-range"]["end-datetime"].get<std::string>().back() == 'Z');
    const auto* sts = policy_of(report, "sts");
    REQUIRE(sts != nullptr);
    const std::string domain = (*sts)["policy"]["policy-domain"];
    CHECK((*sts)["policy"]["policy-string"][1] == "mode: enforce");
    if (domain == "ok.test") {
      CHECK((*sts)["policy"]["mx-host"] == json::array({"mx.ok.test"}));
      CHECK((*sts)["summary"]["total-successful-session-count"].get<int>() >= 1);
      CHECK((*sts)["summary"]["total-failure-session-count"] == 0);
      CHECK_FALSE(sts->contains("failure-details"));
    } else {
      CHECK(domain == "bad.test");
      CHECK((*sts)["summary"]["total-successful-session-count"] == 0);
      const int failed = (*sts)["summary"]["total-failure-session-count"];
      CHECK(failed >= 1);
      REQUIRE((*sts)["failure-details"].size() >= 1);
      const auto& d = (*sts)["failure-details"][0];
      CHECK(d["result-type"] == "certificate-host-mismatch");
      CHECK(d["receiving-mx-hostname"] == "mx.bad.test");
      CHECK(d["receiving-ip"] == "127.0.0.7");
      CHECK(d["failed-session-count"].get<int>() >= 1);
    }
  }

  // The mails: through volleyd to reports.test's MX, with RFC 8460 §5.3's headers and parts.
  const bool mailed = wait_until([&] { return sink.messages().size() >= 2; }, 60s, 100ms);
  REQUIRE(mailed);
  const auto mails = run_python(kReadMails, sink.maildir().string(), dir.path());
  REQUIRE(mails.size() == 2);
  for (const auto& m : mails) {
    INFO(m.dump());
    const std::string domain = m["domain"];
    CHECK((domain == "ok.test" || domain == "bad.test"));
    CHECK(m["submitter"] == "mta.volley.test");
    CHECK(m["from"] == "tlsrpt@volley.test");
    CHECK(m["content_type"] == "multipart/report");
    CHECK(m["report_type"] == "tlsrpt");
    CHECK(m["parts"] == json::array({"text/plain", "application/tlsrpt+gzip"}));
    const std::string id = m["report"]["report-id"];
    CHECK(m["subject"] == "Report Domain: " + domain + " Submitter: mta.volley.test Report-ID: <" + id + ">");
    CHECK(m["filename"].get<std::string>().rfind("mta.volley.test!" + domain + "!", 0) == 0);
    CHECK(m["report"]["policies"][0]["policy"]["policy-domain"] == domain);
  }
  for (const auto& m : sink.messages()) CHECK(m.rcpt_tos == std::vector<std::string>{"tlsrpt@reports.test"});

  // Sent: the aggregate starts again, and the metrics count both ways.
  CHECK(json::parse(api.get("/api/v1/tls-reports").body)["closed"].empty());
  const auto metrics = api.get("/metrics").body;
  CHECK(metrics.find("volley_tls_reports_sent_total{method=\"https\",result=\"ok\"} 2") != std::string::npos);
  CHECK(metrics.find("volley_tls_reports_sent_total{method=\"mailto\",result=\"ok\"} 2") != std::string::npos);
}
