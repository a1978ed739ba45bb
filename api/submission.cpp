#include "api/submission.hpp"

// Boost 1.74's asio headers use std::exchange without including <utility> (C++20 build).
#include <utility>

#include <chrono>
#include <map>
#include <mutex>
#include <unordered_map>

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <caf/all.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "actors/messages.hpp"
#include "api/disk_guard.hpp"
#include "core/delivery/rate.hpp"
#include "core/smtp/server.hpp"
#include "core/submission/auth_throttle.hpp"
#include "core/submission/message_check.hpp"
#include "core/submission/password.hpp"
#include "core/util/address_domain.hpp"
#include "core/util/cidr.hpp"
#include "core/util/log_fields.hpp"

namespace volley::api {

using smtp::Reply;
using std::chrono::milliseconds;

namespace {

std::int64_t steady_ms() {
  return std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

Reply reply(int code, const char* enhanced, std::string text) { return Reply::synthetic(code, enhanced, std::move(text)); }

std::string escape_label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    out += c == '\n' ? ' ' : c;
  }
  return out;
}

}  // namespace

// What every session of the listener shares: the users, the throttles, the counters.
struct Submission::Shared {
  SubmissionConfig cfg;
  std::vector<util::IpNetwork> trusted;
  boost::asio::thread_pool hashing{1};  // password checks cost milliseconds: off the io thread

  mutable std::mutex mu;  // guards what follows
  // By name. A session keeps the user it authenticated as, even after a reload removes it.
  std::unordered_map<std::string, std::shared_ptr<const Config::SubmissionUser>> users;
  submission::AuthThrottle throttle;
  std::unordered_map<std::string, delivery::RateLimiter> rates;  // by user name
  std::map<std::pair<std::string, std::string>, std::uint64_t> messages;  // (tenant, result)
  std::uint64_t auth_successes = 0, auth_failures = 0, lockouts = 0;

  explicit Shared(SubmissionConfig c)
      : cfg(std::move(c)),
        throttle(submission::AuthThrottle::Options{.lockout = milliseconds(cfg.settings.auth_lockout)}) {
    for (const auto& n : cfg.settings.trusted_networks)
      if (auto net = util::parse_cidr(n)) trusted.push_back(*net);
    set_users(cfg.users);
  }

  // A reload: the new list; an unchanged user's message rate goes on where it was.
  void set_users(const std::vector<Config::SubmissionUser>& list) {
    std::lock_guard lock(mu);
    std::unordered_map<std::string, std::shared_ptr<const Config::SubmissionUser>> next;
    std::unordered_map<std::string, delivery::RateLimiter> next_rates;
    for (const auto& u : list) {
      next.emplace(u.name, std::make_shared<const Config::SubmissionUser>(u));
      if (u.max_messages.unlimited()) continue;
      auto old = users.find(u.name);
      auto rate = rates.find(u.name);
      if (old != users.end() && old->second->max_messages == u.max_messages && rate != rates.end())
        next_rates.emplace(u.name, std::move(rate->second));
      else
        next_rates.emplace(u.name, delivery::RateLimiter(u.max_messages, u.max_messages.count));
    }
    users = std::move(next);
    rates = std::move(next_rates);
  }

  void count(const std::string& tenant, const char* result) {
    std::lock_guard lock(mu);
    ++messages[{tenant, result}];
  }

  bool storage_full() const { return cfg.disk_guard && cfg.disk_guard->refuse(GuardedEdge::submission); }
};

namespace {

// One session's decisions. Its state is shared with the password check running on the hashing
// thread; the check's answer is posted to the session's strand, so what it writes is seen by
// the calls that follow.
class SubmissionPolicy : public SmtpSessionPolicy {
 public:
  SubmissionPolicy(std::shared_ptr<Submission::Shared> shared, const SmtpSessionInfo& info)
      : shared_(std::move(shared)), state_(std::make_shared<State>()) {
    state_->peer = info.peer;
    state_->address = info.address;
    trusted_ = util::in_any_network(shared_->trusted, info.address);
  }

  void auth(smtp::AuthRequest&& request, AuthAnswer answer) override {
    auto shared = shared_;
    std::shared_ptr<const Config::SubmissionUser> user;
    {
      std::lock_guard lock(shared->mu);
      if (shared->throttle.locked(state_->address, steady_ms())) {
        spdlog::warn("submission: AUTH refused: locked out after failed attempts{}", util::log_fields("peer", state_->peer));
        return answer(reply(421, "4.7.0", "Too many failed authentications, try again later"), {});
      }
      if (const auto it = shared->users.find(request.username); it != shared->users.end()) user = it->second;
    }
    // RFC 4616: an authorization identity other than the user's own is not supported.
    const bool authzid_ok = request.authzid.empty() || request.authzid == request.username;
    boost::asio::post(shared->hashing, [shared, state = state_, user, authzid_ok, request = std::move(request),
                                        answer = std::move(answer)]() mutable {
      // An unknown user costs a hash check too: the time taken does not tell which names exist.
      const bool ok = submission::verify_password(request.password, user ? user->password_hash : submission::decoy_hash()) &&
                      user && authzid_ok;
      std::lock_guard lock(shared->mu);
      if (ok) {
        shared->throttle.succeeded(state->address);
        ++shared->auth_successes;
        state->user = user;
        spdlog::info("submission: authenticated{}",
                     util::log_fields("peer", state->peer, "user", user->name, "mechanism", request.mechanism));
        return answer(std::nullopt, {});
      }
      ++shared->auth_failures;
      const auto failure = shared->throttle.failed(state->address, steady_ms());
      if (failure.locked_now) ++shared->lockouts;
      spdlog::warn("submission: AUTH failed{}{}", failure.locked_now ? "; the address is locked out" : "",
                   util::log_fields("peer", state->peer, "mechanism", request.mechanism, "user", request.username.substr(0, 64)));
      answer(reply(535, "5.7.8", "Authentication credentials invalid"), failure.delay);
    });
  }

  std::optional<Reply> mail(const smtp::MailRequest& request) override {
    rcpts_ = 0;
    const auto* user = state_->user.get();
    if (shared_->storage_full()) return reply(452, "4.3.1", "Insufficient system storage, try again later");
    if (!user && !trusted_) return reply(530, "5.7.0", "Authentication required");
    if (request.reverse_path.empty()) return reply(550, "5.7.1", "The null sender cannot submit mail");
    if (!user) return std::nullopt;
    const auto domain = util::domain_of(request.reverse_path);
    if (!submission::sender_domain_allowed(domain, user->sender_domains))
      return reply(550, "5.7.1", "Sender domain " + domain.substr(0, 255) + " is not allowed for this user");
    std::lock_guard lock(shared_->mu);
    if (auto it = shared_->rates.find(user->name); it != shared_->rates.end() && !it->second.try_take(steady_ms())) {
      ++shared_->messages[{user->tenant, "rate_limited"}];
      return reply(451, "4.7.1", "Message rate limit exceeded (" + delivery::format_rate(user->max_messages) +
                                     "), try again later");
    }
    return std::nullopt;
  }

  std::optional<Reply> rcpt(const smtp::RcptRequest&) override {
    const auto* user = state_->user.get();
    if (user && rcpts_ >= user->max_recipients)
      return reply(452, "4.5.3", "Too many recipients (at most " + std::to_string(user->max_recipients) + ")");
    ++rcpts_;
    return std::nullopt;
  }

  void message(smtp::MessageRequest&& m, Answer answer) override {
    const auto* user = state_->user.get();
    const std::string tenant = user ? user->tenant : shared_->cfg.settings.trusted_tenant;
    auto refuse = [&](Reply r, const char* result) {
      shared_->count(tenant, result);
      spdlog::info("submission: message refused{}",
                   util::log_fields("peer", state_->peer, "mail_from", m.reverse_path, "reply", r.summary()));
      answer(std::move(r));
    };
    if (auto bare = submission::bare_line_end(m.content))
      return refuse(reply(554, "5.6.0", "Message refused: " + *bare + " (lines must end with CRLF)"), "rejected");
    if (user) {
      const auto from = submission::header_from_domain(m.content);
      if (!submission::sender_domain_allowed(from, user->sender_domains))
        return refuse(reply(550, "5.7.1", from.empty() ? std::string("Message refused: it needs one readable From: address")
                                                       : "From: domain " + from.substr(0, 255) +
                                                             " is not allowed for this user"),
                      "rejected");
    }
    if (shared_->storage_full()) return refuse(reply(451, "4.3.0", "Insufficient system storage, try again later"), "deferred");

    nlohmann::json request = {{"from", m.reverse_path},
                              {"envelope_from", m.reverse_path},
                              {"bcc", std::move(m.recipients)},
                              {"raw", std::move(m.content)}};
    if (user && !user->pool.empty()) request["pool"] = user->pool;
    auto prepared = prepare_request(request, shared_->cfg.prepare, *shared_->cfg.pools->get(), tenant, "");
    if (auto* err = std::get_if<IntakeError>(&prepared)) {
      if (err->code == "too_large") return refuse(reply(552, "5.3.4", "Message size exceeds fixed maximum message size"), "rejected");
      if (err->status >= 500) return refuse(reply(451, "4.3.0", err->message + ", try again later"), "deferred");
      return refuse(reply(554, "5.6.0", "Message refused: " + err->message), "rejected");
    }
    auto accepted = accept_message(std::get<Prepared>(std::move(prepared)), tenant, shared_->cfg.suppressions.get());
    const std::string id = accepted.answer.value("id", "");
    std::function<void()> report;
    if (!accepted.suppressed.empty() && shared_->cfg.on_suppressed)
      report = [f = shared_->cfg.on_suppressed, list = std::move(accepted.suppressed)]() mutable { f(std::move(list)); };
    auto queued = [shared = shared_, tenant, id, peer = state_->peer, report = std::move(report), answer](bool ok,
                                                                                                          std::string error) {
      if (!ok) {
        shared->count(tenant, "deferred");
        spdlog::error("submission: message not stored{}", util::log_fields("peer", peer, "message_id", id, "error", error));
        return answer(reply(451, "4.3.0", "The message could not be stored, try again later"));
      }
      if (report) report();  // before the answer, as over HTTP
      shared->count(tenant, "queued");
      spdlog::debug("submission: message queued{}", util::log_fields("peer", peer, "message_id", id, "tenant", tenant));
      answer(reply(250, "2.0.0", "Ok: queued as " + id));
    };
    if (!accepted.message) return queued(true, "");  // every recipient suppressed: nothing to store
    auto batch = std::make_shared<InjectBatch>();
    batch->messages.push_back(std::move(*accepted.message));
    batch->done = [queued](InjectOutcome outcome) {
      queued(outcome.kind == InjectOutcome::Kind::committed, outcome.error);
    };
    if (!shared_->cfg.spool) return queued(false, "no spool configured");
    caf::anon_send(shared_->cfg.spool, put_atom::value, std::move(batch));
  }

 private:
  struct State {
    std::string peer, address;
    std::shared_ptr<const Config::SubmissionUser> user;  // after a successful AUTH
  };
  std::shared_ptr<Submission::Shared> shared_;
  std::shared_ptr<State> state_;
  bool trusted_ = false;
  std::size_t rcpts_ = 0;  // accepted in this transaction
};

}  // namespace

Submission::Submission(SubmissionConfig config) : shared_(std::make_shared<Shared>(std::move(config))) {}

Submission::~Submission() { shared_->hashing.join(); }

std::function<void(std::vector<Config::SubmissionUser>)> Submission::users_updater() {
  return [shared = shared_](std::vector<Config::SubmissionUser> users) { shared->set_users(users); };
}

SmtpPolicyFactory Submission::policy_factory() {
  return [shared = shared_](const SmtpSessionInfo& info) -> std::unique_ptr<SmtpSessionPolicy> {
    return std::make_unique<SubmissionPolicy>(shared, info);
  };
}

std::string Submission::render_metrics() const {
  std::lock_guard lock(shared_->mu);
  std::string out =
      "# HELP volley_submission_messages_total Messages submitted over SMTP, by tenant and result "
      "(queued, rejected, deferred, rate_limited).\n"
      "# TYPE volley_submission_messages_total counter\n";
  for (const auto& [key, n] : shared_->messages)
    out += fmt::format("volley_submission_messages_total{{tenant=\"{}\",result=\"{}\"}} {}\n", escape_label(key.first),
                       key.second, n);
  out += fmt::format(
      "# HELP volley_submission_auth_successes_total SMTP AUTH attempts that succeeded.\n"
      "# TYPE volley_submission_auth_successes_total counter\n"
      "volley_submission_auth_successes_total {}\n"
      "# HELP volley_submission_auth_failures_total SMTP AUTH attempts that failed.\n"
      "# TYPE volley_submission_auth_failures_total counter\n"
      "volley_submission_auth_failures_total {}\n"
      "# HELP volley_submission_auth_lockouts_total Client addresses locked out after failed AUTH attempts in a row.\n"
      "# TYPE volley_submission_auth_lockouts_total counter\n"
      "volley_submission_auth_lockouts_total {}\n",
      shared_->auth_successes, shared_->auth_failures, shared_->lockouts);
  return out;
}

}  // namespace volley::api
