#include "core/doctor/finding.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace volley::doctor {

const char* to_string(Status s) {
  switch (s) {
    case Status::ok: return "ok";
    case Status::warn: return "warn";
    case Status::fail: return "fail";
  }
  return "fail";
}

bool any_fail(const std::vector<Finding>& findings) {
  return std::any_of(findings.begin(), findings.end(), [](const Finding& f) { return f.status == Status::fail; });
}

std::string findings_json(const std::vector<Finding>& findings) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  std::size_t counts[3] = {0, 0, 0};
  for (const auto& f : findings) {
    ++counts[static_cast<int>(f.status)];
    list.push_back({{"check", f.check},
                    {"subject", f.subject},
                    {"status", to_string(f.status)},
                    {"record", f.record},
                    {"fix", f.fix}});
  }
  const nlohmann::ordered_json out = {{"ok", !any_fail(findings)},
                              {"counts", {{"ok", counts[0]}, {"warn", counts[1]}, {"fail", counts[2]}}},
                              {"findings", std::move(list)}};
  // Records are DNS bytes from anywhere: replace what is not UTF-8 rather than throw.
  return out.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace volley::doctor
