#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <zlib.h>

#include "core/tls_rpt/report.hpp"

using namespace volley::tls_rpt;
using nlohmann::json;

namespace {

std::string gunzip(const std::string& gz) {
  z_stream zs{};
  REQUIRE(inflateInit2(&zs, 15 + 16) == Z_OK);
  std::string out(1 << 20, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  zs.avail_in = static_cast<uInt>(gz.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  inflateEnd(&zs);
  REQUIRE(rc == Z_STREAM_END);
  return out;
}

Aggregate sample() {
  Aggregate a(1764892800000);
  Policy sts{PolicyType::sts, {"version: STSv1", "mode: enforce", "mx: mx.example.com", "max_age: 86400"},
             "example.com", {"mx.example.com"}};
  a.add(SessionOutcome{sts, std::nullopt, "", "mx.example.com", "", ""});
  a.add(SessionOutcome{sts, ResultType::certificate_not_trusted, "192.0.2.1", "mx.example.com", "198.51.100.7",
                       "self-signed certificate"});
  a.add(SessionOutcome{Policy{PolicyType::no_policy_found, {}, "example.com", {}}, std::nullopt, "", "mx.example.com", "", ""});
  return a;
}

}  // namespace

TEST_CASE("the report has the RFC 8460 fields", "[tls_rpt]") {
  const auto a = sample();
  ReportInfo info{"Example Sender", "mailto:postmaster@sender.example", "2025-12-05T00:00:00Z.abc@mta.sender.example",
                  1764892800, 1764892800 + 86400};
  const auto j = json::parse(render_report(info, a.policies_of("example.com")));
  CHECK(j["organization-name"] == "Example Sender");
  CHECK(j["contact-info"] == "mailto:postmaster@sender.example");
  CHECK(j["report-id"] == "2025-12-05T00:00:00Z.abc@mta.sender.example");
  CHECK(j["date-range"]["start-datetime"] == "2025-12-05T00:00:00Z");
  CHECK(j["date-range"]["end-datetime"] == "2025-12-06T00:00:00Z");
  REQUIRE(j["policies"].size() == 2);
  const auto& none = j["policies"][0]["policy"]["policy-type"] == "no-policy-found" ? j["policies"][0] : j["policies"][1];
  const auto& sts = j["policies"][0]["policy"]["policy-type"] == "sts" ? j["policies"][0] : j["policies"][1];
  CHECK_FALSE(none["policy"].contains("policy-string"));
  CHECK(none["summary"]["total-successful-session-count"] == 1);
  CHECK_FALSE(none.contains("failure-details"));
  CHECK(sts["policy"]["policy-domain"] == "example.com");
  CHECK(sts["policy"]["policy-string"][1] == "mode: enforce");
  CHECK(sts["policy"]["mx-host"][0] == "mx.example.com");
  CHECK(sts["summary"]["total-successful-session-count"] == 1);
  CHECK(sts["summary"]["total-failure-session-count"] == 1);
  const auto& d = sts["failure-details"][0];
  CHECK(d["result-type"] == "certificate-not-trusted");
  CHECK(d["sending-mta-ip"] == "192.0.2.1");
  CHECK(d["receiving-mx-hostname"] == "mx.example.com");
  CHECK(d["receiving-ip"] == "198.51.100.7");
  CHECK(d["failed-session-count"] == 1);
  CHECK(d["failure-reason-code"] == "self-signed certificate");
}

TEST_CASE("a reason that is not UTF-8 still gives valid JSON", "[tls_rpt]") {
  Aggregate a(0);
  a.add(SessionOutcome{Policy{PolicyType::no_policy_found, {}, "x.example", {}}, ResultType::validation_failure, "", "",
                       "", std::string("bad \xff\xfe bytes")});
  const auto text = render_report(ReportInfo{"o", "c", "id", 0, 1}, a.policies_of("x.example"));
  CHECK_NOTHROW(json::parse(text));
}

TEST_CASE("gzip round-trips and RFC 3339 times are UTC", "[tls_rpt]") {
  const std::string data = std::string(10000, 'a') + "{\"x\":1}";
  const auto gz = gzip(data);
  CHECK(gz.size() < data.size());
  CHECK(static_cast<unsigned char>(gz[0]) == 0x1f);
  CHECK(static_cast<unsigned char>(gz[1]) == 0x8b);
  CHECK(gunzip(gz) == data);
  CHECK(gunzip(gzip("")).empty());
  CHECK(rfc3339_utc(0) == "1970-01-01T00:00:00Z");
  CHECK(rfc3339_utc(1764979199) == "2025-12-05T23:59:59Z");
}

TEST_CASE("the mail form of a report follows RFC 8460 section 5.3", "[tls_rpt]") {
  ReportMail m;
  m.from = "tlsrpt@sender.example";
  m.to = {"a@example.com", "b@example.com"};
  m.policy_domain = "example.com";
  m.submitter = "mta.sender.example";
  m.report_id = "r1@mta.sender.example";
  m.message_id = "<r1@mta.sender.example>";
  m.date_s = 1764892800;
  m.filename = report_filename("mta.sender.example", "example.com", 1764892800, 1764979200, "r1");
  m.report_gz = gzip("{\"policies\":[]}");
  const auto text = render_report_mail(m);
  CHECK(m.filename == "mta.sender.example!example.com!1764892800!1764979200!r1.json.gz");
  CHECK(text.find("Subject: Report Domain: example.com Submitter: mta.sender.example Report-ID: <r1@mta.sender.example>\r\n") !=
        std::string::npos);
  CHECK(text.find("\r\nTLS-Report-Domain: example.com\r\n") != std::string::npos);
  CHECK(text.find("\r\nTLS-Report-Submitter: mta.sender.example\r\n") != std::string::npos);
  CHECK(text.find("Content-Type: multipart/report; report-type=\"tlsrpt\";") != std::string::npos);
  CHECK(text.find("Content-Type: application/tlsrpt+gzip\r\n") != std::string::npos);
  CHECK(text.find("filename=\"" + m.filename + "\"") != std::string::npos);
  CHECK(text.find("To: a@example.com,\r\n b@example.com\r\n") != std::string::npos);
  CHECK(text.find("\n\n") == std::string::npos);  // CRLF only
  CHECK(text.substr(text.size() - 2) == "\r\n");
}
