#include "core/feedback/html_text.hpp"

#include <array>
#include <utility>

#include "core/feedback/fields.hpp"

namespace volley::feedback {
namespace {

constexpr std::array<std::pair<std::string_view, char>, 7> kEntities = {{
    {"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&nbsp;", ' '}, {"&quot;", '"'}, {"&#39;", '\''}, {"&apos;", '\''}}};

bool breaks_line(std::string_view tag) {
  auto name = lower(tag.substr(0, tag.find_first_of(" \t\r\n/>", 1)));
  for (std::string_view b : {"br", "/p", "p", "/div", "div", "/tr", "tr", "/li", "li", "/h1", "/h2", "/h3", "/table"})
    if (name == b) return true;
  return false;
}

}  // namespace

std::string html_to_text(std::string_view html) {
  std::string out;
  out.reserve(html.size());
  for (std::size_t i = 0; i < html.size();) {
    char c = html[i];
    if (c == '<') {
      auto close = html.find('>', i);
      if (close == std::string_view::npos) break;
      if (breaks_line(html.substr(i + 1, close - i - 1))) out.push_back('\n');
      i = close + 1;
    } else if (c == '&') {
      bool decoded = false;
      for (auto [name, ch] : kEntities) {
        if (html.substr(i, name.size()) == name) {
          out.push_back(ch);
          i += name.size();
          decoded = true;
          break;
        }
      }
      if (!decoded) out.push_back(html[i++]);
    } else {
      // HTML line ends are only spaces; lines come from tags.
      out.push_back(c == '\n' || c == '\r' ? ' ' : c);
      ++i;
    }
  }
  return out;
}

}  // namespace volley::feedback
