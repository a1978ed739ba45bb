#include "core/tls_rpt/record.hpp"

#include "core/mta_sts/wsp.hpp"
#include "core/util/ascii.hpp"

namespace volley::tls_rpt {

namespace {

using mta_sts::trim_wsp;

constexpr std::string_view kVersion = "v=TLSRPTv1";
constexpr std::size_t kMaxUris = 16;  // a hostile record cannot make us send a thousand reports

bool starts_with_version(std::string_view text) {
  text = trim_wsp(text);
  if (text.substr(0, kVersion.size()) != kVersion) return false;
  const auto rest = trim_wsp(text.substr(kVersion.size()));
  return rest.empty() || rest.front() == ';';
}

std::nullopt_t fail(std::string* error, std::string why) {
  if (error) *error = std::move(why);
  return std::nullopt;
}

// "mailto:addr" (RFC 6068; TLSRPT uses plain addresses, ?headers are not honoured) or
// "https://host/...". nullopt for other schemes and malformed URIs.
std::optional<ReportUri> parse_uri(std::string_view uri, std::string* why) {
  const auto lower = util::ascii_lower(uri.substr(0, 8));
  if (lower.rfind("mailto:", 0) == 0) {
    std::string address(uri.substr(7));
    if (const auto q = address.find('?'); q != std::string::npos) address.resize(q);
    const auto at = address.rfind('@');
    if (address.empty() || at == std::string::npos || at == 0 || at + 1 == address.size() ||
        address.find_first_of(" \t<>\",;") != std::string::npos) {
      *why = "not a mailto: address: " + std::string(uri.substr(0, 100));
      return std::nullopt;
    }
    return ReportUri{ReportUri::Kind::mailto, std::string(uri), std::move(address)};
  }
  if (lower == "https://") {
    const auto host = uri.substr(8, uri.find('/', 8) == std::string_view::npos ? std::string_view::npos : uri.find('/', 8) - 8);
    if (host.empty() || uri.find_first_of(" \t<>\"") != std::string_view::npos) {
      *why = "not an https: URL: " + std::string(uri.substr(0, 100));
      return std::nullopt;
    }
    return ReportUri{ReportUri::Kind::https, std::string(uri), {}};
  }
  *why = "unsupported scheme (only mailto: and https:): " + std::string(uri.substr(0, 100));
  return std::nullopt;
}

}  // namespace

std::optional<TlsRptRecord> parse_record(std::string_view text, std::string* error) {
  if (!starts_with_version(text)) return fail(error, "the record does not begin with v=TLSRPTv1");
  text = trim_wsp(text);
  text.remove_prefix(kVersion.size());
  std::optional<TlsRptRecord> out;
  std::string skipped;
  while (!text.empty()) {
    const auto semi = text.find(';');
    const auto field = trim_wsp(text.substr(0, semi));
    text = semi == std::string_view::npos ? std::string_view() : text.substr(semi + 1);
    if (field.empty()) continue;  // "v=TLSRPTv1;" ... ";" at the end
    const auto eq = field.find('=');
    if (eq == std::string_view::npos || eq == 0)
      return fail(error, "a field is not name=value: " + std::string(field.substr(0, 100)));
    const auto name = trim_wsp(field.substr(0, eq));
    if (name != "rua") continue;  // extensions are ignored (RFC 8460 §3)
    if (out) return fail(error, "more than one rua= field");
    out.emplace();
    auto list = field.substr(eq + 1);
    while (true) {
      const auto comma = list.find(',');
      const auto uri = trim_wsp(list.substr(0, comma));
      std::string why;
      if (uri.empty()) {
        skipped = "an empty URI in rua=";
      } else if (auto u = parse_uri(uri, &why)) {
        if (out->rua.size() < kMaxUris) out->rua.push_back(std::move(*u));
      } else {
        skipped = std::move(why);
      }
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
  }
  if (!out) return fail(error, "no rua= field");
  if (out->rua.empty()) return fail(error, "no usable URI in rua= (" + skipped + ")");
  return out;
}

std::optional<TlsRptRecord> select_record(const std::vector<std::string>& txt_records, std::string* error) {
  const std::string* found = nullptr;
  for (const auto& t : txt_records) {
    if (!starts_with_version(t)) continue;
    if (found) return fail(error, "several v=TLSRPTv1 records: none is used (RFC 8460 §3)");
    found = &t;
  }
  if (!found) return fail(error, "no v=TLSRPTv1 record");
  return parse_record(*found, error);
}

std::string record_name(std::string_view policy_domain) { return "_smtp._tls." + std::string(policy_domain); }

}  // namespace volley::tls_rpt
