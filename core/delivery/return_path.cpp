#include "core/delivery/return_path.hpp"

#include "core/util/ascii.hpp"
#include "core/util/hex.hpp"
#include "core/util/hmac.hpp"
#include <algorithm>

#include <openssl/crypto.h>

namespace volley::delivery {
namespace {

using util::ascii_iequals;

constexpr std::size_t kMessageIdChars = 24;
constexpr std::size_t kTagChars = 10;

bool is_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

ReturnPaths::ReturnPaths(std::vector<ReturnPathRule> rules, std::string key)
    : rules_(std::move(rules)), key_(std::move(key)) {}

std::string ReturnPaths::tag(std::string_view id) const {
  return util::to_hex(util::as_bytes(util::hmac_sha256(key_, id)).substr(0, kTagChars / 2));
}

std::string ReturnPaths::signed_id(std::string_view id) const {
  std::string out(id);
  out += '.';
  out += tag(id);
  return out;
}

std::string ReturnPaths::verified_id(std::string_view signed_id) const {
  const std::string s = util::ascii_lower(signed_id);
  const auto dot = s.rfind('.');
  if (dot == std::string::npos || s.size() - dot - 1 != kTagChars) return {};
  const std::string id = s.substr(0, dot);
  if (!looks_like_recipient_id(id) && !looks_like_message_id(id)) return {};
  const std::string expected = tag(id);
  if (CRYPTO_memcmp(expected.data(), s.data() + dot + 1, kTagChars) != 0) return {};
  return id;
}

const ReturnPathRule* ReturnPaths::for_sender(std::string_view envelope_from) const {
  if (envelope_from.empty() || rules_.empty()) return nullptr;
  const auto at = envelope_from.rfind('@');
  const std::string_view domain = at == std::string_view::npos ? std::string_view() : envelope_from.substr(at + 1);
  const ReturnPathRule* any = nullptr;
  for (const auto& r : rules_) {
    if (r.sender_domain == "*") {
      any = &r;
    } else if (ascii_iequals(r.sender_domain, domain)) {
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

std::string ReturnPaths::address(const ReturnPathRule& rule, std::string_view rcpt_id) const {
  return rule.prefix + '+' + signed_id(rcpt_id) + '@' + rule.domain;
}

std::string ReturnPaths::recipient_id(std::string_view address) const {
  const auto at = address.rfind('@');
  if (at == std::string_view::npos) return {};
  const std::string_view local = address.substr(0, at);
  const std::string_view domain = address.substr(at + 1);
  if (std::none_of(rules_.begin(), rules_.end(), [&](const ReturnPathRule& r) { return ascii_iequals(r.domain, domain); }))
    return {};
  const auto plus = local.find('+');
  if (plus == std::string_view::npos) return {};
  // Some bounce paths upper-case the address: verified_id reads ids in any case.
  std::string id = verified_id(local.substr(plus + 1));
  return looks_like_recipient_id(id) ? id : std::string{};
}

bool looks_like_message_id(std::string_view s) { return s.size() == kMessageIdChars && is_hex(s); }

bool looks_like_recipient_id(std::string_view s) {
  if (s.size() < kMessageIdChars + 2 || s.size() > kMessageIdChars + 10 || s[kMessageIdChars] != '-') return false;
  const auto hex = s.substr(0, kMessageIdChars);
  const auto index = s.substr(kMessageIdChars + 1);
  return is_hex(hex) &&
         std::all_of(index.begin(), index.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace volley::delivery
