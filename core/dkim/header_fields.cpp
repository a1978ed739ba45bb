#include "core/dkim/header_fields.hpp"

namespace volley::dkim {

namespace {

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

}  // namespace

std::optional<MessageParts> split_message(std::string_view text, bool wire_form) {
  if (wire_form) {
    // The terminator: "." alone on the last line (a message with no line at all is only ".\r\n").
    if (text == ".\r\n") return MessageParts{};
    if (text.size() < 5 || text.substr(text.size() - 5) != "\r\n.\r\n") return std::nullopt;
    text.remove_suffix(3);
  }
  MessageParts parts;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto eol = text.find("\r\n", pos);
    const std::size_t next = eol == std::string_view::npos ? text.size() : eol + 2;
    std::string_view line = text.substr(pos, next - pos);
    if (line == "\r\n") {  // the empty line: the body follows
      parts.body = text.substr(next);
      break;
    }
    if (wire_form && line.front() == '.') line.remove_prefix(1);
    if (is_wsp(line.front())) {
      if (parts.fields.empty()) return std::nullopt;
      parts.fields.back().raw.append(line);
    } else {
      const auto colon = line.find(':');
      if (colon == std::string_view::npos || colon == 0) return std::nullopt;
      auto& field = parts.fields.emplace_back();
      field.raw.assign(line);
      if (eol == std::string_view::npos) field.raw += "\r\n";
    }
    pos = next;
  }
  for (auto& f : parts.fields) {
    std::string_view name(f.raw);
    name = name.substr(0, name.find(':'));
    while (!name.empty() && is_wsp(name.back())) name.remove_suffix(1);
    f.name_size = name.size();
  }
  return parts;
}

}  // namespace volley::dkim
