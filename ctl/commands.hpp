#pragma once
// volleyctl's commands: each talks to the daemon through the Client, prints either the daemon's
// JSON (--json) or aligned tables, and throws Refused, Unreachable or UsageError to end with
// exit status 1 or 2 (ctl/errors.hpp).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "ctl/http.hpp"

namespace volley::ctl {

struct Context {
  Client& client;
  bool json = false;
};

// The body of an answer with a 2xx status parsed as JSON; otherwise throws Refused with the
// daemon's error message (its error object's, or the status line when there is none).
nlohmann::json expect_ok(const Response& r, bool print_json_error);
// Prints the daemon's JSON body as it came, with a final newline.
void print_raw(const std::string& body);

struct QueuesArgs {
  std::string domain, pool;
};
void cmd_queues(Context& ctx, const QueuesArgs& a);

struct ScopeArgs {
  std::string action;  // suspend, resume, bounce
  std::string kind;    // domain, pool, source
  std::string name;
  std::string duration, reason;
};
void cmd_scope_action(Context& ctx, const ScopeArgs& a);

void cmd_message(Context& ctx, const std::string& id);

struct SuppressionArgs {
  std::string action;  // list, add, remove, import, export
  std::string email, reason, description, file, tenant;
};
void cmd_suppressions(Context& ctx, const SuppressionArgs& a);

struct EventsArgs {
  bool follow = false;
  std::vector<std::string> types;
  std::string domain, id;
  std::uint64_t limit = 100;
  std::uint64_t count = 0;  // follow: stop after this many (0: never)
};
void cmd_events(Context& ctx, const EventsArgs& a);

void cmd_doctor(Context& ctx);

struct TopArgs {
  std::uint64_t iterations = 0;  // 0: until interrupted
  double interval_seconds = 1.0;
};
void cmd_top(Context& ctx, const TopArgs& a);

void cmd_reload(Context& ctx);

// The bash completion script (`volleyctl completion bash`).
std::string bash_completion();

// One event line for people: time, type, recipient, domain and what happened.
std::vector<std::string> event_row(const nlohmann::json& e);

}  // namespace volley::ctl
