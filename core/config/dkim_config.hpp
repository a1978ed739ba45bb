#pragma once
// Reading [[dkim]] entries (DKIM signing keys). Internal to core/config; the keys themselves are
// read and checked at start-up by the daemon (core/dkim/key.hpp), not here.
#include "core/config/config.hpp"
#include "core/config/toml_reader.hpp"

namespace volley::config_detail {

void read_dkim(const toml::table& t, std::vector<Config::Dkim>& entries, Problems& problems);

}  // namespace volley::config_detail
