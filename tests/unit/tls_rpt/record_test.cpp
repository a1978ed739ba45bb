#include <catch2/catch.hpp>

#include "core/tls_rpt/record.hpp"

using namespace volley::tls_rpt;

TEST_CASE("a TLSRPT record with a mailto and an https rua parses", "[tls_rpt]") {
  auto r = parse_record("v=TLSRPTv1; rua=mailto:tlsrpt@example.com,https://reports.example.com/v1");
  REQUIRE(r);
  REQUIRE(r->rua.size() == 2);
  CHECK(r->rua[0].kind == ReportUri::Kind::mailto);
  CHECK(r->rua[0].address == "tlsrpt@example.com");
  CHECK(r->rua[1].kind == ReportUri::Kind::https);
  CHECK(r->rua[1].uri == "https://reports.example.com/v1");
}

TEST_CASE("unknown fields, spaces around commas and a trailing semicolon are accepted", "[tls_rpt]") {
  auto r = parse_record("v=TLSRPTv1 ;  ext=1 ; rua = mailto:a@example.org , mailto:b@example.org?subject=x ;");
  REQUIRE(r);
  REQUIRE(r->rua.size() == 2);
  CHECK(r->rua[1].address == "b@example.org");
}

TEST_CASE("records that do not parse give no reporting", "[tls_rpt]") {
  std::string error;
  CHECK_FALSE(parse_record("v=TLSRPTv2; rua=mailto:a@example.org", &error));
  CHECK_FALSE(parse_record("v=TLSRPTv1", &error));
  CHECK(error == "no rua= field");
  CHECK_FALSE(parse_record("v=TLSRPTv1; rua=ftp://example.org/x", &error));
  CHECK(error.find("unsupported scheme") != std::string::npos);
  CHECK_FALSE(parse_record("v=TLSRPTv1; junk; rua=mailto:a@example.org", &error));
  CHECK_FALSE(parse_record("v=TLSRPTv1; rua=mailto:a@example.org; rua=mailto:b@example.org", &error));
  CHECK_FALSE(parse_record("v=TLSRPTv1; rua=mailto:nobody", &error));
  CHECK_FALSE(parse_record("v=TLSRPTv1x; rua=mailto:a@example.org", &error));
}

TEST_CASE("an unsupported URI beside a good one is skipped", "[tls_rpt]") {
  auto r = parse_record("v=TLSRPTv1; rua=http://insecure.example/x,mailto:a@example.org");
  REQUIRE(r);
  REQUIRE(r->rua.size() == 1);
  CHECK(r->rua[0].address == "a@example.org");
}

TEST_CASE("a hostile record with thousands of URIs is bounded", "[tls_rpt]") {
  std::string rec = "v=TLSRPTv1; rua=";
  for (int i = 0; i < 5000; ++i) rec += "mailto:r" + std::to_string(i) + "@example.org,";
  auto r = parse_record(rec);
  REQUIRE(r);
  CHECK(r->rua.size() == 16);
}

TEST_CASE("exactly one TLSRPT record among the TXT records is used", "[tls_rpt]") {
  std::string error;
  auto one = select_record({"v=spf1 -all", "v=TLSRPTv1; rua=mailto:a@example.org"}, &error);
  REQUIRE(one);
  CHECK(one->rua[0].address == "a@example.org");
  CHECK_FALSE(select_record({"v=TLSRPTv1; rua=mailto:a@example.org", "v=TLSRPTv1; rua=mailto:b@example.org"}, &error));
  CHECK(error.find("several") != std::string::npos);
  CHECK_FALSE(select_record({"v=spf1 -all"}, &error));
  CHECK_FALSE(select_record({}, &error));
  CHECK(record_name("example.org") == "_smtp._tls.example.org");
}
