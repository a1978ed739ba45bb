#pragma once
// The problems found in one TOML file, each with its line: a reader reports every problem at once
// rather than the first, so one edit fixes a file, and the report lists them in file order
// whatever order the reader found them in.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>
#include <toml++/toml.h>

namespace volley::toml_file {

class Problems {
 public:
  // `source`: the file's name as errors show it.
  explicit Problems(std::string_view source) : source_(source) {}

  // Adds "source:line: place: message" ("source:line: message" when place is empty).
  void add(const toml::source_region& where, std::string_view place, std::string_view message);
  bool empty() const { return list_.empty(); }
  // One problem a line, sorted by line; problems on the same line keep the order they were added in.
  std::string report();

 private:
  struct Problem {
    std::size_t line;
    std::string text;
  };
  std::string source_;
  std::vector<Problem> list_;
};

}  // namespace volley::toml_file
