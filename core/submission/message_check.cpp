#include "core/submission/message_check.hpp"

#include <algorithm>

#include "core/dkim/header_fields.hpp"
#include "core/dkim/signer.hpp"
#include "core/util/ascii.hpp"

namespace volley::submission {

std::optional<std::string> bare_line_end(std::string_view content) {
  std::size_t line = 1;
  for (std::size_t i = 0; i < content.size(); ++i) {
    const char c = content[i];
    if (c == '\r') {
      if (i + 1 == content.size() || content[i + 1] != '\n') return "bare CR at line " + std::to_string(line);
      ++i;
      ++line;
    } else if (c == '\n') {
      return "bare LF at line " + std::to_string(line);
    }
  }
  return std::nullopt;
}

std::string header_from_domain(std::string_view content) {
  const auto parts = dkim::split_message(content, false);
  return parts ? dkim::from_domain(parts->fields) : std::string();
}

bool sender_domain_allowed(std::string_view domain, const std::vector<std::string>& allowed) {
  if (domain.empty()) return false;
  return std::any_of(allowed.begin(), allowed.end(), [&](const std::string& d) { return util::ascii_iequals(d, domain); });
}

}  // namespace volley::submission
