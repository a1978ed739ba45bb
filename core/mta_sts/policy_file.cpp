#include "core/mta_sts/policy_file.hpp"

#include <algorithm>

#include "core/mta_sts/wsp.hpp"
#include "core/util/ascii.hpp"

namespace volley::mta_sts {

namespace {



bool is_ldh(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

// A lower-cased host name of letters, digits and '-' labels (1-63 each, 253 in all, at least two
// labels), optionally "*." in front (RFC 8461 §3.2 sts-policy-mx-value = ["*."] Domain).
bool valid_mx_pattern(std::string_view p) {
  if (p.starts_with("*.")) p.remove_prefix(2);
  if (p.empty() || p.size() > 253) return false;
  std::size_t labels = 0;
  while (true) {
    const auto dot = p.find('.');
    const std::string_view label = p.substr(0, dot);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    if (!std::all_of(label.begin(), label.end(), is_ldh)) return false;
    ++labels;
    if (dot == std::string_view::npos) break;
    p.remove_prefix(dot + 1);
  }
  return labels >= 2;
}

std::string quoted(std::string_view s) {
  // Enough of the value to recognise it, with control bytes shown as '?'.
  std::string out(s.substr(0, 64));
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return "\"" + out + (s.size() > 64 ? "...\"" : "\"");
}

}  // namespace

std::optional<tls::StsPolicy> parse_sts_policy(std::string_view body, std::string id, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<tls::StsPolicy> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  if (body.size() > kMaxPolicyBytes)
    return fail("policy is " + std::to_string(body.size()) + " bytes, more than " +
                std::to_string(kMaxPolicyBytes));
  tls::StsPolicy policy;
  policy.id = std::move(id);
  bool have_version = false, have_mode = false, have_max_age = false;
  std::size_t line_no = 0;
  while (!body.empty()) {
    ++line_no;
    const auto nl = body.find('\n');
    std::string_view line = body.substr(0, nl);
    body = nl == std::string_view::npos ? std::string_view{} : body.substr(nl + 1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (trim_wsp(line).empty()) continue;  // a blank line (often the last) carries nothing
    const std::string at = "line " + std::to_string(line_no) + ": ";
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) return fail(at + "no ':' in " + quoted(line));
    const std::string key = util::ascii_lower(trim_wsp(line.substr(0, colon)));
    const std::string_view value = trim_wsp(line.substr(colon + 1));
    if (key == "version") {
      if (have_version) return fail(at + "version given twice");
      if (value != "STSv1") return fail(at + "version " + quoted(value) + " is not STSv1");
      have_version = true;
    } else if (key == "mode") {
      if (have_mode) return fail(at + "mode given twice");
      const std::string mode = util::ascii_lower(value);
      if (mode == "enforce") {
        policy.mode = tls::StsPolicy::Mode::enforce;
      } else if (mode == "testing") {
        policy.mode = tls::StsPolicy::Mode::testing;
      } else if (mode == "none") {
        policy.mode = tls::StsPolicy::Mode::none;
      } else {
        return fail(at + "mode " + quoted(value) + " is not enforce, testing or none");
      }
      have_mode = true;
    } else if (key == "max_age") {
      if (have_max_age) return fail(at + "max_age given twice");
      if (value.empty() || value.size() > 10 ||
          !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return fail(at + "max_age " + quoted(value) + " is not 1-10 digits");
      const auto seconds = std::chrono::seconds(std::stoll(std::string(value)));
      policy.max_age = std::min(seconds, kMaxMaxAge);
      have_max_age = true;
    } else if (key == "mx") {
      std::string pattern = util::ascii_lower(value);
      if (!valid_mx_pattern(pattern)) return fail(at + "mx " + quoted(value) + " is not a host name pattern");
      policy.mx.push_back(std::move(pattern));
    }
    // Any other key is an extension (RFC 8461 §3.2): ignored.
  }
  if (!have_version) return fail("no version");
  if (!have_mode) return fail("no mode");
  if (!have_max_age) return fail("no max_age");
  if (policy.mode != tls::StsPolicy::Mode::none && policy.mx.empty())
    return fail("mode " + std::string(policy.mode == tls::StsPolicy::Mode::enforce ? "enforce" : "testing") +
                " without any mx");
  return policy;
}

bool is_policy_media_type(std::string_view content_type) {
  const std::string_view type = trim_wsp(content_type.substr(0, content_type.find(';')));
  return util::ascii_iequals(type, "text/plain");
}

}  // namespace volley::mta_sts
