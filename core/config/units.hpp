#pragma once
// Durations and byte sizes as people write them in the config file: "250ms", "30s", "5m", "1h",
// "5d" (parts may be combined: "1h30m"), and "512KiB", "25MiB", "1GiB" (binary units, so a size
// never means two things). Parsing is strict: no signs, fractions, spaces or unknown units.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace volley {

// Longest duration either function accepts or produces: far beyond any sensible setting, and
// far below where milliseconds in 64 bits could overflow.
inline constexpr std::chrono::milliseconds kMaxConfigDuration{std::int64_t{3650} * 24 * 3600 * 1000};
// Largest byte size accepted (1 TiB).
inline constexpr std::uint64_t kMaxConfigByteSize = std::uint64_t{1} << 40;

// nullopt when text is not a duration or exceeds kMaxConfigDuration.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);
// The shortest exact spelling in a single unit, e.g. 300'000 ms -> "5m", 2'500 ms -> "2500ms".
std::string format_duration(std::chrono::milliseconds d);

// "123" (bytes), "123B", "64KiB", "25MiB", "2GiB" (unit names are case-insensitive); nullopt when
// malformed or above kMaxConfigByteSize.
std::optional<std::uint64_t> parse_byte_size(std::string_view text);
// The largest exact binary unit, e.g. 26'214'400 -> "25MiB", 1000 -> "1000B".
std::string format_byte_size(std::uint64_t bytes);

// "5%", "0.5%", "12.25%" (at most two decimals) -> 5.0, 0.5, 12.25; nullopt when malformed or
// above 100.
std::optional<double> parse_percent(std::string_view text);

}  // namespace volley
