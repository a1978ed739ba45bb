#include "core/delivery/return_path.hpp"

#include <algorithm>

namespace volley::delivery {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

constexpr std::size_t kMessageIdChars = 24;

}  // namespace

ReturnPaths::ReturnPaths(std::vector<ReturnPathRule> rules) : rules_(std::move(rules)) {}

const ReturnPathRule* ReturnPaths::for_sender(std::string_view envelope_from) const {
  if (envelope_from.empty() || rules_.empty()) return nullptr;
  const auto at = envelope_from.rfind('@');
  const std::string_view domain = at == std::string_view::npos ? std::string_view() : envelope_from.substr(at + 1);
  const ReturnPathRule* any = nullptr;
  for (const auto& r : rules_) {
    if (r.sender_domain == "*") {
      any = &r;
    } else if (iequals(r.sender_domain, domain)) {
      return &r;
    }
  }
  return any;
}

std::vector<std::string> ReturnPaths::bounce_domains() const {
  std::vector<std::string> out;
  for (const auto& r : rules_) {
    if (std::find(out.begin(), out.end(), r.domain) == out.end()) out.push_back(r.domain);
  }
  return out;
}

std::string ReturnPaths::address(const ReturnPathRule& rule, std::string_view rcpt_id) {
  std::string out;
  out.reserve(rule.prefix.size() + 1 + rcpt_id.size() + 1 + rule.domain.size());
  out += rule.prefix;
  out += '+';
  out += rcpt_id;
  out += '@';
  out += rule.domain;
  return out;
}

std::string ReturnPaths::recipient_id(std::string_view address) const {
  const auto at = address.rfind('@');
  if (at == std::string_view::npos) return {};
  const std::string_view local = address.substr(0, at);
  const std::string_view domain = address.substr(at + 1);
  if (std::none_of(rules_.begin(), rules_.end(), [&](const ReturnPathRule& r) { return iequals(r.domain, domain); }))
    return {};
  const auto plus = local.find('+');
  if (plus == std::string_view::npos) return {};
  std::string id(local.substr(plus + 1));
  // Some bounce paths lower-case or upper-case the address: ids are lower-case hex.
  std::transform(id.begin(), id.end(), id.begin(), lower);
  return looks_like_recipient_id(id) ? id : std::string{};
}

bool looks_like_recipient_id(std::string_view s) {
  if (s.size() < kMessageIdChars + 2 || s.size() > kMessageIdChars + 10 || s[kMessageIdChars] != '-') return false;
  const auto hex = s.substr(0, kMessageIdChars);
  const auto index = s.substr(kMessageIdChars + 1);
  return std::all_of(hex.begin(), hex.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }) &&
         std::all_of(index.begin(), index.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace volley::delivery
