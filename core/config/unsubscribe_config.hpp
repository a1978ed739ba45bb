#pragma once
// Reading [unsubscribe] (docs/unsubscribe.md). Internal to core/config.
#include "core/config/config.hpp"
#include "core/config/toml_reader.hpp"

namespace volley::config_detail {

// Into config.unsubscribe; read after [smtp_in], which a mailto_domain needs.
void read_unsubscribe(const toml::table& t, Config& config, Problems& problems);

}  // namespace volley::config_detail
