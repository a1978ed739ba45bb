#include "core/tls_rpt/report.hpp"

#include <ctime>
#include <stdexcept>

#include <nlohmann/json.hpp>
#include <zlib.h>

#include "core/message/header_encoding.hpp"
#include "core/message/transfer_encoding.hpp"

namespace volley::tls_rpt {

namespace {

using nlohmann::json;

json policy_json(const PolicyTotals& p) {
  json policy = {{"policy-type", policy_type_name(p.policy.type)}};
  // §4.4: policy-string and mx-host say what was in force; with no policy there is nothing.
  if (p.policy.type != PolicyType::no_policy_found) {
    policy["policy-string"] = p.policy.strings;
    policy["mx-host"] = p.policy.mx_hosts;
  }
  policy["policy-domain"] = p.policy.domain;
  json out = {{"policy", std::move(policy)},
              {"summary",
               {{"total-successful-session-count", p.successful}, {"total-failure-session-count", p.failed}}}};
  if (!p.details.empty()) {
    json details = json::array();
    for (const auto& d : p.details) {
      json one = {{"result-type", result_type_name(d.result)}};
      if (!d.sending_mta_ip.empty()) one["sending-mta-ip"] = d.sending_mta_ip;
      if (!d.receiving_mx_hostname.empty()) one["receiving-mx-hostname"] = d.receiving_mx_hostname;
      if (!d.receiving_ip.empty()) one["receiving-ip"] = d.receiving_ip;
      one["failed-session-count"] = d.failed_session_count;
      if (!d.failure_reason_code.empty()) one["failure-reason-code"] = d.failure_reason_code;
      details.push_back(std::move(one));
    }
    out["failure-details"] = std::move(details);
  }
  return out;
}

}  // namespace

std::string rfc3339_utc(std::int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string render_report(const ReportInfo& info, const std::vector<const PolicyTotals*>& policies) {
  json list = json::array();
  for (const auto* p : policies) list.push_back(policy_json(*p));
  json report = {{"organization-name", info.organization_name},
                 {"date-range", {{"start-datetime", rfc3339_utc(info.start_s)}, {"end-datetime", rfc3339_utc(info.end_s)}}},
                 {"contact-info", info.contact_info},
                 {"report-id", info.report_id},
                 {"policies", std::move(list)}};
  // Replacement instead of an exception for bytes that are not UTF-8 (a peer's error text).
  return report.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string gzip(std::string_view data) {
  z_stream zs{};
  // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
  if (deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("zlib: deflateInit2 failed");
  std::string out(deflateBound(&zs, static_cast<uLong>(data.size())) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  const auto written = zs.total_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) throw std::runtime_error("zlib: deflate did not finish");
  out.resize(written);
  return out;
}

std::string report_filename(std::string_view submitter, std::string_view policy_domain, std::int64_t start_s,
                            std::int64_t end_s, std::string_view unique) {
  std::string name(submitter);
  name += '!';
  name += policy_domain;
  name += '!' + std::to_string(start_s) + '!' + std::to_string(end_s);
  if (!unique.empty()) {
    name += '!';
    name += unique;
  }
  return name + ".json.gz";
}

std::string render_report_mail(const ReportMail& m) {
  // The boundary cannot occur in base64 text or in the fixed parts.
  const std::string boundary = "=_tlsrpt_" + m.message_id.substr(1, m.message_id.size() > 2 ? m.message_id.size() - 2 : 0);
  std::string to;
  for (const auto& a : m.to) to += (to.empty() ? "" : ",\r\n ") + a;
  std::string out;
  out += "From: " + m.from + "\r\n";
  out += "Date: " + message::rfc5322_date(m.date_s) + "\r\n";
  out += "To: " + to + "\r\n";
  out += "Subject: Report Domain: " + m.policy_domain + " Submitter: " + m.submitter + " Report-ID: <" + m.report_id +
         ">\r\n";
  out += "Message-ID: " + m.message_id + "\r\n";
  out += "TLS-Report-Domain: " + m.policy_domain + "\r\n";
  out += "TLS-Report-Submitter: " + m.submitter + "\r\n";
  out += "Auto-Submitted: auto-generated\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Content-Type: multipart/report; report-type=\"tlsrpt\";\r\n boundary=\"" + boundary + "\"\r\n";
  out += "\r\n";
  out += "This is a multipart message in MIME format.\r\n\r\n";
  out += "--" + boundary + "\r\n";
  out += "Content-Type: text/plain; charset=\"us-ascii\"\r\n";
  out += "Content-Transfer-Encoding: 7bit\r\n\r\n";
  out += "This is an aggregate TLS report (RFC 8460) from " + m.submitter + " for " + m.policy_domain + ".\r\n\r\n";
  out += "--" + boundary + "\r\n";
  out += "Content-Type: application/tlsrpt+gzip\r\n";
  out += "Content-Transfer-Encoding: base64\r\n";
  out += "Content-Disposition: attachment;\r\n filename=\"" + m.filename + "\"\r\n\r\n";
  out += message::base64_encode_lines(m.report_gz);
  out += "--" + boundary + "--\r\n";
  return out;
}

}  // namespace volley::tls_rpt
