#pragma once
// The domain of an address, the one way: what follows its last '@', in lower case. It is the key
// that routes, shapes, suppresses and names a destination in events and metrics, so two spellings
// of one domain must give one key.
#include <string>
#include <string_view>

#include "core/util/ascii.hpp"

namespace volley::util {

// "" when there is no '@'.
inline std::string domain_of(std::string_view address) {
  const auto at = address.rfind('@');
  return at == std::string_view::npos ? std::string() : ascii_lower(address.substr(at + 1));
}

}  // namespace volley::util
