#pragma once
// The value readers only the configuration needs (durations, sizes, paths, host names,
// addresses), on top of the shared TOML reader of core/toml. Internal to core/config: nothing
// outside it sees toml++.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include <toml++/toml.h>

#include "core/config/host_port.hpp"
#include "core/config/units.hpp"
#include "core/toml/table_reader.hpp"
#include "core/util/quoted.hpp"

namespace volley::config_detail {

// The shared TOML reader (core/toml/table_reader.hpp), under the names the config readers use.
using toml_file::describe;
using toml_file::for_each_table;
using toml_file::integer_in;
using toml_file::list_of;
using toml_file::near_miss;
using toml_file::one_of;
using toml_file::Parse;
using toml_file::Problems;
using toml_file::shown_key;
using toml_file::string_that;
using toml_file::subtable;
using toml_file::TableReader;
using util::quoted;

template <typename Duration>
Parse<Duration> duration_in(Duration lo, Duration hi) {
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  return [lo, hi](const toml::node& node, Duration* out, std::string* why) {
    std::optional<milliseconds> value;
    if (const auto* i = node.as_integer()) {
      if (i->get() >= 0 && i->get() <= std::chrono::duration_cast<seconds>(kMaxConfigDuration).count())
        value = seconds{i->get()};
    } else if (const auto* s = node.as_string()) {
      value = parse_duration(s->get());
    }
    if (!value) {
      *why = "expected a duration such as \"250ms\", \"30s\", \"5m\", \"1h\", \"5d\" or a number of seconds, got " +
             describe(node);
      return false;
    }
    if (*value < lo || *value > hi) {
      *why = "expected a duration from " + format_duration(lo) + " to " + format_duration(hi) + ", got " +
             describe(node);
      return false;
    }
    if (std::chrono::duration_cast<Duration>(*value) != *value) {
      *why = "expected a whole number of seconds, got " + describe(node);
      return false;
    }
    *out = std::chrono::duration_cast<Duration>(*value);
    return true;
  };
}

Parse<std::size_t> byte_size_in(std::uint64_t lo, std::uint64_t hi);
Parse<std::string> file_path();
// A domain name, lower-cased, without a trailing dot.
Parse<std::string> domain_name();
// A host name or an IP address (IPv6 with or without brackets, stored without).
Parse<std::string> host_or_ip();
Parse<HostPort> endpoint(HostPortRules rules);
// A name others refer to (a source, a pool, a tenant): 1..64 letters, digits, '.', '_' or '-'.
Parse<std::string> name_token();

}  // namespace volley::config_detail
