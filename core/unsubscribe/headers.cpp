#include "core/unsubscribe/headers.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/message/address.hpp"
#include "core/util/ascii.hpp"

namespace volley::unsubscribe {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxUrl = 2000;
constexpr std::string_view kPathPrefix = "/u/";

PlanError invalid(std::string message, std::string field = std::string(kRequestMember)) {
  return PlanError{"invalid_field", std::move(message), std::move(field)};
}

bool has_line_break(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

// An https URL that can stand between '<' and '>' in a header: printable ASCII, no space.
bool valid_url(std::string_view url) {
  constexpr std::string_view kScheme = "https://";
  return url.size() > kScheme.size() && url.size() <= kMaxUrl && util::ascii_iequals(url.substr(0, kScheme.size()), kScheme) &&
         url[kScheme.size()] != '/' &&
         std::all_of(url.begin(), url.end(), [](char c) { return c > 0x20 && c < 0x7f && c != '<' && c != '>'; });
}

std::variant<Plan, PlanError> own_plan(const json& value) {
  Plan plan;
  plan.kind = Plan::Kind::own;
  for (const auto& [name, member] : value.items()) {
    const std::string field = std::string(kRequestMember) + "." + name;
    if (name != "url" && name != "mailto")
      return PlanError{"unknown_field", "unknown member \"" + name.substr(0, 64) + "\" (expected url or mailto)", field};
    if (!member.is_string()) return invalid(field + " must be a string", field);
    const auto& s = member.get_ref<const std::string&>();
    if (has_line_break(s)) return PlanError{"header_injection", field + " must not hold CR, LF or NUL", field};
    if (name == "url") {
      if (!valid_url(s)) return invalid("url must be an https:// URL of printable ASCII without spaces or <>", field);
      plan.url = s;
    } else {
      std::string why;
      if (!message::parse_address(s, &why) || s.find_first_of("<>?, ") != std::string::npos)
        return invalid("mailto must be an address such as unsubscribe@example.com: " + why, field);
      plan.mailto = s;
    }
  }
  if (plan.url.empty() && plan.mailto.empty()) return invalid("list_unsubscribe needs a url, a mailto or both");
  return plan;
}

}  // namespace

std::variant<Plan, PlanError> plan_for(const json& request, bool has_campaign, const Endpoints& endpoints,
                                       std::string_view message) {
  const bool configured = !endpoints.base_url.empty();
  const auto it = request.is_object() ? request.find(kRequestMember) : request.end();
  const bool own_header = has_list_unsubscribe(message);
  if (it == request.end() || it->is_null()) {
    if (!has_campaign || !configured || own_header) return Plan{};
    return Plan{Plan::Kind::per_recipient, "", ""};
  }
  if (it->is_boolean()) {
    if (!it->get<bool>()) return Plan{};
    if (!configured)
      return PlanError{"unsubscribe_not_configured",
                       "list_unsubscribe: true needs the [unsubscribe] section (base_url) in the configuration",
                       std::string(kRequestMember)};
  } else if (!it->is_object()) {
    return invalid("list_unsubscribe must be true, false or {\"url\", \"mailto\"}");
  }
  if (own_header)
    return invalid("the message has its own List-Unsubscribe header: leave out list_unsubscribe or the header");
  if (it->is_boolean()) return Plan{Plan::Kind::per_recipient, "", ""};
  return own_plan(*it);
}

std::string header_fields(std::string_view url, std::string_view mailto) {
  if (url.empty() && mailto.empty()) return {};
  std::string out = "List-Unsubscribe: ";
  if (!url.empty()) out.append("<").append(url).append(">");
  if (!mailto.empty()) {
    // Folded after the comma: a long URL and a mailto stay under 998 octets a line.
    if (!url.empty()) out.append(",\r\n ");
    out.append("<mailto:").append(mailto).append(">");
  }
  out.append("\r\n");
  if (!url.empty()) out.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n");
  return out;
}

std::string one_click_url(const Endpoints& endpoints, std::string_view token) {
  std::string out = endpoints.base_url;
  out.append(kPathPrefix).append(token);
  return out;
}

std::string mailto_address(const Endpoints& endpoints, std::string_view local_part) {
  if (endpoints.mailto_domain.empty()) return {};
  return std::string(local_part) + "@" + endpoints.mailto_domain;
}

bool has_list_unsubscribe(std::string_view message) {
  constexpr std::string_view kName = "list-unsubscribe";
  std::size_t pos = 0;
  while (pos < message.size()) {
    const auto end = message.find("\r\n", pos);
    const std::string_view line = message.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    if (line.empty()) return false;  // end of the header section
    if (line.size() > kName.size() && util::ascii_iequals(line.substr(0, kName.size()), kName)) {
      const auto rest = line.substr(kName.size());
      const auto colon = rest.find_first_not_of(" \t");
      if (colon != std::string_view::npos && rest[colon] == ':') return true;
    }
    if (end == std::string_view::npos) return false;
    pos = end + 2;
  }
  return false;
}

std::optional<std::string_view> token_in_path(std::string_view path) {
  if (path.size() <= kPathPrefix.size() || path.substr(0, kPathPrefix.size()) != kPathPrefix) return std::nullopt;
  return path.substr(kPathPrefix.size());
}

}  // namespace volley::unsubscribe
