#pragma once
// The tools the config readers share: reading one value with a precise complaint, reading a
// table and refusing the keys nobody asked for, and collecting every problem with its line.
// Internal to core/config: nothing outside it sees toml++.
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
#include "core/toml/problems.hpp"
#include "core/util/quoted.hpp"

namespace volley::config_detail {

// Shared with core/delivery's rules files, so both report problems the same way.
using toml_file::Problems;
using util::quoted;

// A key as it appears in an error: bare when it is a plain identifier, quoted otherwise.
std::string shown_key(std::string_view key);
// A value as it appears in an error: `"abc"`, `7`, `an array`, ...
std::string describe(const toml::node& node);
// The known name closest to a misspelt one, if it is close enough to be a plausible typo.
std::optional<std::string_view> near_miss(std::string_view typo, const std::vector<std::string_view>& known);
std::string lower(std::string_view s);

// A value reader: true and *out set, or false and *why saying what was expected.
template <typename T>
using Parse = std::function<bool(const toml::node&, T*, std::string*)>;

template <typename T>
Parse<T> integer_in(std::int64_t lo, std::int64_t hi) {
  return [lo, hi](const toml::node& node, T* out, std::string* why) {
    const auto* v = node.as_integer();
    if (v == nullptr || v->get() < lo || v->get() > hi) {
      *why = "expected an integer " + std::to_string(lo) + ".." + std::to_string(hi) + ", got " + describe(node);
      return false;
    }
    *out = static_cast<T>(v->get());
    return true;
  };
}

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
// A string that passes `valid`; `expected` describes what that means in the error.
Parse<std::string> string_that(std::string expected, std::function<bool(std::string_view)> valid);
Parse<std::string> file_path();
Parse<std::string> one_of(std::vector<std::string_view> choices);
// A domain name, lower-cased, without a trailing dot.
Parse<std::string> domain_name();
// A host name or an IP address (IPv6 with or without brackets, stored without).
Parse<std::string> host_or_ip();
Parse<HostPort> endpoint(HostPortRules rules);
// A name others refer to (a source, a pool, a tenant): 1..64 letters, digits, '.', '_' or '-'.
Parse<std::string> name_token();

// An array of at most `max` values, each read by `each`. The error says "expected an array of at
// most <max> <what> such as <example>".
template <typename T>
Parse<std::vector<T>> list_of(Parse<T> each, std::size_t max, std::string what, std::string example) {
  return [each = std::move(each), max, what = std::move(what), example = std::move(example)](
             const toml::node& node, std::vector<T>* out, std::string* why) {
    const auto* array = node.as_array();
    if (array == nullptr || array->size() > max) {
      *why = "expected an array of at most " + std::to_string(max) + " " + what + " such as " + example + ", got " +
             describe(node);
      return false;
    }
    std::vector<T> values;
    for (const auto& element : *array) {
      T value{};
      if (!each(element, &value, why)) return false;
      values.push_back(std::move(value));
    }
    *out = std::move(values);
    return true;
  };
}

// Reads the keys of one table, and afterwards complains about every key it was not asked for.
class TableReader {
 public:
  TableReader(Problems& problems, const toml::table& table, std::string section)
      : problems_(problems), table_(table), section_(std::move(section)) {}

  // The key's node (nullptr when absent); a value that does not parse is reported.
  template <typename T>
  const toml::node* read(std::string_view key, T* out, const Parse<T>& parse) {
    known_.push_back(key);
    const toml::node* node = table_.get(key);
    if (node == nullptr) return nullptr;
    std::string why;
    if (!parse(*node, out, &why)) report(*node, key, why);
    return node;
  }
  // The same for a setting that is absent unless the table names it.
  template <typename T>
  const toml::node* read(std::string_view key, std::optional<T>* out, const Parse<T>& parse) {
    T value{};
    const toml::node* node = read(key, &value, parse);
    if (node != nullptr) *out = std::move(value);
    return node;
  }

  void report(const toml::node& at, std::string_view key, std::string_view message);
  void report_table(std::string_view key, std::string_view message);
  // A key that is read some other way (e.g. a subtable): not unknown.
  void accept(std::string_view key) { known_.push_back(key); }
  void reject_unknown_keys();

  const std::string& section() const { return section_; }
  const toml::table& table() const { return table_; }

 private:
  std::string place(std::string_view key) const;

  Problems& problems_;
  const toml::table& table_;
  std::string section_;
  std::vector<std::string_view> known_;
};

// The table under `name` in `parent`, or nullptr when absent or not a table (reported at
// `place`, shown as the table header `header`).
const toml::table* subtable(const toml::table& parent, std::string_view name, std::string_view place,
                            std::string_view header, Problems& problems);

// Calls each() for every table of the array of tables `node`; anything else is reported.
// place: where the array is (e.g. "route"); header: "[[route]]"; contents: what one table holds
// (e.g. "domain, host and port").
void for_each_table(const toml::node& node, std::string_view place, std::string_view header,
                    std::string_view contents, Problems& problems,
                    const std::function<void(const toml::table&)>& each);

}  // namespace volley::config_detail
