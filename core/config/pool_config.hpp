#pragma once
// Reading where mail leaves from: [[source]], [[pool]] and [[pool_rule]], checked against each
// other and against [delivery] default_pool. Internal to core/config.
#include <string>

#include "core/config/toml_reader.hpp"
#include "core/delivery/ip_pool.hpp"

namespace volley::config_detail {

// default_pool: [delivery]'s value, its node (nullptr when absent); ehlo_name: [delivery]'s, for
// sources that name none and for the built-in pool used when there is no [[pool]].
delivery::IpPools read_pools(const toml::table& root, const std::string& default_pool,
                             const toml::node* default_pool_node, const std::string& ehlo_name, Problems& problems);

}  // namespace volley::config_detail
