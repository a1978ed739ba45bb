#include "core/feedback/dsn.hpp"

#include "core/feedback/fields.hpp"
#include "core/feedback/status_text.hpp"

namespace volley::feedback {
namespace {

constexpr std::size_t kMaxFieldsPerGroup = 64;

bool names_recipient(const Fields& group) {
  return !field_value(group, "Final-Recipient").empty() || !field_value(group, "Original-Recipient").empty();
}

// "failed (bad mailbox)" -> "failed"; "5.1.1 (user unknown)" -> "5.1.1"
std::string first_word(std::string_view value) {
  auto text = strip_comments(value);
  std::string_view v = text;
  return std::string(v.substr(0, v.find_first_of(" \t;")));
}

// "dns; mx.example.net. (192.0.2.25, the server for the domain)" -> "mx.example.net"
std::string host_name(std::string_view value) {
  auto host = after_type(strip_comments(value));
  while (!host.empty() && host.back() == '.') host.pop_back();
  return host;
}

DsnRecipient read_recipient(const Fields& group) {
  DsnRecipient r;
  r.original_recipient = typed_address(field_value(group, "Original-Recipient"));
  r.final_recipient = typed_address(field_value(group, "Final-Recipient"));
  if (r.final_recipient.empty()) r.final_recipient = r.original_recipient;
  r.action = lower(first_word(field_value(group, "Action")));
  r.status = first_word(field_value(group, "Status"));
  r.diagnostic_code = after_type(field_value(group, "Diagnostic-Code"));
  r.remote_mta = host_name(field_value(group, "Remote-MTA"));
  // Some senders leave out Status or Action; the other one or the diagnostic still says it.
  if (r.status.empty()) r.status = status_in(r.diagnostic_code);
  if (r.action.empty()) r.action = action_for_status(r.status);
  return r;
}

}  // namespace

Dsn read_delivery_status(std::string_view text) {
  Dsn dsn;
  auto groups = parse_field_groups(text, kMaxRecipients + 1, kMaxFieldsPerGroup);
  std::size_t first = 0;
  // The per-message group is required, but some senders start straight with a recipient.
  if (!groups.empty() && !names_recipient(groups.front())) {
    const auto& m = groups.front();
    dsn.reporting_mta = host_name(field_value(m, "Reporting-MTA"));
    dsn.original_envelope_id = trim(field_value(m, "Original-Envelope-Id"));
    dsn.arrival_date = trim(field_value(m, "Arrival-Date"));
    first = 1;
  }
  for (std::size_t i = first; i < groups.size() && dsn.recipients.size() < kMaxRecipients; ++i) {
    if (!names_recipient(groups[i])) continue;
    auto r = read_recipient(groups[i]);
    // A group saying neither what happened nor why (a cut-off report) gives nothing to act on.
    bool says_something = !r.action.empty() || !r.status.empty();
    if (!r.final_recipient.empty() && says_something) dsn.recipients.push_back(std::move(r));
  }
  return dsn;
}

bool looks_like_delivery_status(std::string_view text) {
  auto groups = parse_field_groups(text, 8, kMaxFieldsPerGroup);
  for (const auto& g : groups) {
    if (names_recipient(g) && (!field_value(g, "Action").empty() || !field_value(g, "Status").empty())) return true;
  }
  return false;
}

}  // namespace volley::feedback
