#pragma once
// Whether a Report keeps within the limits report.hpp promises: checked after every parse of
// mutated and fuzzed input. Plain bool (no test framework) so the libFuzzer target shares it.
#include <string>

#include "core/feedback/report.hpp"

namespace volley::feedback::test {

inline bool fits(const std::string& s) { return s.size() <= kMaxValueLength; }

inline bool within_bounds(const OriginalHeaders& o) {
  if (o.all.size() > kMaxHeaders) return false;
  for (const auto& [name, value] : o.all)
    if (!fits(name) || !fits(value)) return false;
  return fits(o.message_id) && fits(o.from) && fits(o.to) && fits(o.subject) && fits(o.return_path) &&
         fits(o.date) && fits(o.volley_id);
}

inline bool within_bounds(const Report& r) {
  switch (r.kind) {
    case Report::Kind::unrecognised:
      return !r.problem.empty();
    case Report::Kind::dsn:
      if (r.dsn.recipients.size() > kMaxRecipients) return false;
      for (const auto& x : r.dsn.recipients) {
        if (x.final_recipient.empty()) return false;
        if (!fits(x.final_recipient) || !fits(x.original_recipient) || !fits(x.action) || !fits(x.status) ||
            !fits(x.diagnostic_code) || !fits(x.remote_mta))
          return false;
      }
      return fits(r.dsn.reporting_mta) && fits(r.dsn.original_envelope_id) && fits(r.dsn.arrival_date) &&
             within_bounds(r.dsn.original);
    case Report::Kind::arf:
      if (r.arf.original_rcpt_to.size() > kMaxRecipients) return false;
      for (const auto& x : r.arf.original_rcpt_to)
        if (!fits(x)) return false;
      return fits(r.arf.feedback_type) && fits(r.arf.user_agent) && fits(r.arf.version) &&
             fits(r.arf.original_mail_from) && fits(r.arf.source_ip) && fits(r.arf.arrival_date) &&
             fits(r.arf.reporting_mta) && fits(r.arf.reported_domain) && fits(r.arf.incidents) &&
             within_bounds(r.arf.original);
  }
  return false;
}

}  // namespace volley::feedback::test
