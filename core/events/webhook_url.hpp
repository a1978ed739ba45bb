#pragma once
// The URL a webhook is POSTed to: http:// or https://, host (name, IPv4, or [IPv6]), optional
// port, path with query. No user-info and no fragment: neither belongs in a webhook URL, and
// refusing them at start-up beats a surprise at the first POST.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace volley::events {

struct WebhookUrl {
  bool tls = false;
  std::string host;    // without brackets for IPv6
  std::uint16_t port = 0;
  std::string target;  // origin-form: "/path?query", at least "/"
  // The Host header value: host, bracketed if IPv6, with ":port" unless it is the scheme's default.
  std::string host_header() const;
};

// nullopt with *error when the URL is not one we can POST to.
std::optional<WebhookUrl> parse_webhook_url(std::string_view url, std::string* error = nullptr);

}  // namespace volley::events
