#include "core/json/members.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace volley::json {

std::string member_path(std::string_view parent, std::string_view name) {
  std::string out(parent);
  if (!out.empty()) out += '.';
  out += name;
  return out;
}

std::string index_path(std::string_view parent, std::size_t index) {
  std::string out(parent);
  out += '[';
  out += std::to_string(index);
  out += ']';
  return out;
}

std::optional<UnknownMember> unknown_member(const nlohmann::json& object, std::string_view parent,
                                            std::span<const std::string_view> allowed,
                                            std::span<const std::string_view> also_allowed) {
  if (!object.is_object()) return std::nullopt;
  auto known = [](std::span<const std::string_view> list, std::string_view name) {
    return std::find(list.begin(), list.end(), name) != list.end();
  };
  for (const auto& [name, value] : object.get_ref<const nlohmann::json::object_t&>()) {
    if (known(allowed, name) || known(also_allowed, name)) continue;
    UnknownMember out{member_path(parent, name), {}};
    out.message = "unknown field " + out.field;
    std::string_view sep = "; known here: ";
    for (auto list : {allowed, also_allowed}) {
      for (std::string_view n : list) {
        out.message += sep;
        out.message += n;
        sep = ", ";
      }
    }
    if (allowed.empty() && also_allowed.empty()) out.message += "; this object takes no fields";
    return out;
  }
  return std::nullopt;
}

}  // namespace volley::json
