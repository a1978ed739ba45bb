#pragma once
// SIGHUP and POST /api/v1/reload: the configuration file is read and checked again, as at start,
// and what can change without a restart is handed to the components that hold it. A file that
// does not load changes nothing (every problem is logged, with file, line and key). A section that
// changed but is only read at start (listen addresses, the spool's path, ...) is named in a warning
// and keeps its running value until the next start. docs/operations.md lists both kinds.
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "actors/feedback_actor.hpp"
#include "actors/router.hpp"
#include "actors/webhook_actor.hpp"
#include "api/api_auth.hpp"
#include "api/reloadable_pools.hpp"
#include "api/lifecycle_api.hpp"
#include "core/config/config.hpp"
#include "core/dkim/signer.hpp"
#include "core/util/reloadable.hpp"

namespace boost::asio::ssl {
class context;
}

namespace volley {

// Who takes the new values. An empty member: that part is not running (its section then needs a
// restart to take effect).
struct ReloadTargets {
  caf::actor_system* system = nullptr;         // for asking the webhook actor
  router_actor router;                         // shaping, routes, bounce rules, sending windows
  events_actor events;                         // suppression policy
  feedback_actor feedback;                     // bounce rules, suppression policy
  webhook_actor webhooks;                      // endpoints (invalid: none configured yet)
  // Starts the webhook actor, with no endpoint, for a first [[webhook]] added by a reload; throws
  // std::runtime_error when its queue cannot be opened. Null: never started by a reload.
  std::function<webhook_actor()> start_webhooks;
  std::shared_ptr<api::ReloadableApiKeys> api_keys;
  api::PoolsRef pools;                         // pools and pool rules of the API edges
  std::shared_ptr<util::Reloadable<dkim::Signer>> dkim;  // null: no [[dkim]] at start
  std::function<void(std::vector<Config::SubmissionUser>)> submission_users;  // null: no listener
  std::string secret;                          // the spool's instance secret (return paths)
  // How the [http], [smtp_in], [submission] and [unsubscribe] listeners give their new
  // connections a renewed certificate (their PEM files are read again at every reload). Null: that
  // listener does not run with TLS (turning TLS on or off needs a restart).
  using RenewTls = std::function<void(std::shared_ptr<boost::asio::ssl::context>)>;
  RenewTls set_http_tls, set_smtp_in_tls, set_submission_tls, set_unsubscribe_tls;
};

class Reloader {
 public:
  // path: the file volleyd was started with ("" = embedded defaults: nothing to reload).
  Reloader(std::string path, Config running, ReloadTargets targets);

  // Reads the file again and applies it. who: "signal SIGHUP", "key=ops" (for the log).
  // Thread-safe (one reload at a time).
  api::ReloadAnswer reload(const std::string& who);

  // The webhook actor running now (invalid: none), which a reload may have started: stopped last
  // at shutdown.
  webhook_actor webhooks();

 private:
  // The [[webhook]] endpoints of next, or why not ("": taken).
  std::string reload_webhooks(const std::vector<Config::Webhook>& next);

  // The listeners' certificates of next, each loaded; or why not ("": all loaded).
  struct ListenerTls {
    const char* table;
    const ReloadTargets::RenewTls* renew;
    std::shared_ptr<boost::asio::ssl::context> context;
  };
  std::string load_listener_tls(const Config& next, std::vector<ListenerTls>* out) const;
  // Hands each loaded context to its listener; names those whose certificate changed.
  void apply_listener_tls(const Config& next, std::vector<ListenerTls>& loaded, Config& applied,
                          std::vector<std::string>& changed);

  std::mutex mu_;
  std::string path_;
  Config running_;
  ReloadTargets targets_;
  // The certificate each listener serves now (by table name), to tell a renewed one.
  std::map<std::string, std::shared_ptr<boost::asio::ssl::context>> listener_tls_;
};

}  // namespace volley
