#include "core/toml/problems.hpp"

#include <algorithm>

namespace volley::toml_file {

void Problems::add(const toml::source_region& where, std::string_view place, std::string_view message) {
  const auto line = static_cast<std::size_t>(where.begin.line);
  std::string text = source_ + ":" + std::to_string(line) + ": ";
  if (!place.empty()) text.append(place).append(": ");
  text.append(message);
  list_.push_back({line, std::move(text)});
}

std::string Problems::report() {
  std::stable_sort(list_.begin(), list_.end(), [](const auto& a, const auto& b) { return a.line < b.line; });
  std::string out;
  for (const auto& p : list_) {
    if (!out.empty()) out += '\n';
    out += p.text;
  }
  return out;
}

}  // namespace volley::toml_file
