#include "core/feedback/arf.hpp"

#include <array>

namespace volley::feedback {
namespace {

constexpr std::size_t kMaxFieldGroups = 8;  // some reporters put blank lines between fields

std::string first_word(std::string_view value) {
  auto text = strip_comments(value);
  std::string_view v = text;
  return std::string(v.substr(0, v.find_first_of(" \t;")));
}

// The IPv4/IPv6 literal following `marker` in `text` ("from IP 192.0.2.1 on ..."), or "".
std::string address_after(std::string_view text, std::string_view marker) {
  auto at = ifind(text, marker);
  if (at == std::string_view::npos) return {};
  auto rest = trim(text.substr(at + marker.size()));
  auto end = rest.find_first_not_of("0123456789abcdefABCDEF.:");
  auto ip = rest.substr(0, end);
  while (!ip.empty() && ip.back() == '.') ip.remove_suffix(1);  // end of a sentence
  return ip.find_first_of(".:") == std::string_view::npos ? std::string() : bounded(ip);
}

}  // namespace

Arf read_feedback_report(std::string_view text) {
  Arf arf;
  auto groups = parse_field_groups(text, kMaxFieldGroups, kMaxRecipients + 64);
  for (const auto& group : groups) {
    for (const auto& f : group) {
      const auto& v = f.value;
      if (iequals(f.name, "Feedback-Type")) arf.feedback_type = lower(first_word(v));
      else if (iequals(f.name, "User-Agent")) arf.user_agent = v;
      else if (iequals(f.name, "Version")) arf.version = first_word(v);
      else if (iequals(f.name, "Original-Mail-From")) arf.original_mail_from = addr_spec(v);
      else if (iequals(f.name, "Source-IP")) arf.source_ip = first_word(v);
      else if (iequals(f.name, "Arrival-Date") || iequals(f.name, "Received-Date")) arf.arrival_date = v;
      else if (iequals(f.name, "Reporting-MTA")) arf.reporting_mta = after_type(v);
      else if (iequals(f.name, "Reported-Domain")) arf.reported_domain = first_word(v);
      else if (iequals(f.name, "Incidents")) arf.incidents = first_word(v);
      else if (iequals(f.name, "Original-Rcpt-To")) {
        auto rcpt = addr_spec(v);
        if (!rcpt.empty() && arf.original_rcpt_to.size() < kMaxRecipients) arf.original_rcpt_to.push_back(rcpt);
      }
    }
  }
  return arf;
}

bool looks_like_feedback_report(std::string_view text) {
  auto groups = parse_field_groups(text, kMaxFieldGroups, 64);
  for (const auto& g : groups) {
    if (!field_value(g, "Feedback-Type").empty() &&
        (!field_value(g, "User-Agent").empty() || !field_value(g, "Version").empty()))
      return true;
  }
  return false;
}

std::optional<Arf> read_nonstandard_complaint(const Fields& top_headers, std::string_view text,
                                              const OriginalHeaders& original) {
  // Microsoft's JMRP (and reporters copying it): a note "This is an email abuse report for an
  // email message received from IP ..." with the complained-of message attached, its recipient
  // in X-HmXmrOriginalRecipient.
  std::string_view hm_recipient;
  for (const auto& [name, value] : original.all)
    if (iequals(name, "X-HmXmrOriginalRecipient")) hm_recipient = value;
  auto subject = field_value(top_headers, "Subject");
  static constexpr std::array kNotes = {"email abuse report", "abuse report for an email message",
                                        "complaint about message from"};
  bool noted = false;
  for (std::string_view note : kNotes)
    noted = noted || ifind(text, note) != std::string_view::npos || ifind(subject, note) != std::string_view::npos;
  if (!noted && hm_recipient.empty()) return std::nullopt;
  if (original.all.empty()) return std::nullopt;  // a complaint about nothing we can tie to a message

  Arf arf;
  arf.standard = false;
  arf.feedback_type = "abuse";
  arf.source_ip = address_after(text, "from IP");
  if (arf.source_ip.empty()) arf.source_ip = address_after(subject, "message from");
  if (auto rcpt = addr_spec(hm_recipient); !rcpt.empty()) arf.original_rcpt_to.push_back(rcpt);
  arf.original = original;
  return arf;
}

}  // namespace volley::feedback
