#pragma once
// What one unsubscribe writes: the suppression entry (reason "unsubscribe", the campaign as its
// category) and the "unsubscribe" event. source is "one_click" (RFC 8058 POST) or "mailto".
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/events/outcome.hpp"
#include "core/suppression/entry.hpp"
#include "core/unsubscribe/token.hpp"

namespace volley::unsubscribe {

inline constexpr std::string_view kOneClick = "one_click";
inline constexpr std::string_view kMailto = "mailto";
inline constexpr std::string_view kReason = "unsubscribe";

// nullopt and *error when the address or tenant cannot be stored (never for what Volley sent).
std::optional<suppression::Entry> entry_for(const Recipient& r, std::string_view source, std::int64_t now_ms,
                                            std::string* error);
events::Outcome event_for(const Recipient& r, std::string_view source, std::int64_t now_ms);

}  // namespace volley::unsubscribe
