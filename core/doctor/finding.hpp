#pragma once
// What the doctor says about one record: a finding per check (DKIM, SPF, DMARC, PTR, MX, ...)
// with its status, the record it saw and, unless all is well, the fix in one sentence. Findings
// are values, so the checks (records in, findings out) can be tested without DNS.
#include <string>
#include <string_view>
#include <vector>

namespace volley::doctor {

enum class Status { ok, warn, fail };
// "ok", "warn", "fail"
const char* to_string(Status s);

struct Finding {
  std::string check;    // "dkim", "spf", "dmarc", "alignment", "ptr", "mx", "host", "source"
  std::string subject;  // what was checked: "s1._domainkey.good.test", "good.test for 192.0.2.10"
  Status status = Status::ok;
  std::string record;   // what DNS answered, as published ("" when there was nothing)
  std::string fix;      // one sentence; "" when the status is ok
  friend bool operator==(const Finding&, const Finding&) = default;
};

bool any_fail(const std::vector<Finding>& findings);

// {"ok": <no fail>, "counts": {"ok": n, "warn": n, "fail": n}, "findings": [{check, subject,
// status, record, fix}, ...]}: the body of GET /api/v1/doctor and of `volleyd doctor --json`.
std::string findings_json(const std::vector<Finding>& findings);

}  // namespace volley::doctor
