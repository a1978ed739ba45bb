#include "core/feedback/nonstandard_bounce.hpp"

#include <algorithm>
#include <array>
#include <vector>

#include "core/feedback/fields.hpp"
#include "core/feedback/original_headers.hpp"
#include "core/feedback/status_text.hpp"

namespace volley::feedback {
namespace {

constexpr std::size_t kMaxTextScanned = 256 * 1024;  // bounce prose is short; originals follow
constexpr std::size_t kMaxReasonLines = 20;

// Phrases only bounces write (mailer in the comment).
constexpr std::array kBounceBody = {
    "qmail-send program",                                           // qmail
    "created automatically by mail delivery software",              // Exim
    "could not be delivered to one or more of its recipients",      // Exim
    "has not yet been delivered to one or more of its",             // Exim, delay warning
    "this is the mail system at host",                              // Postfix
    "your message could not be delivered to one or more recipients",  // Postfix
    "delivery has failed to these recipients or groups",            // Exchange
    "couldn't be delivered",                                        // Office 365
    "remote server returned",                                       // Exchange
    "delivery to the following recipients failed",                 // Hotmail, Exchange 2003
    "delivery to the following recipient failed",                  // old Gmail
    "delivery to the following recipients has been delayed",       // Exchange
    "delivery to the following recipient has been delayed",        // old Gmail
    "sorry, we were unable to deliver your message",                // Yahoo
    "addresses had permanent fatal errors",                         // Sendmail
    "addresses had transient non-fatal errors",                     // Sendmail
    "transcript of session follows",                                // Sendmail
    "message could not be delivered",                               // many
};
constexpr std::array kBounceSubject = {
    "undelivered mail returned to sender", "mail delivery failed", "failure notice", "returned mail",
    "undeliverable", "delivery status notification", "delivery failure", "mail delivery system",
    "warning: message", "delayed mail", "undeliverable mail", "delivery has failed"};

// Lines starting the quoted original (its header block follows).
constexpr std::array kOriginalMarkers = {
    "below this line is a copy of the message",     // qmail
    "this is a copy of the message",                // Exim (with or without body)
    "original message headers:",                    // Exchange
    "original message follows",                     // Sendmail
    "message header follows",                       // Sendmail
    "----- original message -----",                 // many
    "headers of the original message",              //
    "text of the original message follows",         //
};

// Words saying the mail is still queued, not given up.
constexpr std::array kDelayed = {
    "has been delayed", "delayed mail", "has not yet been delivered", "will keep trying",
    "will continue to try", "delivery attempts will continue", "still trying", "will be retried",
    "transient non-fatal errors", "could not send message for past", "this is only a warning",
    "is still being retried", "warning: message"};

// `lowered`: text already in lower case (the phrases are), so each search is one memchr-driven find.
template <std::size_t N>
bool mentions(std::string_view lowered, const std::array<const char*, N>& phrases) {
  for (std::string_view p : phrases)
    if (lowered.find(p) != std::string_view::npos) return true;
  return false;
}

bool address_like(std::string_view s) {
  auto at = s.find('@');
  return !s.empty() && s.size() <= 254 && at != std::string_view::npos && at > 0 && at + 1 < s.size() &&
         s.find_first_of(" \t<>()[],;\"'") == std::string_view::npos && s.find('@', at + 1) == std::string_view::npos;
}

// A line naming a recipient: "<a@b>", "<a@b>: reason", "<a@b>... reason", "a@b", "  a@b:",
// "Your message to a@b couldn't be delivered.". The reason on the same line goes to `rest`.
std::optional<std::string> recipient_on(std::string_view line, std::string_view& rest) {
  auto t = trim(line);
  rest = {};
  if (t.starts_with("<")) {
    auto close = t.find('>');
    if (close == std::string_view::npos) return std::nullopt;
    auto addr = t.substr(1, close - 1);
    if (!address_like(addr)) return std::nullopt;
    auto after = trim(t.substr(close + 1));
    if (after.starts_with(":")) after.remove_prefix(1);
    else if (after.starts_with("...")) after.remove_prefix(3);
    else if (!after.empty()) return std::nullopt;  // "<a@b> said ..." is prose, not a recipient line
    rest = trim(after);
    return std::string(addr);
  }
  if (istarts_with(t, "your message to ")) {
    auto words = t.substr(16);
    auto addr = words.substr(0, words.find(' '));
    if (address_like(addr)) return std::string(addr);
    return std::nullopt;
  }
  if (t.ends_with(")") && t.find(':') == std::string_view::npos) {  // Exchange: "Dana Smith (dana@example.org)"
    auto open = t.rfind('(');
    auto addr = t.substr(open + 1, t.size() - open - 2);
    if (open != std::string_view::npos && address_like(addr)) return std::string(addr);
  }
  auto addr = t;
  if (addr.ends_with(":")) addr.remove_suffix(1);
  if (address_like(addr)) return std::string(addr);
  return std::nullopt;
}

// The reason text from its first reply code on ("host x said: 550 5.1.1 ..." -> "550 5.1.1 ...").
std::string diagnostic_from(std::string_view reason) {
  auto code = reply_code_at(reason);
  if (code == std::string_view::npos) return bounded(trim(reason));
  bool quoted = code > 0 && reason[code - 1] == '\'';  // Exchange: Remote Server returned '550 ...'
  auto text = trim(reason.substr(code));
  if (quoted) {
    if (auto q = text.rfind('\''); q != std::string_view::npos && q > 0) text = text.substr(0, q);
  }
  while (!text.empty() && (text.back() == '#' || text.back() == ' ')) text.remove_suffix(1);  // Exchange: "#550 ... ##"
  return bounded(trim(text));
}

std::string_view strip_reason_wrapper(std::string_view line) {
  auto t = trim(line);
  if (istarts_with(t, "(reason:")) {  // Sendmail: "(reason: 550 5.1.1 ...)"
    t.remove_prefix(8);
    if (t.ends_with(")")) t.remove_suffix(1);
  }
  return trim(t);
}

// "This is the mail system at host mx.example.com." -> "mx.example.com"
std::string reporting_host(std::string_view text) {
  for (std::string_view marker : {std::string_view("mail system at host "), std::string_view("qmail-send program at ")}) {
    auto at = ifind(text, marker);
    if (at == std::string_view::npos) continue;
    auto rest = text.substr(at + marker.size());
    auto host = rest.substr(0, rest.find_first_of(" \t\r\n"));
    while (!host.empty() && (host.back() == '.' || host.back() == ',')) host.remove_suffix(1);
    return bounded(host);
  }
  return {};
}

std::size_t indentation(std::string_view line) {
  auto first = line.find_first_not_of(" \t");
  return first == std::string_view::npos ? line.size() : first;
}

struct Found {
  std::string address, reason;
};

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    auto lf = text.find('\n');
    auto line = text.substr(0, lf);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    if (lf == std::string_view::npos) break;
    text.remove_prefix(lf + 1);
  }
  return lines;
}

std::vector<Found> find_recipients(const std::vector<std::string_view>& lines) {
  std::vector<Found> found;
  for (std::size_t i = 0; i < lines.size() && found.size() < kMaxRecipients; ++i) {
    std::string_view rest;
    auto address = recipient_on(lines[i], rest);
    if (!address) continue;
    std::string reason(rest);
    // Its reasons: the following lines up to a blank line or the next recipient. A line indented
    // deeper than the recipient's continues its reason even when it names an address (Postfix
    // wraps "<a@b>: Recipient address rejected" onto such lines; Exim indents reasons deeper).
    auto indent = indentation(lines[i]);
    std::size_t j = i + 1;
    for (std::size_t n = 0; j < lines.size() && n < kMaxReasonLines; ++j, ++n) {
      std::string_view ignored;
      if (trim(lines[j]).empty()) break;
      if (indentation(lines[j]) <= indent && recipient_on(lines[j], ignored)) break;
      auto part = strip_reason_wrapper(lines[j]);
      if (istarts_with(part, "giving up on")) continue;  // qmail's trailer says nothing more
      if (!reason.empty()) reason += ' ';
      reason += part;
      if (reason.size() > kMaxValueLength) break;
    }
    i = j - 1;  // the reason lines are not recipients of their own
    auto diagnostic = diagnostic_from(reason);
    auto same = std::find_if(found.begin(), found.end(), [&](const Found& f) { return iequals(f.address, *address); });
    if (same == found.end()) {
      found.push_back({std::move(*address), std::move(diagnostic)});
    } else if (!diagnostic.empty() && (same->reason.empty() || status_in(same->reason).empty())) {
      same->reason = std::move(diagnostic);  // Exchange names each recipient twice, reasons second
    }
  }
  return found;
}

// The first line of the report carrying a reply code: the reason for recipients listed bare.
std::string any_reason(const std::vector<std::string_view>& lines) {
  for (auto line : lines) {
    auto t = trim(line);
    if (t.starts_with(">>>")) continue;  // what we said, not what they answered
    if (t.starts_with("<<<")) t = trim(t.substr(3));
    if (reply_code_at(t) != std::string_view::npos) return diagnostic_from(t);
  }
  return {};
}

}  // namespace

std::optional<Dsn> read_bounce_text(std::string_view subject, std::string_view text) {
  text = text.substr(0, kMaxTextScanned);
  auto lowered_text = lower(text), lowered_subject = lower(subject);
  if (!mentions(lowered_text, kBounceBody) && !mentions(lowered_subject, kBounceSubject)) return std::nullopt;

  // The prose ends where the quoted original starts.
  std::string_view report = text, quoted;
  std::size_t cut = std::string_view::npos;
  for (std::string_view marker : kOriginalMarkers) cut = std::min(cut, lowered_text.find(marker));
  if (cut != std::string_view::npos) {
    report = text.substr(0, cut);
    auto after = text.substr(cut);
    auto eol = after.find('\n');
    quoted = eol == std::string_view::npos ? std::string_view() : after.substr(eol + 1);
  }

  auto lines = lines_of(report);
  auto found = find_recipients(lines);
  if (found.empty()) return std::nullopt;

  Dsn dsn;
  dsn.standard = false;
  dsn.reporting_mta = reporting_host(report);
  bool delayed = mentions(std::string_view(lowered_text).substr(0, report.size()), kDelayed) ||
                 mentions(lowered_subject, kDelayed);
  auto fallback = any_reason(lines);
  for (auto& f : found) {
    DsnRecipient r;
    r.final_recipient = bounded(f.address);
    // A recipient listed bare takes the report's one reply line; with several recipients, a
    // reply line is only trusted for the recipient it follows.
    bool use_fallback = !fallback.empty() && (f.reason.empty() || (found.size() == 1 && status_in(f.reason).empty()));
    r.diagnostic_code = use_fallback ? fallback : f.reason;
    r.status = status_in(r.diagnostic_code);
    bool still_queued = delayed && !r.status.starts_with("5");
    r.action = still_queued ? "delayed" : "failed";
    if (r.status.empty()) r.status = still_queued ? "4.0.0" : "5.0.0";
    dsn.recipients.push_back(std::move(r));
  }
  if (!quoted.empty()) {
    auto original = read_original_headers(quoted);
    if (original.all.size() >= 2) dsn.original = std::move(original);  // one stray "x: y" is prose
  }
  return dsn;
}

}  // namespace volley::feedback
