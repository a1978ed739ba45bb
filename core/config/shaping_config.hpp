#pragma once
// Reading the shaping layers: [shaping.default], [[shaping.provider]], [[shaping.domain]] and
// [[shaping.source]], on top of the limit keys [delivery] has always had. Internal to core/config.
#include <map>
#include <string>
#include <string_view>

#include "core/config/toml_reader.hpp"
#include "core/delivery/ip_pool.hpp"
#include "core/delivery/shaping.hpp"

namespace volley::config_detail {

// The limit keys one table sets, and where.
struct LimitsLayer {
  delivery::LimitsOverride values;
  std::map<std::string_view, const toml::node*> nodes;
  std::string section;  // e.g. "[delivery]", for errors
  const toml::table* table = nullptr;
};

// A rate ("100/s", "2000/h", "unlimited"), as every limit key reads one.
Parse<delivery::Rate> rate();

// The limit keys of r's table. [delivery] accepts only those it had before [shaping] existed,
// and greylist_retry.
LimitsLayer read_limits(TableReader& r, bool delivery_table);

// shaping: the [shaping] table (nullptr when absent); delivery: [delivery]'s limit keys, the
// bottom of the defaults layer; pools: the sources a [[shaping.source]] may name.
delivery::ShapingPolicy read_shaping(const toml::table* shaping, const LimitsLayer& delivery,
                                     const delivery::IpPools& pools, Problems& problems);

}  // namespace volley::config_detail
