#pragma once
// A policy domain's report (RFC 8460 §4.4) and the two ways it travels: gzip-compressed over
// HTTPS (§5.4) and as a mail (§5.3: multipart/report; report-type="tlsrpt" with the report as
// application/tlsrpt+gzip). Pure: the report's period, ids and date are given.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/tls_rpt/aggregate.hpp"

namespace volley::tls_rpt {

struct ReportInfo {
  std::string organization_name;
  std::string contact_info;
  std::string report_id;    // unique per report
  std::int64_t start_s = 0; // the period, unix seconds
  std::int64_t end_s = 0;
};

// The report's JSON for the policies of one domain (Aggregate::policies_of).
std::string render_report(const ReportInfo& info, const std::vector<const PolicyTotals*>& policies);

// "2026-12-05T00:00:00Z" (RFC 3339, UTC).
std::string rfc3339_utc(std::int64_t unix_seconds);

// RFC 1952 gzip of data (zlib). Throws std::runtime_error only if zlib fails where it cannot.
std::string gzip(std::string_view data);

// §5.1: "<submitter>!<policy domain>!<start>!<end>!<unique>.json.gz"
std::string report_filename(std::string_view submitter, std::string_view policy_domain, std::int64_t start_s,
                            std::int64_t end_s, std::string_view unique);

struct ReportMail {
  std::string from;                 // addr-spec: the From: field and (elsewhere) the envelope
  std::vector<std::string> to;      // addr-specs of the rua's mailto: URIs
  std::string policy_domain;
  std::string submitter;            // host name of the sending MTA's organisation
  std::string report_id;
  std::string message_id;           // with <>
  std::int64_t date_s = 0;          // the Date: field
  std::string filename;             // report_filename()
  std::string report_gz;            // gzip(render_report(...))
};

// The whole RFC 5322 message, CRLF line ends.
std::string render_report_mail(const ReportMail& mail);

}  // namespace volley::tls_rpt
