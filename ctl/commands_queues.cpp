// The commands an operator steers delivery with: queues, suspend/resume/bounce, doctor, reload.
#include <algorithm>
#include <iostream>

#include <nlohmann/json.hpp>

#include "core/doctor/finding.hpp"
#include "core/doctor/table.hpp"
#include "core/util/join.hpp"
#include "ctl/commands.hpp"
#include "ctl/table.hpp"

namespace volley::ctl {

using nlohmann::json;

namespace {

std::string num(const json& j, const char* key) { return j.contains(key) ? std::to_string(j[key].get<std::int64_t>()) : "-"; }

// A name that goes into a path as it is: the daemon matches it literally.
void check_name(const std::string& kind, const std::string& name) {
  if (name.empty() || name.find_first_of("/?#% \t\r\n") != std::string::npos)
    throw UsageError("not a " + kind + " name: \"" + name + "\"");
}

}  // namespace

void cmd_queues(Context& ctx, const QueuesArgs& a) {
  std::string target = "/api/v1/queues";
  if (!a.domain.empty()) target += "?domain=" + percent_encode(a.domain);
  if (!a.pool.empty()) target += std::string(a.domain.empty() ? "?" : "&") + "pool=" + percent_encode(a.pool);
  const auto r = ctx.client.get(target);
  const json body = expect_ok(r, ctx.json);
  if (ctx.json) return print_raw(r.body);
  std::vector<json> queues(body.at("queues").begin(), body.at("queues").end());
  std::stable_sort(queues.begin(), queues.end(), [](const json& x, const json& y) {
    if (x.value("queued", 0) != y.value("queued", 0)) return x.value("queued", 0) > y.value("queued", 0);
    return x.value("domain", std::string()) < y.value("domain", std::string());
  });
  Table t;
  t.header = {"DOMAIN / SOURCE", "QUEUED", "READY", "DEFERRED", "OLDEST", "STATE", "CONNS", "BACKOFF", "RATE"};
  t.numeric = {false, true, true, true, true, false, true, true, true};
  for (const auto& q : queues) {
    std::string state = q.value("state", std::string());
    if (q.contains("suspended") && !q["suspended"].value("reason", std::string()).empty())
      state += " (" + q["suspended"].value("reason", std::string()) + ")";
    t.add({q.value("domain", std::string()), num(q, "queued"), num(q, "ready"), num(q, "deferred"),
           q.contains("oldest_age_seconds") ? format_age(q["oldest_age_seconds"].get<std::int64_t>()) : "-", state,
           num(q, "connections"), "", ""});
    for (const auto& s : q.value("sources", json::array())) {
      t.add({"  " + s.value("source", std::string()), "", num(s, "ready"), "", "", "", num(s, "connections"),
             num(s, "backoff_level"), s.value("current_message_rate", std::string("-"))});
    }
  }
  std::cout << render(t);
  if (queues.empty()) std::cout << "(no queues)\n";
  if (body.contains("scheduled") && body["scheduled"].value("messages", 0) > 0)
    std::cout << "scheduled (held until their send_at): " << body["scheduled"].value("messages", 0) << " messages, "
              << body["scheduled"].value("recipients", 0) << " recipients\n";
}

void cmd_scope_action(Context& ctx, const ScopeArgs& a) {
  check_name(a.kind, a.name);
  const std::string collection = a.kind == "domain" ? "queues" : a.kind == "pool" ? "pools" : "sources";
  json body = json::object();
  if (!a.reason.empty()) body["reason"] = a.reason;
  if (!a.duration.empty()) body["duration"] = a.duration;
  const auto r = ctx.client.request("POST", "/api/v1/" + collection + "/" + a.name + "/" + a.action, body.dump());
  const json answer = expect_ok(r, ctx.json);
  if (ctx.json) return print_raw(r.body);
  const std::string what = a.kind + " " + a.name;
  if (a.action == "suspend") {
    std::cout << "suspended " << what;
    if (answer.contains("until_ms")) std::cout << " until " << format_time(answer["until_ms"].get<std::int64_t>()) << " UTC";
    if (!answer.value("reason", std::string()).empty()) std::cout << " (" << answer.value("reason", std::string()) << ")";
    std::cout << "\n";
  } else if (a.action == "resume") {
    std::cout << (answer.value("resumed", false) ? "resumed " + what : what + " was not suspended") << "\n";
  } else {
    std::cout << "bounced " << answer.value("bounced", 0) << " queued recipient messages of " << what << "\n";
  }
}

void cmd_doctor(Context& ctx) {
  const auto r = ctx.client.get("/api/v1/doctor");
  const json body = expect_ok(r, ctx.json);
  if (ctx.json) return print_raw(r.body);
  std::vector<doctor::Finding> findings;
  for (const auto& f : body.at("findings")) {
    const std::string status = f.value("status", std::string());
    findings.push_back({f.value("check", std::string()), f.value("subject", std::string()),
                        status == "fail" ? doctor::Status::fail : status == "warn" ? doctor::Status::warn : doctor::Status::ok,
                        f.value("record", std::string()), f.value("fix", std::string())});
  }
  std::cout << doctor::render_table(findings, kWidth);
}

void cmd_reload(Context& ctx) {
  const auto r = ctx.client.request("POST", "/api/v1/reload");
  const json body = expect_ok(r, ctx.json);
  if (ctx.json) return print_raw(r.body);
  using names = std::vector<std::string>;
  std::cout << "reloaded; changed: " << util::joined(body.value("changed", names{}), "nothing") << "\n";
  if (const auto restart = body.value("restart_required", names{}); !restart.empty())
    std::cout << "needs a restart to change: " << util::joined(restart) << "\n";
}

}  // namespace volley::ctl
