#include "core/config/units.hpp"
#include "core/util/ascii.hpp"

#include <array>
#include <cctype>

namespace volley {
namespace {

// Reads a run of decimal digits into *value; false on no digits or on a value that could
// overflow any unit's multiplication (limit is far above every maximum we accept).
bool take_number(std::string_view& text, std::uint64_t* value) {
  constexpr std::uint64_t kLimit = std::uint64_t{1} << 50;
  std::size_t i = 0;
  std::uint64_t v = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    v = v * 10 + static_cast<std::uint64_t>(text[i] - '0');
    if (v > kLimit) return false;
    ++i;
  }
  if (i == 0) return false;
  text.remove_prefix(i);
  *value = v;
  return true;
}

std::string_view take_letters(std::string_view& text) {
  std::size_t i = 0;
  while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
  auto letters = text.substr(0, i);
  text.remove_prefix(i);
  return letters;
}


struct Unit {
  std::string_view name;
  std::uint64_t factor;
};

// Largest first: format_* picks the first unit that divides exactly.
constexpr std::array<Unit, 5> kDurationUnits{{
    {"d", 86'400'000}, {"h", 3'600'000}, {"m", 60'000}, {"s", 1'000}, {"ms", 1}}};
constexpr std::array<Unit, 4> kSizeUnits{{
    {"GiB", std::uint64_t{1} << 30}, {"MiB", std::uint64_t{1} << 20}, {"KiB", std::uint64_t{1} << 10}, {"B", 1}}};

}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  const auto max = static_cast<std::uint64_t>(kMaxConfigDuration.count());
  std::uint64_t total = 0;
  while (!text.empty()) {
    std::uint64_t n = 0;
    if (!take_number(text, &n)) return std::nullopt;
    auto unit_name = take_letters(text);
    const Unit* unit = nullptr;
    for (const auto& u : kDurationUnits) {
      if (u.name == unit_name) unit = &u;  // case-sensitive: "m" minutes vs "M" would be a guess
    }
    if (unit == nullptr) return std::nullopt;
    if (n > max / unit->factor) return std::nullopt;
    total += n * unit->factor;
    if (total > max) return std::nullopt;
  }
  return std::chrono::milliseconds{static_cast<std::int64_t>(total)};
}

std::string format_duration(std::chrono::milliseconds d) {
  const auto ms = static_cast<std::uint64_t>(d.count() < 0 ? 0 : d.count());
  for (const auto& u : kDurationUnits) {
    if (ms % u.factor == 0) return std::to_string(ms / u.factor) + std::string(u.name);
  }
  return std::to_string(ms) + "ms";  // unreachable: "ms" divides everything
}

std::optional<std::uint64_t> parse_byte_size(std::string_view text) {
  std::uint64_t n = 0;
  if (!take_number(text, &n)) return std::nullopt;
  auto unit_name = take_letters(text);
  if (!text.empty()) return std::nullopt;
  std::uint64_t factor = 1;
  if (!unit_name.empty()) {
    const Unit* unit = nullptr;
    for (const auto& u : kSizeUnits) {
      if (util::ascii_iequals(u.name, unit_name)) unit = &u;
    }
    if (unit == nullptr) return std::nullopt;
    factor = unit->factor;
  }
  if (n > kMaxConfigByteSize / factor) return std::nullopt;
  return n * factor;
}

std::string format_byte_size(std::uint64_t bytes) {
  for (const auto& u : kSizeUnits) {
    if (bytes != 0 && bytes % u.factor == 0) return std::to_string(bytes / u.factor) + std::string(u.name);
  }
  return std::to_string(bytes) + "B";
}

std::optional<double> parse_percent(std::string_view text) {
  std::uint64_t whole = 0;
  if (!take_number(text, &whole)) return std::nullopt;
  auto value = static_cast<double>(whole);
  if (!text.empty() && text.front() == '.') {
    text.remove_prefix(1);
    const std::size_t before = text.size();
    std::uint64_t fraction = 0;
    if (!take_number(text, &fraction)) return std::nullopt;
    const std::size_t digits = before - text.size();
    if (digits > 2) return std::nullopt;
    value += static_cast<double>(fraction) / (digits == 1 ? 10.0 : 100.0);
  }
  if (text != "%" || value > 100) return std::nullopt;
  return value;
}

}  // namespace volley
