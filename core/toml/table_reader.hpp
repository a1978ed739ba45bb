#pragma once
// The one reader of TOML files a person writes (the configuration, the bounce rules, the load-test
// receiver's script): parsing a document with its syntax error, describing a value in an error,
// reading one value with a precise complaint, reading a table and refusing the keys nobody asked
// for. Every problem goes to a Problems list with its line.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include <toml++/toml.h>

#include "core/toml/problems.hpp"

namespace volley::toml_file {

// The document, or nullopt with its syntax error added to `problems` ("syntax error at column N: ...").
std::optional<toml::table> parse_document(std::string_view text, std::string_view source, Problems& problems);

// A key as it appears in an error: bare when it is a plain identifier, quoted otherwise.
std::string shown_key(std::string_view key);
// A value as it appears in an error: `"abc"`, `7`, `an array`, ...
std::string describe(const toml::node& node);
// The known name closest to a misspelt one, if it is close enough to be a plausible typo.
std::optional<std::string_view> near_miss(std::string_view typo, const std::vector<std::string_view>& known);

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

// A string that passes `valid`; `expected` describes what that means in the error.
Parse<std::string> string_that(std::string expected, std::function<bool(std::string_view)> valid);
Parse<std::string> one_of(std::vector<std::string_view> choices);

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

}  // namespace volley::toml_file
