#pragma once
// What a received bounce (DSN, RFC 3464 / RFC 6533, or a known non-standard bounce text) or
// feedback-loop complaint (ARF, RFC 5965, or a known non-compliant FBL) says, parsed from the
// message as received after DATA. The input is hostile: any bytes give a Report, never a crash,
// and every string and list in it is bounded by the limits below.
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace volley::feedback {

inline constexpr std::size_t kMaxMessageSize = 20 * 1024 * 1024;  // larger: refused unparsed
inline constexpr std::size_t kMaxNesting = 16;         // MIME levels walked below the top
inline constexpr std::size_t kMaxParts = 256;          // MIME parts looked at
inline constexpr std::size_t kMaxHeaders = 200;        // OriginalHeaders::all
inline constexpr std::size_t kMaxRecipients = 1000;    // Dsn::recipients, Arf::original_rcpt_to
inline constexpr std::size_t kMaxValueLength = 4096;   // any one string value (longer: cut)

// Headers of the message a report is about (from its text/rfc822-headers or message/rfc822 part,
// or for non-standard bounces the quoted original's header block when one can be found).
// Values are unfolded but otherwise raw (RFC 2047 encoded words stay encoded).
struct OriginalHeaders {
  std::string message_id;   // Message-ID value with <>
  std::string from, to, subject, date;
  std::string return_path;  // addr-spec, without <>
  std::string volley_id;    // X-Volley-ID, the header Volley adds to every message it sends
  std::vector<std::pair<std::string, std::string>> all;  // every header, in order (kMaxHeaders)
};

struct DsnRecipient {
  std::string final_recipient;     // addr-spec only ("rfc822;" stripped)
  std::string original_recipient;  // "" when absent
  std::string action;              // lower case: failed, delayed, delivered, relayed, expanded
  std::string status;              // "5.1.1"; "" when the report gives none
  std::string diagnostic_code;     // text after "smtp;", e.g. "550 5.1.1 <x@y>: user unknown"
  std::string remote_mta;          // text after "dns;"
};

struct Dsn {
  bool standard = true;  // RFC 3464 delivery-status part; false = recognised non-standard format
  std::string reporting_mta, original_envelope_id, arrival_date;
  std::vector<DsnRecipient> recipients;
  OriginalHeaders original;
};

// A complaint. Original-Rcpt-To is optional (and often redacted): when it is empty, the
// complaining recipient is only known from original.to or original.volley_id.
struct Arf {
  bool standard = true;        // message/feedback-report part; false = non-compliant FBL format
  std::string feedback_type;   // lower case: abuse, fraud, virus, other, not-spam, auth-failure...
  std::string user_agent, version, original_mail_from, source_ip, arrival_date, reporting_mta,
      reported_domain, incidents;
  std::vector<std::string> original_rcpt_to;  // addr-specs
  OriginalHeaders original;
};

struct Report {
  enum class Kind { dsn, arf, unrecognised } kind = Kind::unrecognised;
  Dsn dsn;              // kind == dsn
  Arf arf;              // kind == arf
  std::string problem;  // unrecognised: why (for logs)
};

// `message`: RFC 5322 bytes, CRLF or LF line ends, dot-unstuffed. Thread-safe.
Report parse_report(std::string_view message);

}  // namespace volley::feedback
