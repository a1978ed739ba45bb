// volleyctl: the operator's command line for a running volleyd (docs/volleyctl.md). It speaks
// the HTTP API only, so it works against any daemon it can reach, and exits 0 (done), 1 (the
// daemon said no) or 2 (unreachable, timed out, or bad usage) with one line on stderr.
#include <cstdlib>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "ctl/commands.hpp"
#include "ctl/errors.hpp"
#include "ctl/http.hpp"

using namespace volley::ctl;

namespace {

// The daemon's default [http] listen (core/config/config.hpp).
constexpr const char* kDefaultUrl = "http://127.0.0.1:8025";

std::string env_or(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : std::move(fallback);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"volleyctl: steer a running volleyd through its HTTP API"};
  app.require_subcommand(1);
  std::string url = env_or("VOLLEY_URL", kDefaultUrl);
  std::string key = env_or("VOLLEY_API_KEY", "");
  std::string cacert = env_or("VOLLEY_CACERT", "");
  double timeout = 10;
  bool json = false;
  app.add_option("--url", url, "API address (default $VOLLEY_URL or " + std::string(kDefaultUrl) + ")");
  app.add_option("--key", key, "API key (default $VOLLEY_API_KEY)");
  app.add_option("--cacert", cacert,
                 "https: trust only the CA certificates of this PEM file (default $VOLLEY_CACERT, else the system's)");
  app.add_option("--timeout", timeout, "seconds to wait for each answer")->default_val(10)->check(CLI::PositiveNumber);
  app.add_flag("--json", json, "print the daemon's JSON instead of tables");

  QueuesArgs queues;
  auto* q = app.add_subcommand("queues", "destination queues, deepest first");
  q->add_option("--domain", queues.domain, "only this destination domain");
  q->add_option("--pool", queues.pool, "only destinations served by this IP pool's sources");

  ScopeArgs scope;
  const std::vector<std::string> kinds{"domain", "pool", "source"};
  for (const char* action : {"suspend", "resume", "bounce"}) {
    auto* s = app.add_subcommand(action, std::string(action) + " a domain's, pool's or source's mail");
    s->add_option("kind", scope.kind, "domain, pool or source")->required()->check(CLI::IsMember(kinds));
    s->add_option("name", scope.name, "its name")->required();
    if (std::string(action) == "suspend") s->add_option("--duration", scope.duration, "e.g. 30m, 2h (default: until resumed)");
    if (std::string(action) != "resume") s->add_option("--reason", scope.reason, "why (shown in queues and logs)");
    s->callback([&scope, action] { scope.action = action; });
  }

  std::string message_id;
  auto* m = app.add_subcommand("message", "a message's status and every event of its recipients");
  m->add_option("id", message_id, "message id or recipient id")->required();

  SuppressionArgs sup;
  auto* su = app.add_subcommand("suppressions", "the suppression list");
  su->require_subcommand(1);
  su->add_option("--tenant", sup.tenant, "another tenant's list (admin keys)");
  auto* sl = su->add_subcommand("list", "every entry");
  auto* sa = su->add_subcommand("add", "add an address");
  sa->add_option("email", sup.email)->required();
  sa->add_option("--reason", sup.reason, "default: manual");
  sa->add_option("--description", sup.description);
  auto* sr = su->add_subcommand("remove", "remove an address");
  sr->add_option("email", sup.email)->required();
  auto* si = su->add_subcommand("import", "add the addresses of a CSV file (email[,reason[,category[,description]]])");
  si->add_option("file", sup.file)->required()->check(CLI::ExistingFile);
  auto* se = su->add_subcommand("export", "every entry as CSV on stdout");
  for (auto* s : {sl, sa, sr, si, se}) s->callback([&sup, s] { sup.action = s->get_name(); });

  EventsArgs ev;
  auto* e = app.add_subcommand("events", "recent events, or --follow them as they happen");
  e->add_flag("--follow,-f", ev.follow, "stream events until interrupted");
  e->add_option("--type", ev.types, "only these types (repeat, or comma-separated)")->delimiter(',');
  e->add_option("--domain", ev.domain, "only this recipient domain");
  e->add_option("--id", ev.id, "only this message or recipient id");
  e->add_option("--limit", ev.limit, "without --follow: how many (1-10000)")->check(CLI::Range(1, 10000));
  e->add_option("--count", ev.count, "with --follow: stop after this many events");

  app.add_subcommand("doctor", "check the sending domains' DNS (admin keys)");

  TopArgs top;
  auto* t = app.add_subcommand("top", "live throughput, queue depth and deferring domains");
  t->add_option("--iterations,-n", top.iterations, "screens to show, then exit (default: until interrupted)");
  t->add_option("--interval", top.interval_seconds, "seconds between screens")->default_val(1.0)->check(CLI::PositiveNumber);

  app.add_subcommand("reload", "reload the daemon's configuration (admin keys)");

  std::string shell;
  auto* c = app.add_subcommand("completion", "print a shell completion script");
  c->add_option("shell", shell, "bash")->required()->check(CLI::IsMember({"bash"}));

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "volleyctl: " << e.what() << " (volleyctl --help)\n";
    return kExitUnreachable;
  }

  try {
    const auto* sub = app.get_subcommands().front();
    const std::string name = sub->get_name();
    if (name == "completion") {
      std::cout << bash_completion();
      return kExitOk;
    }
    Client client(parse_url(url), key, std::chrono::milliseconds(static_cast<long long>(timeout * 1000)), cacert);
    Context ctx{client, json};
    if (name == "queues") cmd_queues(ctx, queues);
    else if (name == "suspend" || name == "resume" || name == "bounce") cmd_scope_action(ctx, scope);
    else if (name == "message") cmd_message(ctx, message_id);
    else if (name == "suppressions") cmd_suppressions(ctx, sup);
    else if (name == "events") cmd_events(ctx, ev);
    else if (name == "doctor") cmd_doctor(ctx);
    else if (name == "top") cmd_top(ctx, top);
    else if (name == "reload") cmd_reload(ctx);
    return kExitOk;
  } catch (const Refused& e) {
    std::cerr << "volleyctl: " << e.what() << "\n";
    return kExitRefused;
  } catch (const Unreachable& e) {
    std::cerr << "volleyctl: " << e.what() << "\n";
    return kExitUnreachable;
  } catch (const UsageError& e) {
    std::cerr << "volleyctl: " << e.what() << "\n";
    return kExitUnreachable;
  } catch (const std::exception& e) {
    // A daemon answer that is not the JSON it documents: it said something, but not yes.
    std::cerr << "volleyctl: unexpected answer: " << e.what() << "\n";
    return kExitRefused;
  }
}
