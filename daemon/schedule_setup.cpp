#include "daemon/schedule_setup.hpp"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include <spdlog/spdlog.h>
#include "core/util/log_fields.hpp"

namespace volley {

std::string zoneinfo_dir() {
  const char* dir = std::getenv("TZDIR");
  return dir && *dir ? std::string(dir) : std::string("/usr/share/zoneinfo");
}

std::optional<std::shared_ptr<const schedule::TenantWindows>> load_sending_windows(const Config& cfg) {
  auto windows = std::make_shared<schedule::TenantWindows>();
  const std::string dir = zoneinfo_dir();
  for (const auto& tenant : cfg.tenants) {
    if (!tenant.send_window) continue;
    // The name was checked by the configuration (no "..", no absolute path).
    const std::string path = dir + "/" + tenant.timezone;
    std::ifstream in(path, std::ios::binary);
    std::string error = "cannot read " + path;
    std::optional<schedule::Zone> zone;
    if (in) {
      const std::string bytes{std::istreambuf_iterator<char>(in), {}};
      zone = schedule::Zone::parse(bytes, &error);
      if (!zone) error = path + ": " + error;
    }
    if (!zone) {
      spdlog::critical("config: [[tenant]] timezone is not a time zone{}", util::log_fields("tenant", tenant.name, "timezone", tenant.timezone, "error", error));
      return std::nullopt;
    }
    windows->emplace(tenant.name, schedule::TenantWindow{*tenant.send_window, std::move(*zone)});
    spdlog::info("schedule: tenant's mail is first tried within its send window{}",
                 util::log_fields("tenant", tenant.name, "window",
                                  fmt::format("{:02}:{:02}-{:02}:{:02}", tenant.send_window->start_min / 60,
                                              tenant.send_window->start_min % 60, tenant.send_window->end_min / 60,
                                              tenant.send_window->end_min % 60),
                                  "timezone", tenant.timezone));
  }
  return std::shared_ptr<const schedule::TenantWindows>(std::move(windows));
}

}  // namespace volley
