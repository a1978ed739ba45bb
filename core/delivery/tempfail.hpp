#pragma once
// Why a recipient was deferred, as far as the retry schedule and the destination's pacing care:
// the reply classifier produces it, the retry schedule and the destination backoff consume it.
#include <array>
#include <string_view>

namespace volley::delivery {

enum class TempfailKind {
  greylisted,    // "try again later" from a greylister: the next attempt is expected to pass
  rate_limited,  // the destination says we send too fast: slow down the destination, not the recipient
  mailbox_full,  // over quota: may take a long time to clear
  tls_required,  // Volley's own: TLS was required (tls policy, MTA-STS, DANE) and could not be had
  other,
};

// Every kind, for those who list them ahead of time (metrics create their series at zero).
inline constexpr std::array<TempfailKind, 5> kTempfailKinds = {TempfailKind::greylisted, TempfailKind::rate_limited,
                                                               TempfailKind::mailbox_full, TempfailKind::tls_required,
                                                               TempfailKind::other};

inline std::string_view to_string(TempfailKind kind) {
  switch (kind) {
    case TempfailKind::greylisted: return "greylisted";
    case TempfailKind::rate_limited: return "rate_limited";
    case TempfailKind::mailbox_full: return "mailbox_full";
    case TempfailKind::tls_required: return "tls_required";
    case TempfailKind::other: break;
  }
  return "other";
}

}  // namespace volley::delivery
