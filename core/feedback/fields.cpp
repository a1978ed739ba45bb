#include "core/feedback/fields.hpp"

#include <algorithm>

#include "core/feedback/report.hpp"

namespace volley::feedback {
namespace {

// RFC 5322 lines are at most 998 characters; a longer "name" is junk, not a field.
constexpr std::size_t kMaxNameLength = 998;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// A field name (RFC 5322 ftext: printable ASCII but ':'), allowing the space some mailers leave
// before the colon.
bool valid_name(std::string_view name) {
  name = trim(name);
  if (name.empty() || name.size() > kMaxNameLength) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return c > 32 && c < 127 && c != ':'; });
}

void append_bounded(std::string& to, std::string_view text) {
  if (to.size() >= kMaxValueLength) return;
  to.append(text.substr(0, kMaxValueLength - to.size()));
}

// Calls on_line(line) for each line (CR of a CRLF removed) until it returns false.
template <typename F>
void for_each_line(std::string_view text, F&& on_line) {
  while (!text.empty()) {
    auto lf = text.find('\n');
    auto line = text.substr(0, lf);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!on_line(line)) return;
    if (lf == std::string_view::npos) return;
    text.remove_prefix(lf + 1);
  }
}

// Reads fields line by line; a blank line ends the current group.
class GroupReader {
 public:
  GroupReader(std::size_t max_groups, std::size_t max_fields) : max_groups_(max_groups), max_fields_(max_fields) {}

  // false once no more groups may be read.
  bool line(std::string_view line) {
    if (trim(line).empty()) {
      close();
      return groups_.size() < max_groups_;
    }
    if (line.front() == ' ' || line.front() == '\t') {
      if (current_ != nullptr) {
        auto more = trim(line);
        if (!current_->value.empty()) append_bounded(current_->value, " ");
        append_bounded(current_->value, more);
      }
      return true;
    }
    current_ = nullptr;
    auto colon = line.find(':');
    if (colon == std::string_view::npos || !valid_name(line.substr(0, colon))) return true;  // not a field
    if (open_.size() >= max_fields_) return true;
    open_.push_back({std::string(trim(line.substr(0, colon))), bounded(trim(line.substr(colon + 1)))});
    current_ = &open_.back();
    return true;
  }

  std::vector<Fields> finish() {
    close();
    return std::move(groups_);
  }

 private:
  void close() {
    current_ = nullptr;
    if (!open_.empty() && groups_.size() < max_groups_) groups_.push_back(std::move(open_));
    open_.clear();
  }

  std::size_t max_groups_, max_fields_;
  std::vector<Fields> groups_;
  Fields open_;
  Field* current_ = nullptr;  // the field a continuation line extends (open_ reserves no more)
};

}  // namespace

Fields parse_header_block(std::string_view text, std::size_t max_fields) {
  GroupReader reader(1, max_fields);
  bool started = false;
  for_each_line(text, [&](std::string_view line) {
    if (trim(line).empty()) return !started;  // blank lines before the first field are skipped
    started = true;
    return reader.line(line);
  });
  auto groups = reader.finish();
  return groups.empty() ? Fields{} : std::move(groups.front());
}

std::vector<Fields> parse_field_groups(std::string_view text, std::size_t max_groups, std::size_t max_fields) {
  GroupReader reader(max_groups, max_fields);
  for_each_line(text, [&](std::string_view line) { return reader.line(line); });
  return reader.finish();
}

std::string_view field_value(const Fields& fields, std::string_view name) {
  for (const auto& f : fields)
    if (iequals(f.name, name)) return f.value;
  return {};
}

std::size_t ifind(std::string_view hay, std::string_view needle) {
  if (needle.empty()) return 0;
  auto first = lower(needle.substr(0, 1)).front();
  auto upper = first >= 'a' && first <= 'z' ? static_cast<char>(first - 'a' + 'A') : first;
  for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    if (hay[i] != first && hay[i] != upper) continue;  // the cheap test first: this runs per byte
    if (iequals(hay.substr(i, needle.size()), needle)) return i;
  }
  return std::string_view::npos;
}

bool istarts_with(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

std::string strip_comments(std::string_view text) {
  std::string out;
  std::size_t depth = 0;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\\' && i + 1 < text.size()) {  // quoted-pair, in or out of a comment
      if (depth == 0) out.append(text.substr(i, 2));
      ++i;
    } else if (quoted) {
      out.push_back(c);
      if (c == '"') quoted = false;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')' && depth > 0) {
      --depth;
    } else if (depth == 0) {
      out.push_back(c);
      if (c == '"') quoted = true;
    }
  }
  return std::string(trim(out));
}

std::string after_type(std::string_view value) {
  auto semi = value.find(';');
  if (semi != std::string_view::npos) {
    auto type = trim(value.substr(0, semi));
    bool is_type = !type.empty() && type.find_first_of("@<> \t\"") == std::string_view::npos;
    if (is_type) value.remove_prefix(semi + 1);
  }
  return bounded(trim(value));
}

std::string addr_spec(std::string_view value) {
  auto text = strip_comments(value);
  std::string_view v = text;
  if (auto open = v.find('<'); open != std::string_view::npos) {
    auto close = v.find('>', open);
    v = v.substr(open + 1, close == std::string_view::npos ? std::string_view::npos : close - open - 1);
  } else {
    // "a@b and more": the word holding the '@' (a quoted local part may hold spaces)
    std::size_t start = 0;
    bool quoted = false;
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (v[i] == '"') quoted = !quoted;
      bool space = !quoted && (v[i] == ' ' || v[i] == '\t');
      if (space || i + 1 == v.size()) {
        auto word = v.substr(start, space ? i - start : i + 1 - start);
        if (word.find('@') != std::string_view::npos) {
          v = word;
          break;
        }
        start = i + 1;
      }
    }
  }
  return bounded(trim(v));
}

std::string typed_address(std::string_view value) { return addr_spec(after_type(value)); }

std::string bounded(std::string_view text) { return std::string(text.substr(0, kMaxValueLength)); }

}  // namespace volley::feedback
