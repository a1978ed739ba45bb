#pragma once
// A tenant's sending window ("08:00-20:00" in its time zone): when mail may first be tried.
// Pure: the instant is an argument, so tests run the clock across midnight and DST changes.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/schedule/zone.hpp"

namespace volley::schedule {

struct SendWindow {
  int start_min = 0;  // minutes after local midnight, 0..1439
  int end_min = 0;    // exclusive; below start_min: the window spans midnight ("22:00-06:00")

  // Whether a local time of day (milliseconds after local midnight) lies inside.
  bool contains(std::int64_t local_ms_of_day) const;
  bool operator==(const SendWindow&) const = default;
};

// "HH:MM-HH:MM" (24-hour clock, start and end different), or nullopt.
std::optional<SendWindow> parse_send_window(std::string_view text);

// The first instant at or after now_ms (milliseconds since the epoch) at which the window is
// open in `zone`: now_ms itself when it is open. A window start that a DST change skips opens at
// the change; one it repeats opens at its first occurrence.
std::int64_t window_opens_at(const SendWindow& window, const Zone& zone, std::int64_t now_ms);

}  // namespace volley::schedule
