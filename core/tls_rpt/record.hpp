#pragma once
// The TLSRPT record of a policy domain (RFC 8460 §3), published as TXT at _smtp._tls.<domain>:
// "v=TLSRPTv1; rua=mailto:tlsrpt@example.com,https://reports.example.com/v1". It says where the
// domain wants its daily TLS reports; a domain without exactly one valid record gets none.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace volley::tls_rpt {

struct ReportUri {
  enum class Kind { mailto, https } kind = Kind::mailto;
  std::string uri;      // as published (after %-decoding nothing: reported back verbatim)
  std::string address;  // mailto: the addr-spec; https: "" (uri is the URL)
  friend bool operator==(const ReportUri&, const ReportUri&) = default;
};

struct TlsRptRecord {
  std::vector<ReportUri> rua;  // at least one
};

// One record (its TXT strings already concatenated). It must begin with "v=TLSRPTv1" and have
// one rua= with mailto: and https: URIs; unknown fields are ignored (RFC 8460 §3), URIs of
// other schemes are skipped (the record stays usable while one URI is left). nullopt with
// *error saying why otherwise.
std::optional<TlsRptRecord> parse_record(std::string_view text, std::string* error = nullptr);

// The TXT records at _smtp._tls.<domain>: those that do not begin with "v=TLSRPTv1" are not
// TLSRPT records and are discarded; "if the number of resulting records is not one", or the one
// does not parse, the domain gets no report (nullopt, *error says why).
std::optional<TlsRptRecord> select_record(const std::vector<std::string>& txt_records, std::string* error = nullptr);

// "_smtp._tls." + domain
std::string record_name(std::string_view policy_domain);

}  // namespace volley::tls_rpt
