#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>
#include <string>

#include "core/schedule/hold.hpp"
#include "core/schedule/window.hpp"
#include "core/schedule/zone.hpp"

using namespace volley::schedule;

namespace {

constexpr std::int64_t kHour = 3600 * 1000;

// The system's zone (Debian's tzdata), as volleyd reads it.
Zone system_zone(const std::string& name) {
  std::ifstream in("/usr/share/zoneinfo/" + name, std::ios::binary);
  REQUIRE(in);
  const std::string bytes{std::istreambuf_iterator<char>(in), {}};
  std::string error;
  auto zone = Zone::parse(bytes, &error);
  INFO(error);
  REQUIRE(zone);
  return *zone;
}

void be32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xFF));
}

// A "slim" TZif v2 file: no transitions, one type, everything in the footer's POSIX rule.
std::string slim_tzif(std::int32_t offset, const std::string& abbrev, const std::string& footer) {
  std::string block;
  for (std::uint32_t n : {0u, 0u, 0u, 0u, 1u, static_cast<std::uint32_t>(abbrev.size() + 1)}) be32(block, n);
  std::string data;
  be32(data, static_cast<std::uint32_t>(offset));
  data.push_back(0);
  data.push_back(0);
  data += abbrev;
  data.push_back('\0');
  const std::string header = std::string("TZif2") + std::string(15, '\0');
  return header + block + data + header + block + data + "\n" + footer + "\n";
}

// ms since the epoch of a UTC date-time in tests.
std::int64_t utc(std::int64_t seconds) { return seconds * 1000; }

}  // namespace

TEST_CASE("window: parse HH:MM-HH:MM", "[schedule]") {
  CHECK(parse_send_window("08:00-20:00") == SendWindow{480, 1200});
  CHECK(parse_send_window("22:30-06:00") == SendWindow{1350, 360});
  for (const char* bad : {"", "8:00-20:00", "08:00-24:00", "08:00-08:00", "08:00", "08:00-20:60", "08-20",
                          "08:00 - 20:00", "08:00-20:00-21:00"}) {
    INFO(bad);
    CHECK_FALSE(parse_send_window(bad));
  }
}

TEST_CASE("window: contains, also across midnight", "[schedule]") {
  const SendWindow day{480, 1200}, night{1320, 360};
  CHECK(day.contains(480 * 60'000));
  CHECK_FALSE(day.contains(1200 * 60'000));
  CHECK_FALSE(day.contains(0));
  CHECK(night.contains(0));
  CHECK(night.contains(1320 * 60'000));
  CHECK(night.contains(359 * 60'000));
  CHECK_FALSE(night.contains(360 * 60'000));
  CHECK_FALSE(night.contains(720 * 60'000));
}

TEST_CASE("zone: Europe/Berlin from the system's zoneinfo", "[schedule]") {
  const Zone berlin = system_zone("Europe/Berlin");
  CHECK(berlin.offset_at(1796540400) == 3600);                  // 2026-12-06: CET
  CHECK(berlin.offset_at(1774746000 - 1) == 3600);              // just before 2026-03-29T01:00Z
  CHECK(berlin.offset_at(1774746000) == 7200);                  // CEST from then
  CHECK(berlin.next_change_after(1774746000 - 10) == 1774746000);
  CHECK(berlin.offset_at(1792890000 - 1) == 7200);              // 2026-10-25T01:00Z
  CHECK(berlin.offset_at(1792890000) == 3600);
  CHECK(berlin.offset_at(4102444800 + 200 * 86400) == 7200);    // 2100, July: past the file's table
}

TEST_CASE("zone: southern hemisphere and a zone without DST", "[schedule]") {
  const Zone sydney = system_zone("Australia/Sydney");
  CHECK(sydney.offset_at(1767225600) == 11 * 3600);   // 2026-01-01: AEDT
  CHECK(sydney.offset_at(1782864000) == 10 * 3600);   // 2026-07-01: AEST
  const Zone utc_zone = system_zone("UTC");
  CHECK(utc_zone.offset_at(1782864000) == 0);
  CHECK_FALSE(utc_zone.next_change_after(0));
}

TEST_CASE("zone: a slim file's footer rule gives the transitions", "[schedule]") {
  auto zone = Zone::parse(slim_tzif(3600, "CET", "CET-1CEST,M3.5.0,M10.5.0/3"));
  REQUIRE(zone);
  CHECK(zone->offset_at(1774746000 - 1) == 3600);
  CHECK(zone->offset_at(1774746000) == 7200);
  CHECK(zone->offset_at(1792890000 - 1) == 7200);
  CHECK(zone->offset_at(1792890000) == 3600);
  auto fixed = Zone::parse(slim_tzif(-18000, "EST", "EST5"));
  REQUIRE(fixed);
  CHECK(fixed->offset_at(1792890000) == -18000);
  auto quoted = Zone::parse(slim_tzif(19800, "+0530", "<+0530>-5:30"));
  REQUIRE(quoted);
  CHECK(quoted->offset_at(1792890000) == 19800);
}

TEST_CASE("zone: bytes that are no TZif file are refused with a reason", "[schedule]") {
  std::string error;
  CHECK_FALSE(Zone::parse("", &error));
  CHECK(error == "not a TZif file");
  CHECK_FALSE(Zone::parse("TZif2" + std::string(60, '\xff'), &error));
  const std::string good = slim_tzif(3600, "CET", "CET-1CEST,M3.5.0,M10.5.0/3");
  for (std::size_t cut = 0; cut < good.size(); ++cut) CHECK_FALSE(Zone::parse(good.substr(0, cut)));
  CHECK_FALSE(Zone::parse(slim_tzif(3600, "CET", "CET-1CEST,J60,J300")));
}

TEST_CASE("window: opens at the next local start, with a simulated clock", "[schedule]") {
  const Zone berlin = system_zone("Europe/Berlin");
  const SendWindow day{480, 1200};
  // 2026-12-06 06:00 local: opens at 08:00 local = 07:00Z.
  CHECK(window_opens_at(day, berlin, utc(1796540400) - kHour) == utc(1796540400));
  // Open now: now.
  CHECK(window_opens_at(day, berlin, utc(1796540400) + 3 * kHour + 17) == utc(1796540400) + 3 * kHour + 17);
  // 20:00 local is closed: the next morning.
  CHECK(window_opens_at(day, berlin, utc(1796540400) + 12 * kHour) == utc(1796626800));
  // A window across midnight: 22:00-06:00, at noon it opens at 22:00 local = 21:00Z.
  CHECK(window_opens_at(SendWindow{1320, 360}, berlin, utc(1796540400) + 4 * kHour) == utc(1796590800));
  // And is open at 02:00 local.
  CHECK(window_opens_at(SendWindow{1320, 360}, berlin, utc(1796540400) - 6 * kHour) == utc(1796540400) - 6 * kHour);
}

TEST_CASE("window: across DST changes", "[schedule]") {
  const Zone berlin = system_zone("Europe/Berlin");
  // Spring: Saturday 2026-03-28 21:00 CET -> Sunday 08:00 CEST = 06:00Z.
  CHECK(window_opens_at(SendWindow{480, 1200}, berlin, utc(1774746000) - 5 * kHour) == utc(1774764000));
  // A start the spring change skips (02:30): opens at the change (03:00 CEST = 01:00Z).
  CHECK(window_opens_at(SendWindow{150, 300}, berlin, utc(1774746000) - 13 * kHour) == utc(1774746000));
  // Autumn: Saturday 2026-10-24 21:00 CEST -> Sunday 08:00 CET = 07:00Z.
  CHECK(window_opens_at(SendWindow{480, 1200}, berlin, utc(1792911600) - 11 * kHour) == utc(1792911600));
  // A start the autumn change repeats (02:30): its first occurrence, 02:30 CEST = 00:30Z.
  CHECK(window_opens_at(SendWindow{150, 240}, berlin, utc(1792888200) - 12 * kHour) == utc(1792888200));
}

TEST_CASE("hold: first attempt is the later of send_at and the window's opening", "[schedule]") {
  const std::int64_t now = utc(1796540400) - kHour;  // 06:00 Berlin
  TenantWindow w{SendWindow{480, 1200}, system_zone("Europe/Berlin")};
  CHECK(first_attempt_at(0, nullptr, now) == 0);
  CHECK(first_attempt_at(now - 5, nullptr, now) == 0);
  CHECK(first_attempt_at(now + 5, nullptr, now) == now + 5);
  CHECK(first_attempt_at(0, &w, now) == now + kHour);
  CHECK(first_attempt_at(now + 2 * kHour, &w, now) == now + 2 * kHour);
  CHECK(first_attempt_at(now + 14 * kHour, &w, now) == utc(1796626800));  // 21:00 local: next morning
  CHECK(first_attempt_at(0, &w, now + 2 * kHour) == 0);                   // open now
}

TEST_CASE("hold: releases in time order, ties in holding order, and gives up a message", "[schedule]") {
  Hold<std::string> hold;
  CHECK_FALSE(hold.next_due());
  hold.hold(300, "m3", "c");
  hold.hold(100, "m1", "a");
  hold.hold(300, "m4", "d");
  hold.hold(200, "m2", "b");
  CHECK(hold.size() == 4);
  CHECK(hold.next_due() == 100);
  CHECK(hold.release_due(99).empty());
  CHECK(hold.release_due(200) == std::vector<std::string>{"a", "b"});
  CHECK(hold.next_due() == 300);
  // A cancel that the item refuses (another tenant's) takes nothing.
  CHECK(hold.take("m4", [](const std::string&) { return false; }).empty());
  CHECK(hold.take("m4", [](const std::string&) { return true; }) == std::vector<std::string>{"d"});
  CHECK(hold.take("m4", [](const std::string&) { return true; }).empty());
  CHECK(hold.take("nope", [](const std::string&) { return true; }).empty());
  hold.hold(50, "m5", "e");
  hold.hold(60, "m6", "x");
  CHECK(hold.take_all([](const std::string& s) { return s == "x"; }) == std::vector<std::string>{"x"});
  CHECK(hold.release_due(1000) == std::vector<std::string>{"e", "c"});
  CHECK(hold.size() == 0);
  CHECK_FALSE(hold.next_due());
}
