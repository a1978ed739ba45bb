#pragma once
// The SMTP submission service (RFC 6409) behind net/smtp_listener: who may submit (AUTH PLAIN or
// LOGIN against [[submission_user]], or a client in [submission] trusted_networks), what (the
// user's sender domains, limits, line ends), and where a message goes: turned into a raw-form
// request and taken by the same intake as the HTTP API (api/message_intake.hpp: validation,
// pool, suppression list), then the same spool path (DKIM signer, spool). The client gets
// `250 2.0.0 Ok: queued as <id>` only after the spool's synced write.
//
// Replies: AUTH before TLS 530 5.7.0 (core/smtp); bad credentials 535 5.7.8 after a delay that
// grows per client address, five failures in a row lock the address out (421 4.7.0);
// MAIL without AUTH from outside trusted_networks 530 5.7.0; a MAIL FROM or From: domain not the
// user's 550 5.7.1; the user's max_messages exceeded 451 4.7.1; max_recipients 452 4.5.3; a bare
// LF or CR 554 5.6.0; an invalid header section 554 5.6.0; too large 552 5.3.4; disk full or the
// spool failing 451 4.3.0 (MAIL: 452 4.3.1).
//
// Mail from a trusted network without AUTH belongs to [submission] trusted_tenant, has no
// sender-domain restriction and leaves from the pool the rules choose.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>

#include "api/message_intake.hpp"
#include "core/config/config.hpp"
#include "net/smtp_listener.hpp"

#include "api/reloadable_pools.hpp"

namespace volley::api {

class DiskGuard;

struct SubmissionConfig {
  Config::Submission settings;
  std::vector<Config::SubmissionUser> users;
  caf::actor spool;  // receives (put_atom, InjectBatchPtr): the DKIM signer, or the spool actor
  message::PrepareOptions prepare;
  PoolsRef pools = pools_ref(delivery::IpPools::builtin("localhost"));
  std::shared_ptr<const storage::SuppressionList> suppressions;  // null: no list
  // As InjectionApiConfig::on_suppressed: after the spool committed the message.
  std::function<void(std::vector<SuppressedRecipient>)> on_suppressed;
  std::shared_ptr<DiskGuard> disk_guard;  // null: never refuses
};

class Submission {
 public:
  explicit Submission(SubmissionConfig config);
  ~Submission();  // waits for password checks in progress
  Submission(const Submission&) = delete;
  Submission& operator=(const Submission&) = delete;

  // A reload's new [[submission_user]] list (any thread): new AUTHs use it; sessions already
  // authenticated keep their user until they end.
  std::function<void(std::vector<Config::SubmissionUser>)> users_updater();
  // For SmtpListenerOptions::policy: one policy per session.
  SmtpPolicyFactory policy_factory();
  // volley_submission_messages_total{tenant,result}, volley_submission_auth_successes_total,
  // volley_submission_auth_failures_total, volley_submission_auth_lockouts_total (Prometheus text).
  std::string render_metrics() const;

  struct Shared;

 private:
  std::shared_ptr<Shared> shared_;
};

}  // namespace volley::api
