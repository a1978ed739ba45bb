#include "core/config/unsubscribe_config.hpp"

#include <algorithm>

namespace volley::config_detail {
namespace {

// https://host[:port], nothing after: mailbox providers POST to <base_url>/u/<token> (RFC 8058
// asks for an HTTPS URI), and Volley serves exactly /u/.
Parse<std::string> base_url() {
  return [](const toml::node& node, std::string* out, std::string* why) {
    constexpr std::string_view kScheme = "https://";
    const auto* s = node.as_string();
    std::string_view v = s ? std::string_view(s->get()) : std::string_view();
    if (!v.empty() && v.back() == '/') v.remove_suffix(1);
    const std::string_view authority = v.substr(std::min(v.size(), kScheme.size()));
    const auto colon = authority.rfind(':');
    const std::string_view host = authority.substr(0, colon);
    const std::string_view port = colon == std::string_view::npos ? std::string_view() : authority.substr(colon + 1);
    const bool port_ok = colon == std::string_view::npos ||
                         (!port.empty() && port.size() <= 5 &&
                          std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
                          std::stoul(std::string(port)) >= 1 && std::stoul(std::string(port)) <= 65535);
    if (s == nullptr || v.substr(0, kScheme.size()) != kScheme || !is_host_name(host) || !port_ok) {
      *why = "expected an https:// URL with a host and no path, such as \"https://mta.example.com\", got " +
             describe(node);
      return false;
    }
    *out = std::string(v);
    return true;
  };
}

}  // namespace

void read_unsubscribe(const toml::table& t, Config& config, Problems& problems) {
  TableReader r(problems, t, "[unsubscribe]");
  Config::Unsubscribe& u = config.unsubscribe;
  const auto* url = r.read("base_url", &u.base_url, base_url());
  r.read("listen", &u.listen, endpoint({.default_port = std::nullopt, .allow_port_zero = true, .ip_only = false}));
  const auto* mailto = r.read("mailto_domain", &u.mailto_domain, domain_name());
  const auto* cert = r.read("tls_certificate", &u.tls_certificate, file_path());
  const auto* key = r.read("tls_private_key", &u.tls_private_key, file_path());
  r.reject_unknown_keys();
  if ((cert == nullptr) != (key == nullptr))
    r.report(cert ? *cert : *key, cert ? "tls_certificate" : "tls_private_key",
             "HTTPS needs both tls_certificate and tls_private_key");
  else if (cert != nullptr && !u.listen)
    r.report(*cert, "tls_certificate", "needs listen: the keys are for [unsubscribe]'s own listener");
  if (url == nullptr) r.report_table("base_url", "missing ([unsubscribe] needs the https:// URL it is reached at)");
  if (mailto != nullptr && !config.smtp_in.listen)
    r.report(*mailto, "mailto_domain", "needs [smtp_in] listen: unsubscribe mail arrives there");
}

}  // namespace volley::config_detail
