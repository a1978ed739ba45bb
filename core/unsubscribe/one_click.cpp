#include "core/unsubscribe/one_click.hpp"

#include <string>

#include "core/util/ascii.hpp"

namespace volley::unsubscribe {
namespace {

constexpr std::string_view kPair = "List-Unsubscribe=One-Click";
constexpr std::string_view kFieldName = "name=\"List-Unsubscribe\"";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

// One of the &-separated pairs is List-Unsubscribe=One-Click (a form may send more).
bool urlencoded_has_pair(std::string_view body) {
  body = trim(body);
  while (true) {
    const auto amp = body.find('&');
    if (body.substr(0, amp) == kPair) return true;
    if (amp == std::string_view::npos) return false;
    body.remove_prefix(amp + 1);
  }
}

// A part whose Content-Disposition names List-Unsubscribe and whose content is One-Click.
bool multipart_has_field(std::string_view content_type, std::string_view body) {
  const auto b = util::ascii_lower(content_type).find("boundary=");
  if (b == std::string::npos) return false;
  std::string_view boundary = content_type.substr(b + 9);
  boundary = boundary.substr(0, boundary.find(';'));
  if (boundary.size() >= 2 && boundary.front() == '"' && boundary.back() == '"') boundary = boundary.substr(1, boundary.size() - 2);
  if (boundary.empty()) return false;
  const std::string delimiter = "--" + std::string(boundary);
  std::size_t pos = body.find(delimiter);
  while (pos != std::string_view::npos) {
    const std::size_t start = pos + delimiter.size();
    const std::size_t next = body.find(delimiter, start);
    const std::string_view part = body.substr(start, next == std::string_view::npos ? std::string_view::npos : next - start);
    const auto blank = part.find("\r\n\r\n");
    if (blank != std::string_view::npos && part.substr(0, blank).find(kFieldName) != std::string_view::npos &&
        trim(part.substr(blank + 4)) == "One-Click")
      return true;
    pos = next;
  }
  return false;
}

}  // namespace

bool is_one_click_body(std::string_view content_type, std::string_view body) {
  const std::string type = util::ascii_lower(trim(content_type.substr(0, content_type.find(';'))));
  if (type.empty() || type == "application/x-www-form-urlencoded") return urlencoded_has_pair(body);
  if (type == "multipart/form-data") return multipart_has_field(content_type, body);
  return false;
}

}  // namespace volley::unsubscribe
