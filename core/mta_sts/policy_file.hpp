#pragma once
// The MTA-STS policy file (RFC 8461 §3.2), served at
// https://mta-sts.<domain>/.well-known/mta-sts.txt:
//
//   version: STSv1
//   mode: enforce
//   mx: mail.example.com
//   mx: *.example.net
//   max_age: 604800
//
// Lines end in CRLF or LF; keys are matched without regard to case; unknown keys are ignored.
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/tls/inputs.hpp"

namespace volley::mta_sts {

// A policy bigger than this is refused (RFC 8461 §3.3 lets senders limit it; 64 KiB is what
// other implementations allow).
inline constexpr std::size_t kMaxPolicyBytes = 64 * 1024;
// The largest max_age a policy may give (RFC 8461 §3.2: about one year); a larger one is
// lowered to it.
inline constexpr std::chrono::seconds kMaxMaxAge{31557600};

// The policy in `body`, with `id` (the TXT record's id it was fetched under) stored in it, or
// nullopt with *error naming the problem: too big, a line without ':', a missing or repeated
// version / mode / max_age, version not STSv1, an unknown mode, max_age not 1-10 digits, an mx
// pattern that is not a host name or "*." and one, or no mx in mode testing or enforce.
// The mx patterns come out in lower case.
std::optional<tls::StsPolicy> parse_sts_policy(std::string_view body, std::string id,
                                               std::string* error = nullptr);

// True when a policy response's Content-Type is text/plain (RFC 8461 §3.2), parameters allowed.
bool is_policy_media_type(std::string_view content_type);

}  // namespace volley::mta_sts
