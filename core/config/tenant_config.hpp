#pragma once
// Reading [[tenant]]: settings of one tenant (so far its sending window, docs/scheduling.md).
// Internal to core/config.
#include "core/config/config.hpp"
#include "core/config/toml_reader.hpp"

namespace volley::config_detail {

// Whether `name` could name a zone under /usr/share/zoneinfo ("Europe/Berlin", "UTC",
// "America/Argentina/Buenos_Aires"): no absolute path, no "..", only the characters tzdata uses.
// Whether the zone exists is checked when volleyd reads it (daemon/schedule_setup.cpp).
bool is_zone_name(std::string_view name);

void read_tenant(const toml::table& t, std::vector<Config::Tenant>& tenants, Problems& problems);

}  // namespace volley::config_detail
