#include "core/toml/table_reader.hpp"

#include <algorithm>
#include <cctype>
#include <sstream>

#include "core/util/quoted.hpp"

namespace volley::toml_file {
namespace {

using util::quoted;

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

}  // namespace

std::optional<toml::table> parse_document(std::string_view text, std::string_view source, Problems& problems) {
  try {
    return toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    const auto& at = e.source().begin;
    problems.add(e.source(), "", "syntax error at column " + std::to_string(at.column) + ": " + std::string(e.description()));
    return std::nullopt;
  }
}

std::string shown_key(std::string_view key) {
  bool bare = !key.empty() && key.size() <= util::kMaxQuoted && std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
  return bare ? std::string(key) : quoted(key);
}

std::string describe(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string: return quoted(node.as_string()->get());
    case toml::node_type::integer: return std::to_string(node.as_integer()->get());
    case toml::node_type::boolean: return node.as_boolean()->get() ? "true" : "false";
    case toml::node_type::floating_point: {
      std::ostringstream out;
      out << *node.as_floating_point();
      return out.str();
    }
    case toml::node_type::array: return "an array";
    case toml::node_type::table: return "a table";
    default: return "a date/time";
  }
}

std::optional<std::string_view> near_miss(std::string_view typo, const std::vector<std::string_view>& known) {
  if (typo.size() > util::kMaxQuoted) return std::nullopt;
  std::optional<std::string_view> best;
  std::size_t best_distance = std::min<std::size_t>(3, typo.size() / 2 + 1);
  for (auto name : known) {
    auto d = edit_distance(typo, name);
    if (d < best_distance) {
      best = name;
      best_distance = d;
    }
  }
  return best;
}

Parse<std::string> string_that(std::string expected, std::function<bool(std::string_view)> valid) {
  return [expected = std::move(expected), valid = std::move(valid)](const toml::node& node, std::string* out,
                                                                     std::string* why) {
    const auto* s = node.as_string();
    if (s == nullptr || !valid(s->get())) {
      *why = "expected " + expected + ", got " + describe(node);
      return false;
    }
    *out = s->get();
    return true;
  };
}

Parse<std::string> one_of(std::vector<std::string_view> choices) {
  std::string expected = "one of";
  for (auto c : choices) expected += " " + quoted(c);
  return string_that(std::move(expected), [choices = std::move(choices)](std::string_view s) {
    return std::find(choices.begin(), choices.end(), s) != choices.end();
  });
}

void TableReader::report(const toml::node& at, std::string_view key, std::string_view message) {
  problems_.add(at.source(), place(key), message);
}

void TableReader::report_table(std::string_view key, std::string_view message) {
  problems_.add(table_.source(), place(key), message);
}

void TableReader::reject_unknown_keys() {
  for (auto&& [key, node] : table_) {
    if (std::find(known_.begin(), known_.end(), key.str()) != known_.end()) continue;
    std::string message = "unknown key";
    if (auto guess = near_miss(key.str(), known_)) message += " (did you mean \"" + std::string(*guess) + "\"?)";
    problems_.add(key.source(), place(shown_key(key.str())), message);
  }
}

std::string TableReader::place(std::string_view key) const {
  return section_.empty() ? std::string(key) : section_ + " " + std::string(key);
}

const toml::table* subtable(const toml::table& parent, std::string_view name, std::string_view place,
                            std::string_view header, Problems& problems) {
  const toml::node* node = parent.get(name);
  if (node == nullptr) return nullptr;
  if (!node->is_table()) {
    problems.add(node->source(), place, "expected a table " + std::string(header) + ", got " + describe(*node));
    return nullptr;
  }
  return node->as_table();
}

void for_each_table(const toml::node& node, std::string_view place, std::string_view header,
                    std::string_view contents, Problems& problems,
                    const std::function<void(const toml::table&)>& each) {
  const auto* array = node.as_array();
  if (array == nullptr) {
    problems.add(node.source(), place,
                 "expected " + std::string(header) + " tables (an array of tables), got " + describe(node));
    return;
  }
  for (const auto& element : *array) {
    if (const auto* table = element.as_table()) {
      each(*table);
    } else {
      problems.add(element.source(), header,
                   "expected a table with " + std::string(contents) + ", got " + describe(element));
    }
  }
}

}  // namespace volley::toml_file
