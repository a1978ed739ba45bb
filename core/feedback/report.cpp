#include "core/feedback/report.hpp"

#include <optional>

#include "core/feedback/arf.hpp"
#include "core/feedback/dsn.hpp"
#include "core/feedback/fields.hpp"
#include "core/feedback/html_text.hpp"
#include "core/feedback/mime_walk.hpp"
#include "core/feedback/nonstandard_bounce.hpp"
#include "core/feedback/original_headers.hpp"

namespace volley::feedback {
namespace {

constexpr std::size_t kMaxReportPart = 4 * 1024 * 1024;  // a delivery-status part of kMaxRecipients
constexpr std::size_t kMaxTextPart = 1024 * 1024;
// A report forwarded as an attachment (message/rfc822) is read too, but only when the message
// itself carries none: the original a report quotes may be any mail, a bounce included.
constexpr std::size_t kMaxMessageLevel = 1;

bool is_delivery_status(const MimePart& p) {
  return p.is("message", "delivery-status") || p.is("message", "global-delivery-status");
}
bool is_feedback_report(const MimePart& p) { return p.is("message", "feedback-report"); }
bool is_header_block(const MimePart& p) {
  return p.is("text", "rfc822-headers") || p.is("message", "global-headers");
}

template <typename Pred>
std::optional<std::size_t> find_part(const std::vector<MimePart>& parts, std::size_t level, Pred pred) {
  for (std::size_t i = 0; i < parts.size(); ++i)
    if (parts[i].message_level == level && pred(parts[i])) return i;
  return std::nullopt;
}

// The headers held by part `i`: an embedded message's, or a text/rfc822-headers block.
OriginalHeaders original_in(const MimeTree& tree, std::size_t i) {
  const auto& part = tree.parts()[i];
  return read_original_headers(part.embedded_message ? tree.headers(i) : tree.body(i, kMaxTextPart));
}

// The headers of the message a report at part `at` is about: the first embedded message or
// header block after it at its level (RFC 3464 and 5965 put it third), else one before it.
OriginalHeaders original_near(const MimeTree& tree, std::size_t at) {
  const auto& parts = tree.parts();
  auto level = parts[at].message_level;
  auto holds_original = [&](std::size_t j) {
    return parts[j].message_level == level && (parts[j].embedded_message || is_header_block(parts[j]));
  };
  std::optional<std::size_t> pick;
  for (std::size_t j = at + 1; j < parts.size() && !pick; ++j)
    if (holds_original(j)) pick = j;
  for (std::size_t j = 0; j < at && !pick; ++j)
    if (holds_original(j)) pick = j;
  return pick ? original_in(tree, *pick) : OriginalHeaders{};
}

// The human-readable text of the message: its first text/plain part outside any attached
// message, else its first text/html part made text.
std::optional<std::size_t> readable_part(const std::vector<MimePart>& parts) {
  if (auto i = find_part(parts, 0, [](const MimePart& p) { return p.is("text", "plain"); })) return i;
  return find_part(parts, 0, [](const MimePart& p) { return p.is("text", "html"); });
}

Report unrecognised(std::string problem) {
  Report r;
  r.problem = std::move(problem);
  return r;
}

Report dsn_report(Dsn dsn) {
  Report r;
  r.kind = Report::Kind::dsn;
  r.dsn = std::move(dsn);
  return r;
}

Report arf_report(Arf arf) {
  Report r;
  r.kind = Report::Kind::arf;
  r.arf = std::move(arf);
  return r;
}

}  // namespace

Report parse_report(std::string_view message) {
  if (message.size() > kMaxMessageSize) return unrecognised("message larger than 20 MiB");
  if (message.empty()) return unrecognised("empty message");
  MimeTree tree(message);
  if (!tree.ok()) return unrecognised("not an RFC 5322 message");
  const auto& parts = tree.parts();

  // Standard reports: a delivery-status or feedback-report part.
  for (std::size_t level = 0; level <= kMaxMessageLevel; ++level) {
    if (auto i = find_part(parts, level, is_delivery_status)) {
      auto dsn = read_delivery_status(tree.body(*i, kMaxReportPart));
      dsn.original = original_near(tree, *i);
      return dsn_report(std::move(dsn));
    }
    if (auto i = find_part(parts, level, is_feedback_report)) {
      auto arf = read_feedback_report(tree.body(*i, kMaxReportPart));
      arf.original = original_near(tree, *i);
      return arf_report(std::move(arf));
    }
  }

  // Report fields in a part of the wrong type (text/plain, application/octet-stream...).
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto& p = parts[i];
    if (p.message_level != 0 || p.type == "multipart" || p.embedded_message) continue;
    if (p.type != "text" && p.type != "application" && p.type != "message") continue;
    auto text = tree.body(i, kMaxReportPart);
    if (looks_like_feedback_report(text)) {
      auto arf = read_feedback_report(text);
      arf.standard = false;
      arf.original = original_near(tree, i);
      return arf_report(std::move(arf));
    }
    if (looks_like_delivery_status(text)) {
      auto dsn = read_delivery_status(text);
      dsn.standard = false;
      dsn.original = original_near(tree, i);
      return dsn_report(std::move(dsn));
    }
  }

  // Prose: a complaint note or a bounce text.
  auto top = parse_header_block(tree.top_headers(), kMaxHeaders);
  auto readable = readable_part(parts);
  if (!readable) return unrecognised("no report part and no text part");
  auto text = tree.body(*readable, kMaxTextPart);
  if (parts[*readable].is("text", "html")) text = html_to_text(text);

  auto attached = find_part(parts, 0, [](const MimePart& p) { return p.embedded_message || is_header_block(p); });
  OriginalHeaders attached_original = attached ? original_in(tree, *attached) : OriginalHeaders{};
  if (auto arf = read_nonstandard_complaint(top, text, attached_original)) return arf_report(std::move(*arf));
  if (auto dsn = read_bounce_text(field_value(top, "Subject"), text)) {
    if (!attached_original.all.empty()) dsn->original = std::move(attached_original);
    return dsn_report(std::move(*dsn));
  }
  return unrecognised("no delivery-status or feedback-report part, and no bounce text this parser knows");
}

}  // namespace volley::feedback
