#include "core/spool/records.hpp"

#include <charconv>

namespace volley::spool {

std::string recipient_id(std::string_view message_id, std::uint32_t index) {
  std::string id;
  id.reserve(message_id.size() + 11);
  id.append(message_id);
  id += '-';
  char digits[10];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, index);
  id.append(digits, end);
  return id;
}

std::optional<std::uint32_t> recipient_index(const RecipientRecord& r) {
  const std::string_view id = r.id;
  if (id.size() < r.message_id.size() + 2 || id.substr(0, r.message_id.size()) != r.message_id ||
      id[r.message_id.size()] != '-')
    return std::nullopt;
  const std::string_view digits = id.substr(r.message_id.size() + 1);
  if (digits.size() > 1 && digits.front() == '0') return std::nullopt;  // one spelling per index
  std::uint32_t index = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return index;
}

}  // namespace volley::spool
