#include "core/util/log_fields.hpp"

#include <cstdio>

#include "core/util/quoted.hpp"

namespace volley::util {

namespace {

bool needs_quotes(std::string_view v) {
  if (v.empty()) return true;
  for (unsigned char c : v)
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f) return true;
  return false;
}

bool key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
         c == '-';
}

// One "key=value" at line[pos] (after its leading space); false if it is not one.
bool take_field(std::string_view line, std::size_t& pos, std::pair<std::string, std::string>& field) {
  const std::size_t start = pos;
  while (pos < line.size() && key_char(line[pos])) ++pos;
  if (pos == start || pos >= line.size() || line[pos] != '=') return false;
  field.first.assign(line.substr(start, pos - start));
  field.second.clear();
  ++pos;
  if (pos < line.size() && line[pos] == '"') {
    for (++pos; pos < line.size() && line[pos] != '"'; ++pos) {
      char c = line[pos];
      if (c == '\\') {
        if (++pos >= line.size()) return false;
        c = line[pos];
        if (c == 'x') {
          if (pos + 2 >= line.size()) return false;
          unsigned v = 0;
          if (std::sscanf(std::string(line.substr(pos + 1, 2)).c_str(), "%2x", &v) != 1) return false;
          c = static_cast<char>(v);
          pos += 2;
        }
      }
      field.second.push_back(c);
    }
    if (pos >= line.size()) return false;  // no closing quote
    ++pos;
  } else {
    const std::size_t v = pos;
    while (pos < line.size() && line[pos] != ' ') ++pos;
    field.second.assign(line.substr(v, pos - v));
  }
  return pos == line.size() || line[pos] == ' ';
}

}  // namespace

void append_log_field(std::string& out, std::string_view key, std::string_view value) {
  out.push_back(' ');
  out.append(key);
  out.push_back('=');
  if (needs_quotes(value) || value.size() > kMaxLogFieldValue)
    out += quoted(value, kMaxLogFieldValue);
  else
    out.append(value);
}

LogLine parse_log_fields(std::string_view line) {
  LogLine parsed{line, {}};
  const auto mark = line.rfind(kLogFieldsMark);
  if (mark == std::string_view::npos) return parsed;
  std::size_t pos = mark + kLogFieldsMark.size();
  std::vector<std::pair<std::string, std::string>> fields;
  while (pos < line.size()) {
    std::pair<std::string, std::string> field;
    if (!take_field(line, pos, field)) return parsed;
    fields.push_back(std::move(field));
    if (pos < line.size()) ++pos;  // the space before the next field
  }
  if (fields.empty()) return parsed;
  parsed.text = line.substr(0, mark);
  parsed.fields = std::move(fields);
  return parsed;
}

}  // namespace volley::util
