#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "core/tls_rpt/aggregate.hpp"

using namespace volley::tls_rpt;

namespace {

Policy sts_policy(const std::string& domain) {
  return Policy{PolicyType::sts, {"version: STSv1", "mode: enforce", "mx: *.mail." + domain, "max_age: 86400"}, domain,
                {"*.mail." + domain}};
}

SessionOutcome success(const Policy& p) { return SessionOutcome{p, std::nullopt, "192.0.2.1", "mx1." + p.domain, "198.51.100.7", ""}; }

SessionOutcome failure(const Policy& p, ResultType r, std::string reason = "certificate verify failed") {
  return SessionOutcome{p, r, "192.0.2.1", "mx1." + p.domain, "198.51.100.7", std::move(reason)};
}

}  // namespace

TEST_CASE("sessions are counted per policy and failures grouped per detail", "[tls_rpt]") {
  Aggregate a(utc_day_start(1764892800123));
  const auto p = sts_policy("example.com");
  a.add(success(p));
  a.add(success(p));
  a.add(failure(p, ResultType::certificate_expired));
  a.add(failure(p, ResultType::certificate_expired));
  a.add(failure(p, ResultType::starttls_not_supported, ""));
  Policy none{PolicyType::no_policy_found, {}, "example.com", {}};
  a.add(success(none));
  a.add(success(sts_policy("other.org")));

  CHECK(a.domains() == std::vector<std::string>{"example.com", "other.org"});
  auto ps = a.policies_of("example.com");
  REQUIRE(ps.size() == 2);
  const PolicyTotals* sts = ps[0]->policy.type == PolicyType::sts ? ps[0] : ps[1];
  CHECK(sts->successful == 2);
  CHECK(sts->failed == 3);
  REQUIRE(sts->details.size() == 2);
  CHECK(sts->details[0].result == ResultType::certificate_expired);
  CHECK(sts->details[0].failed_session_count == 2);
  CHECK(a.policies_of("other.org").size() == 1);
  CHECK(a.policies_of("other").empty());
}

TEST_CASE("a changed policy string is a separate policy entry", "[tls_rpt]") {
  Aggregate a(0);
  auto p = sts_policy("example.com");
  a.add(success(p));
  p.strings[1] = "mode: testing";
  a.add(success(p));
  CHECK(a.policies_of("example.com").size() == 2);
}

TEST_CASE("failure details are bounded and fold into their result type", "[tls_rpt]") {
  Aggregate a(0);
  const auto p = sts_policy("example.com");
  for (std::size_t i = 0; i < Aggregate::kMaxDetails + 50; ++i) {
    auto f = failure(p, ResultType::validation_failure);
    f.receiving_ip = "198.51.100." + std::to_string(i);
    a.add(f);
  }
  auto ps = a.policies_of("example.com");
  REQUIRE(ps.size() == 1);
  CHECK(ps[0]->failed == Aggregate::kMaxDetails + 50);
  CHECK(ps[0]->details.size() == Aggregate::kMaxDetails + 1);
  CHECK(ps[0]->details.back().receiving_ip.empty());
  CHECK(ps[0]->details.back().failed_session_count == 50);
  auto long_reason = failure(p, ResultType::certificate_expired, std::string(1000, 'x'));
  Aggregate b(0);
  b.add(long_reason);
  CHECK(b.policies_of("example.com")[0]->details[0].failure_reason_code.size() == Aggregate::kMaxReasonBytes);
}

TEST_CASE("the aggregate survives its JSON form", "[tls_rpt]") {
  Aggregate a(1764892800000);
  const auto p = sts_policy("example.com");
  a.add(success(p));
  a.add(failure(p, ResultType::certificate_host_mismatch));
  a.add(success(Policy{PolicyType::tlsa, {"3 1 1 abcd"}, "dane.example", {"mx.dane.example"}}));
  const auto text = a.to_json().dump();
  std::string error;
  auto back = Aggregate::from_json(nlohmann::json::parse(text), &error);
  REQUIRE(back);
  CHECK(back->start_ms() == 1764892800000);
  CHECK(back->to_json() == a.to_json());
  back->add(success(p));  // the same policy is found again after a restart
  CHECK(back->policies_of("example.com")[0]->successful == 2);
}

TEST_CASE("a damaged aggregate file is refused, not trusted", "[tls_rpt]") {
  std::string error;
  CHECK_FALSE(Aggregate::from_json(nlohmann::json::parse("[]"), &error));
  CHECK_FALSE(Aggregate::from_json(nlohmann::json::parse(R"({"start-ms":0,"policies":[{"policy-type":"x"}]})"), &error));
  CHECK(error == "unknown policy-type");
  CHECK_FALSE(Aggregate::from_json(
      nlohmann::json::parse(R"({"start-ms":0,"policies":[{"policy-type":"sts","policy-domain":"a.b","mx-host":"x"}]})"),
      &error));
}

TEST_CASE("session failures map to RFC 8460 result types", "[tls_rpt]") {
  CHECK(result_type_for("not_offered", "") == ResultType::starttls_not_supported);
  CHECK(result_type_for("starttls_refused", "") == ResultType::starttls_not_supported);
  CHECK(result_type_for("certificate", "certificate verify failed (hostname mismatch)") ==
        ResultType::certificate_host_mismatch);
  CHECK(result_type_for("certificate", "certificate verify failed (certificate has expired)") ==
        ResultType::certificate_expired);
  CHECK(result_type_for("certificate", "certificate verify failed (self-signed certificate)") ==
        ResultType::certificate_not_trusted);
  CHECK(result_type_for("handshake", "timed out") == ResultType::validation_failure);
  CHECK(result_type_for("dane", "") == ResultType::validation_failure);
  CHECK(result_type_name(ResultType::sts_webpki_invalid) == "sts-webpki-invalid");
  CHECK(parse_result_type("dnssec-invalid") == ResultType::dnssec_invalid);
  CHECK(policy_type_name(PolicyType::no_policy_found) == "no-policy-found");
}

TEST_CASE("days start at midnight UTC", "[tls_rpt]") {
  CHECK(utc_day_start(1764892800000) == 1764892800000);  // 2025-12-05T00:00:00Z
  CHECK(utc_day_start(1764892800000 + 86399999) == 1764892800000);
  CHECK(utc_day_start(-1) == -86400000);
}
