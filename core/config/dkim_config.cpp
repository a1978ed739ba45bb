#include "core/config/dkim_config.hpp"

#include <algorithm>

#include "core/util/ascii.hpp"

namespace volley::config_detail {

namespace {

constexpr std::size_t kMaxHeaderNames = 64;

// A header field name (RFC 5322 ftext: printable ASCII but ':'), at most 64 characters.
Parse<std::string> header_name() {
  return string_that("a header field name such as \"List-Id\"", [](std::string_view s) {
    return !s.empty() && s.size() <= 64 &&
           std::all_of(s.begin(), s.end(), [](char c) { return c > ' ' && c < 127 && c != ':'; });
  });
}

// A selector: dot-separated labels of letters, digits and '-' (RFC 6376 §3.1).
Parse<std::string> selector() {
  return string_that("a selector such as \"s2026r\" (letters, digits, '-', labels separated by '.')",
                     [](std::string_view s) {
                       if (s.empty() || s.size() > 63 || s.front() == '.' || s.back() == '.') return false;
                       return std::all_of(s.begin(), s.end(), [](char c) {
                         return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
                       });
                     });
}

bool has(const std::vector<std::string>& names, std::string_view name) {
  return std::any_of(names.begin(), names.end(), [&](const std::string& n) { return util::ascii_iequals(n, name); });
}

}  // namespace

void read_dkim(const toml::table& t, std::vector<Config::Dkim>& entries, Problems& problems) {
  using std::chrono::seconds;
  TableReader r(problems, t, "[[dkim]]");
  Config::Dkim d;
  const auto* domain = r.read("domain", &d.domain, domain_name());
  const auto* sel = r.read("selector", &d.selector, selector());
  const auto* key = r.read("key_file", &d.key_file, file_path());
  r.read("subdomains", &d.subdomains, Parse<bool>([](const toml::node& n, bool* out, std::string* why) {
           if (!n.is_boolean()) return *why = "expected true or false", false;
           *out = n.as_boolean()->get();
           return true;
         }));
  const auto* headers_node =
      r.read("headers", &d.headers, list_of(header_name(), kMaxHeaderNames, "header names", "[\"From\", \"Subject\"]"));
  r.read("over_sign", &d.over_sign, list_of(header_name(), kMaxHeaderNames, "header names", "[\"From\"]"));
  r.read("expiration", &d.expiration, duration_in(seconds{3600}, seconds{400 * 24 * 3600}));
  r.read("tenant", &d.tenant, name_token());
  r.read("canonicalization", &d.canonicalization,
         one_of({"relaxed/relaxed", "simple/simple", "relaxed/simple", "simple/relaxed"}));
  r.reject_unknown_keys();
  constexpr std::string_view missing = "missing (every [[dkim]] needs a domain, a selector and a key_file)";
  if (domain == nullptr) r.report_table("domain", missing);
  if (sel == nullptr) r.report_table("selector", missing);
  if (key == nullptr) r.report_table("key_file", missing);
  if (domain == nullptr || sel == nullptr || key == nullptr || d.domain.empty() || d.selector.empty()) return;
  if (d.headers && !has(*d.headers, "From"))
    return r.report(*headers_node, "headers", "must include From (RFC 6376 §5.4)");
  for (const auto& other : entries) {
    if (other.domain == d.domain && other.selector == d.selector)
      return r.report(*sel, "selector", quoted(d.selector) + " is used for " + quoted(d.domain) + " already");
  }
  entries.push_back(std::move(d));
}

}  // namespace volley::config_detail
