#include "core/events/webhook_url.hpp"
#include "core/util/ascii.hpp"

#include <cctype>
#include <charconv>

namespace volley::events {

namespace {

std::optional<WebhookUrl> bad(std::string* error, std::string why) {
  if (error) *error = std::move(why);
  return std::nullopt;
}

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && util::ascii_iequals(s.substr(0, prefix.size()), prefix);
}

}  // namespace

std::string WebhookUrl::host_header() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != (tls ? 443 : 80)) h += ":" + std::to_string(port);
  return h;
}

std::optional<WebhookUrl> parse_webhook_url(std::string_view url, std::string* error) {
  WebhookUrl u;
  if (starts_with_nocase(url, "https://")) {
    u.tls = true;
    url.remove_prefix(8);
  } else if (starts_with_nocase(url, "http://")) {
    url.remove_prefix(7);
  } else {
    return bad(error, "webhook URL must start with http:// or https://");
  }
  for (char ch : url) {
    if (static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7F) {
      return bad(error, "webhook URL contains a space or control character");
    }
  }
  if (url.find('#') != std::string_view::npos) return bad(error, "webhook URL has a fragment");
  const auto slash = url.find_first_of("/?");
  std::string_view authority = url.substr(0, slash);
  u.target = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  if (u.target.front() == '?') u.target.insert(0, "/");
  if (authority.find('@') != std::string_view::npos) return bad(error, "webhook URL has user-info");

  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return bad(error, "webhook URL: unclosed [ in host");
    u.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad(error, "webhook URL: junk after ]");
      port_text = after.substr(1);
      if (port_text.empty()) return bad(error, "webhook URL: empty port");
    }
  } else {
    const auto colon = authority.find(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return bad(error, "webhook URL: empty port");
    }
  }
  if (u.host.empty()) return bad(error, "webhook URL has no host");
  if (port_text.empty()) {
    u.port = u.tls ? 443 : 80;
  } else {
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 || port > 65535) {
      return bad(error, "webhook URL: bad port");
    }
    u.port = static_cast<std::uint16_t>(port);
  }
  return u;
}

}  // namespace volley::events
