#pragma once
// A list for people, in log lines, API answers and findings: "a, b, c".
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace volley::util {

// The items joined by ", "; `none` when there are none ("nothing", "no address").
inline std::string joined(const std::vector<std::string>& items, std::string_view none = {}) {
  if (items.empty()) return std::string(none);
  std::string out = items.front();
  for (std::size_t i = 1; i < items.size(); ++i) out.append(", ").append(items[i]);
  return out;
}

}  // namespace volley::util
