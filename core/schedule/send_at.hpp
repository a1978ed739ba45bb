#pragma once
// "send_at" on a message request: an RFC 3339 date-time (with "Z" or a numeric offset) turned
// into the instant delivery may first try the message. Pure: the clock is an argument.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace volley::schedule {

// How far ahead a message may be scheduled (SendGrid allows 72 hours, Mailgun 3 days for most
// plans, KumoMTA has no limit; 30 days keeps a spool from becoming an archive).
inline constexpr std::int64_t kMaxSendAheadMs = 30LL * 24 * 3600 * 1000;

// Milliseconds since the Unix epoch of an RFC 3339 date-time ("2026-12-24T08:00:00Z",
// "2026-12-24T09:00:00.250+01:00"; "t"/"z" and a space for "T" as RFC 3339 5.6 allows), or
// nullopt. Fractions beyond milliseconds are truncated; leap seconds (":60") are refused.
std::optional<std::int64_t> parse_rfc3339(std::string_view text);

struct SendAtError {
  std::string code;     // "invalid_field"
  std::string message;  // for people, naming send_at
};

// The instant to hold the message until: 0 when it is due now (absent, or at or before now_ms:
// a past send_at is sent at once, as SendGrid and Mailgun do), else the parsed instant; an error
// when the text is not RFC 3339 or lies more than kMaxSendAheadMs after now_ms.
std::variant<std::int64_t, SendAtError> resolve_send_at(std::string_view text, std::int64_t now_ms);

}  // namespace volley::schedule
