#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

#include "actors/dns_actor.hpp"

namespace volley {

namespace {

bool is_ip_literal(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// "timeout:5" -> 5 when `option` is "timeout" and the value is in [lo, hi].
std::optional<int> option_value(const std::string& word, std::string_view option, int lo, int hi) {
  if (word.size() <= option.size() + 1 || word.compare(0, option.size(), option) != 0 ||
      word[option.size()] != ':') {
    return std::nullopt;
  }
  int v = 0;
  const char* first = word.data() + option.size() + 1;
  const char* last = word.data() + word.size();
  auto [end, ec] = std::from_chars(first, last, v);
  if (ec != std::errc{} || end != last) return std::nullopt;
  return std::clamp(v, lo, hi);
}

}  // namespace

DnsConfig DnsConfig::from_resolv_conf(const std::string& path) {
  DnsConfig cfg;
  // The C library reads at most 3 nameservers and caps timeout at 30 s and attempts at 5.
  constexpr std::size_t max_servers = 3;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string keyword;
    if (!(words >> keyword) || keyword[0] == '#' || keyword[0] == ';') continue;
    if (keyword == "nameserver") {
      std::string host;
      if (words >> host && is_ip_literal(host) && cfg.servers.size() < max_servers) {
        cfg.servers.push_back(DnsServer{host, 53});
      }
    } else if (keyword == "options") {
      std::string word;
      while (words >> word) {
        if (auto t = option_value(word, "timeout", 1, 30)) cfg.timeout = std::chrono::seconds(*t);
        if (auto a = option_value(word, "attempts", 1, 5)) cfg.attempts = *a;
      }
    }
  }
  if (cfg.servers.empty()) cfg.servers.push_back(DnsServer{"127.0.0.1", 53});
  return cfg;
}

DnsConfig DnsConfig::from_config(const Config::Dns& dns) {
  DnsConfig d = dns.servers.empty() ? from_resolv_conf(dns.resolv_conf) : DnsConfig{};
  for (const auto& s : dns.servers) d.servers.push_back(DnsServer{s.host, s.port});
  d.timeout = dns.timeout;
  d.attempts = dns.attempts;
  d.dnssec = dns.dnssec;
  return d;
}

}  // namespace volley
