#pragma once
// volleyd's SMTP submission set-up ([submission], [[submission_user]]): the service built from
// the HTTP injection's own settings (same spool path, pools, suppression list, events), its
// listeners (STARTTLS and implicit TLS), and the `hash-password` command.
#include <memory>
#include <optional>
#include <vector>

#include "api/injection_api.hpp"
#include "api/submission.hpp"
#include "core/config/config.hpp"
#include "net/smtp_listener.hpp"

namespace boost::asio {
class io_context;
}

namespace volley {

class SubmissionService {
 public:
  SubmissionService(const Config& cfg, const api::InjectionApiConfig& injection);
  // Binds the listeners; on failure logs it as critical and returns 1 (0: listening).
  int start(boost::asio::io_context& io);
  void stop();  // closes the listeners (sessions get 421)
  std::vector<SmtpListener*> listeners();  // those started, for the drain (daemon/main.cpp)
  const std::shared_ptr<api::Submission>& service() const { return service_; }

 private:
  const Config& cfg_;
  std::shared_ptr<api::Submission> service_;
  std::optional<SmtpListener> starttls_, implicit_;
};

// nullptr when [submission] has no listener. Otherwise the service, with its metrics added to
// `injection`'s render_metrics (the one /metrics page).
std::unique_ptr<SubmissionService> make_submission(const Config& cfg, api::InjectionApiConfig& injection);

// `volleyd hash-password`: reads one password from stdin (one line, its line end dropped) and
// prints its yescrypt hash for [[submission_user]] password_hash. Returns the exit code.
int run_hash_password();

}  // namespace volley
