#include <catch2/catch.hpp>

#include "core/schedule/send_at.hpp"

using namespace volley::schedule;

namespace {
constexpr std::int64_t kChristmas = 1798099200LL * 1000;  // 2026-12-24T08:00:00Z
}

TEST_CASE("send_at: RFC 3339 with Z or an offset names one instant", "[schedule]") {
  CHECK(parse_rfc3339("2026-12-24T08:00:00Z") == kChristmas);
  CHECK(parse_rfc3339("2026-12-24t08:00:00z") == kChristmas);
  CHECK(parse_rfc3339("2026-12-24 08:00:00Z") == kChristmas);
  CHECK(parse_rfc3339("2026-12-24T09:00:00+01:00") == kChristmas);
  CHECK(parse_rfc3339("2026-12-24T03:30:00-04:30") == kChristmas);
  CHECK(parse_rfc3339("2026-12-24T08:00:00.25Z") == kChristmas + 250);
  CHECK(parse_rfc3339("2026-12-24T08:00:00.123456789Z") == kChristmas + 123);
  CHECK(parse_rfc3339("2016-02-29T23:59:59Z") == 1456790399LL * 1000);
  CHECK(parse_rfc3339("1970-01-01T00:00:00Z") == 0);
}

TEST_CASE("send_at: anything but RFC 3339 with an offset is refused", "[schedule]") {
  for (const char* bad : {"", "2026-12-24", "2026-12-24T08:00:00", "2026-12-24T08:00Z", "2026-12-24T08:00:00+0100",
                          "2026-12-24T08:00:00+01", "2026-02-29T08:00:00Z", "2026-04-31T08:00:00Z",
                          "2026-13-01T08:00:00Z", "2026-00-01T08:00:00Z", "2026-12-24T24:00:00Z",
                          "2026-12-31T23:59:60Z", "2026-12-24T08:00:00.Z", "2026-12-24T08:00:00Z ",
                          "2026-12-24T08:00:00ZZ", "+2026-12-24T08:00:00Z", "2026-12-24T08:00:00+24:00",
                          "tomorrow", "1798099200"}) {
    INFO(bad);
    CHECK_FALSE(parse_rfc3339(bad));
  }
}

TEST_CASE("send_at: past is now, up to 30 days ahead is held, further is refused", "[schedule]") {
  const std::int64_t now = kChristmas;
  CHECK(std::get<std::int64_t>(resolve_send_at("2026-12-24T08:00:00Z", now)) == 0);
  CHECK(std::get<std::int64_t>(resolve_send_at("2020-01-01T00:00:00Z", now)) == 0);
  CHECK(std::get<std::int64_t>(resolve_send_at("2026-12-24T08:00:01Z", now)) == now + 1000);
  CHECK(std::get<std::int64_t>(resolve_send_at("2027-01-23T08:00:00Z", now)) == now + kMaxSendAheadMs);
  auto far = resolve_send_at("2027-01-23T08:00:01Z", now);
  REQUIRE(std::holds_alternative<SendAtError>(far));
  CHECK(std::get<SendAtError>(far).message.find("30 days") != std::string::npos);
  auto bad = resolve_send_at("next week", now);
  REQUIRE(std::holds_alternative<SendAtError>(bad));
  CHECK(std::get<SendAtError>(bad).code == "invalid_field");
  CHECK(std::get<SendAtError>(bad).message.find("send_at") != std::string::npos);
}
