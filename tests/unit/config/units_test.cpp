#include <catch2/catch.hpp>

#include "core/config/units.hpp"

using namespace std::chrono_literals;
using volley::format_byte_size;
using volley::format_duration;
using volley::parse_byte_size;
using volley::parse_duration;
using volley::parse_percent;

TEST_CASE("durations are read in every unit and in combinations") {
  CHECK(parse_duration("250ms") == 250ms);
  CHECK(parse_duration("300s") == 300s);
  CHECK(parse_duration("5m") == 5min);
  CHECK(parse_duration("1h") == 1h);
  CHECK(parse_duration("5d") == 120h);
  CHECK(parse_duration("1h30m") == 90min);
  CHECK(parse_duration("1s500ms") == 1500ms);
  CHECK(parse_duration("0s") == 0ms);
}

TEST_CASE("malformed or absurd durations are refused") {
  for (const char* bad : {"", "5", "s", "-5s", "+5s", "1.5s", "5 s", " 5s", "5s ", "5x", "5M", "5sec", "1h30",
                          "3651d", "99999999999999999999s", "18446744073709551615ms"}) {
    INFO(bad);
    CHECK_FALSE(parse_duration(bad).has_value());
  }
  CHECK(parse_duration("3650d") == volley::kMaxConfigDuration);
}

TEST_CASE("durations are formatted in their largest exact unit and read back") {
  CHECK(format_duration(300s) == "5m");
  CHECK(format_duration(3600s) == "1h");
  CHECK(format_duration(120h) == "5d");
  CHECK(format_duration(2000ms) == "2s");
  CHECK(format_duration(2500ms) == "2500ms");
  CHECK(format_duration(90s) == "90s");
  for (auto d : {0ms, 1ms, 999ms, 61'000ms, 86'400'001ms}) CHECK(parse_duration(format_duration(d)) == d);
}

TEST_CASE("byte sizes use binary units, case-insensitively") {
  CHECK(parse_byte_size("1000") == 1000u);
  CHECK(parse_byte_size("1000B") == 1000u);
  CHECK(parse_byte_size("512KiB") == 512u * 1024);
  CHECK(parse_byte_size("25MiB") == 25u * 1024 * 1024);
  CHECK(parse_byte_size("25mib") == 25u * 1024 * 1024);
  CHECK(parse_byte_size("2GiB") == 2ull << 30);
  for (const char* bad : {"", "MiB", "25MB", "25 MiB", "-1", "1.5MiB", "25MiBs", "1025GiB"}) {
    INFO(bad);
    CHECK_FALSE(parse_byte_size(bad).has_value());
  }
  CHECK(format_byte_size(25u * 1024 * 1024) == "25MiB");
  CHECK(format_byte_size(1000) == "1000B");
  CHECK(format_byte_size(0) == "0B");
  CHECK(format_byte_size(3072) == "3KiB");
}

TEST_CASE("percentages have at most two decimals") {
  CHECK(parse_percent("5%") == 5.0);
  CHECK(parse_percent("0%") == 0.0);
  CHECK(parse_percent("0.5%") == 0.5);
  CHECK(parse_percent("12.25%") == 12.25);
  CHECK(parse_percent("100%") == 100.0);
  for (const char* bad : {"", "%", "5", "5 %", "-5%", "5.%", ".5%", "1.125%", "101%", "5%%", "5MiB"}) {
    INFO(bad);
    CHECK_FALSE(parse_percent(bad).has_value());
  }
}
