#include "core/config/tenant_config.hpp"

#include <algorithm>

namespace volley::config_detail {

bool is_zone_name(std::string_view name) {
  if (name.empty() || name.size() > 100 || name.front() == '/' || name.back() == '/') return false;
  std::size_t start = 0;
  while (start <= name.size()) {
    const auto slash = std::min(name.find('/', start), name.size());
    const std::string_view part = name.substr(start, slash - start);
    if (part.empty() || part == "." || part == ".." || part.front() == '-') return false;
    for (char c : part) {
      const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                      c == '-' || c == '+' || c == '.';
      if (!ok) return false;
    }
    start = slash + 1;
  }
  return true;
}

namespace {

Parse<schedule::SendWindow> send_window() {
  return [](const toml::node& node, schedule::SendWindow* out, std::string* why) {
    const auto* s = node.as_string();
    auto w = s ? schedule::parse_send_window(s->get()) : std::nullopt;
    if (!w) {
      *why = "expected \"HH:MM-HH:MM\" (24-hour clock, start and end differ; \"22:00-06:00\" spans midnight), got " +
             describe(node);
      return false;
    }
    *out = *w;
    return true;
  };
}

}  // namespace

void read_tenant(const toml::table& t, std::vector<Config::Tenant>& tenants, Problems& problems) {
  TableReader r(problems, t, "[[tenant]]");
  Config::Tenant tenant;
  const auto* name = r.read("name", &tenant.name, name_token());
  r.read("send_window", &tenant.send_window, send_window());
  const auto* zone = r.read("timezone", &tenant.timezone,
                            string_that("an IANA time zone name such as \"Europe/Berlin\"", is_zone_name));
  r.reject_unknown_keys();
  if (name == nullptr) return r.report_table("name", "missing (the tenant's name, as its API keys give it)");
  if (zone != nullptr && !tenant.send_window)
    r.report(*zone, "timezone", "is only used with send_window; set one or leave timezone out");
  const bool seen = std::any_of(tenants.begin(), tenants.end(), [&](const auto& o) { return o.name == tenant.name; });
  if (seen) return r.report(*name, "name", "tenant \"" + tenant.name + "\" is configured twice");
  tenants.push_back(std::move(tenant));
}

}  // namespace volley::config_detail
