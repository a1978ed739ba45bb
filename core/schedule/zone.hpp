#pragma once
// A time zone read from a TZif file (RFC 8536), as /usr/share/zoneinfo holds them: UTC offsets
// and the instants they change. Why not the alternatives: g++ 12's libstdc++ has no <chrono>
// tzdb, localtime_r depends on the process-wide TZ variable (not thread-safe to switch), and
// libdate-tz would be one more library for two lookups. Pure: the file's bytes are an argument
// (core/config reads the file).
//
// The version 2+ (64-bit) data is used; transitions past the table come from the file's footer
// (a POSIX TZ rule such as "CET-1CEST,M3.5.0,M10.5.0/3"), expanded up to the year 2200, so
// "slim" files, which rely on the footer, work as well as "fat" ones.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace volley::schedule {

class Zone {
 public:
  // The zone in `tzif` (the bytes of a TZif file), or nullopt and *error.
  static std::optional<Zone> parse(std::string_view tzif, std::string* error = nullptr);
  // A zone without transitions (UTC: 0).
  static Zone fixed(std::int32_t offset_s);

  // Seconds east of UTC in effect at utc_s (seconds since the epoch).
  std::int32_t offset_at(std::int64_t utc_s) const;
  // The first instant after utc_s at which the offset changes, if any.
  std::optional<std::int64_t> next_change_after(std::int64_t utc_s) const;

 private:
  struct Change {
    std::int64_t at_s;
    std::int32_t offset_s;  // in effect from at_s
  };
  std::int32_t initial_ = 0;  // before the first change
  std::vector<Change> changes_;  // ascending at_s

  friend struct ZoneBuilder;
};

}  // namespace volley::schedule
