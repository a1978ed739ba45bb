// volleyd: wires the actors and the edges together and runs until SIGTERM/SIGINT (then drains);
// SIGHUP reloads the configuration (daemon/reload.hpp).
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iterator>
#include <variant>
#include <vector>
#include <iostream>
#include <optional>
#include <thread>

#include <pthread.h>

#include <utility>  // before Boost.Asio (see build-facts)

#include <CLI/CLI.hpp>
#include <boost/asio.hpp>
#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/actor_timers.hpp"
#include "actors/dkim_signer.hpp"
#include "actors/dns_actor.hpp"
#include "actors/events_actor.hpp"
#include "actors/feedback_actor.hpp"
#include "actors/suppression_actor.hpp"
#include "actors/webhook_actor.hpp"
#include "actors/messages.hpp"
#include "actors/metrics_actor.hpp"
#include "actors/mta_sts_actor.hpp"
#include "actors/recipient_status.hpp"
#include "actors/router.hpp"
#include "actors/spool_actor.hpp"
#include "net/http_server.hpp"
#include "api/api_auth.hpp"
#include "api/disk_guard.hpp"
#include "api/events_api.hpp"
#include "api/injection_api.hpp"
#include "api/queue_admin_api.hpp"
#include "api/tls_report_api.hpp"
#include "net/session_cache.hpp"
#include "net/smtp_listener.hpp"
#include "net/tls_client_context.hpp"
#include "api/suppression_api.hpp"
#include "core/config/config.hpp"
#include "core/delivery/reply_classifier.hpp"
#include "storage/rocksdb_spool.hpp"
#include "storage/rocksdb_logger.hpp"
#include "storage/suppression_list.hpp"
#include "core/util/ascii.hpp"
#include "core/util/address_domain.hpp"
#include "daemon/schedule_setup.hpp"
#include "daemon/dkim_setup.hpp"
#include "daemon/doctor_setup.hpp"
#include "daemon/submission_setup.hpp"
#include "daemon/tls_reporting_setup.hpp"
#include "daemon/unsubscribe_setup.hpp"
#include "daemon/template_setup.hpp"
#include "api/template_api.hpp"
#include "api/lifecycle_api.hpp"
#include "daemon/lifecycle.hpp"
#include "daemon/logging.hpp"
#include "daemon/reload.hpp"
#include "daemon/wiring.hpp"
#include "daemon/check_config.hpp"
#include "daemon/cpu_scheduling.hpp"
#include "core/util/log_fields.hpp"

#ifndef VOLLEY_VERSION
#define VOLLEY_VERSION "0.0.0"
#endif

namespace {

using namespace volley;

// SIGTERM's drain: the API answers 503, the SMTP listeners take no new connection and let the
// transactions in flight finish, delivery starts no new transaction and lets those in flight
// finish; all within one drain_timeout. What is left stays in the spool; inbound sessions still
// open at the deadline are cut (their messages were never acknowledged). The caller then stops
// everything in order (events and webhooks written out first).
void drain(caf::actor_system& sys, const router_actor& router, std::chrono::seconds timeout, int sig,
           std::atomic<bool>& draining, const std::vector<SmtpListener*>& inbound) {
  lifecycle::notify("STOPPING=1\nSTATUS=draining");
  spdlog::info("signal {}: draining: new mail is refused, SMTP transactions in flight get up to {} s{}", sig,
               timeout.count(), util::log_fields("signal", sig, "drain_timeout_s", timeout.count()));
  draining.store(true);
  const auto started = std::chrono::steady_clock::now();
  const auto deadline = started + timeout;
  for (auto* l : inbound) l->drain();
  auto elapsed_ms = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  };
  caf::scoped_actor self{sys};
  self->request(router, timeout, drain_atom::value)
      .receive(
          [&](bool) {
            const auto ms = elapsed_ms();
            spdlog::info("drain: every SMTP session closed after {} ms; queued mail stays in the spool{}", ms,
                         util::log_fields("direction", "outbound", "elapsed_ms", ms));
          },
          [&](const caf::error&) {
            spdlog::warn("drain: {} s passed with transactions still in flight: they are cut now, and their recipients "
                         "are tried again after the next start{}",
                         timeout.count(), util::log_fields("direction", "outbound", "drain_timeout_s", timeout.count()));
          });
  if (inbound.empty()) return;
  SmtpListener::DrainCounts counts;
  bool all_closed = true;
  for (auto* l : inbound) {
    if (!l->wait_drained(deadline)) {
      all_closed = false;
      l->stop();  // cut: each session is sent 421 if it can take it
    }
    const auto c = l->drain_counts();
    counts.finished += c.finished;
    counts.cut += c.cut;
  }
  if (all_closed) {
    const auto ms = elapsed_ms();
    spdlog::info("drain: inbound SMTP sessions: {} let finish their transaction, 0 cut; all closed after {} ms{}",
                 counts.finished, ms, util::log_fields("direction", "inbound", "finished", counts.finished, "cut", 0, "elapsed_ms", ms));
  } else {
    spdlog::warn("drain: inbound SMTP sessions: {} let finish their transaction, {} cut at the {} s deadline (what "
                 "they had not completed was never acknowledged: their clients send it again){}",
                 counts.finished, counts.cut, timeout.count(),
                 util::log_fields("direction", "inbound", "finished", counts.finished, "cut", counts.cut, "drain_timeout_s",
                                  timeout.count()));
  }
}

int run(const std::string& config_path, const Config& cfg, std::shared_ptr<const delivery::ReplyClassifier> classifier,
        std::shared_ptr<const dkim::Signer> dkim_signer) {
  // Caught from the very start, so that a signal during recovery is not fatal either: it waits in
  // the set until lifecycle::run_until_stop() takes it.
  boost::asio::io_context signals_io;
  boost::asio::signal_set signals(signals_io, SIGINT, SIGTERM, SIGHUP);
  caf::actor_system_config caf_cfg;
  // One worker for every two CPUs: the actors' work per message is small, and a worker idle
  // between messages is woken (futex, context switch) for each one. On 2 CPUs, 1 worker instead
  // of 2: futex calls per message 4.8 -> 2.9, context switches 3.1 -> 2.1, CPU per message -7 to -9 %
  // (loadtest/README.md). The sockets' thread, the spool's and the DKIM signers are apart.
  const std::size_t workers =
      cfg.worker_threads != 0 ? cfg.worker_threads : std::max<std::size_t>(1, std::thread::hardware_concurrency() / 2);
  caf_cfg.set("scheduler.max-threads", workers);
  // Work sharing (one queue, workers wait on a condition variable) instead of CAF's default work
  // stealing, whose idle workers poll with short nanosleeps: measured on 2 cores, 10k x 10 KiB
  // messages end to end, volleyd CPU 11 s -> 6.6 s and injection rate +50 %.
  caf_cfg.set("scheduler.policy", caf::atom("sharing"));
  caf::actor_system sys{caf_cfg};
  // The delivery and MTA-STS actors' timers (actors/actor_timers.hpp), let go here only after
  // every actor is done, so that their thread is joined by this one.
  auto timers = std::make_shared<ActorTimers>();
  boost::asio::io_context io{1};
  // Keeps io.run() going while nothing is listening yet (and during shutdown's last messages).
  auto work = boost::asio::make_work_guard(io);
  std::thread io_thread([&io] { io.run(); });
  // The HTTP API's sockets on a thread of their own: a burst of injections is parsed beside the
  // SMTP sessions' work on `io`, not between it (loadtest/README.md, issue 14, round nine). Its
  // handlers touch only thread-safe state (actors, atomics, locked stores) and answer through
  // each connection's strand, as they did from the spool's and the actors' threads already.
  boost::asio::io_context http_io{1};
  auto http_work = boost::asio::make_work_guard(http_io);
  std::thread http_thread([&http_io] {
    pthread_setname_np(pthread_self(), "volley.http");
    http_io.run();
  });
  // Lets both threads finish and waits for them: the last step of every way out of run().
  auto stop_io = [&] {
    work.reset();
    http_work.reset();
    io.stop();
    http_io.stop();
    io_thread.join();
    http_thread.join();
  };

  // Outbound TLS: a CA file that cannot be loaded stops the daemon before anything is served.
  std::shared_ptr<TlsClientContext> tls_client;
  try {
    tls_client = std::make_shared<TlsClientContext>(TlsClientOptions{cfg.tls.ca_file, cfg.delivery.dane});
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    stop_io();
    return 1;
  }
  // The API's HTTPS ([http] tls_certificate): so does a certificate or key that cannot be used.
  std::shared_ptr<boost::asio::ssl::context> api_tls;
  try {
    api_tls = api_tls_context(cfg);
  } catch (const std::exception& e) {
    spdlog::critical("[http] {}", e.what());
    stop_io();
    return 1;
  }

  auto sending_windows = load_sending_windows(cfg);  // [[tenant]] send_window (docs/scheduling.md)
  if (!sending_windows) return stop_io(), 1;
  log_rocksdb_to_spdlog();
  std::string error;
  auto spool = storage::open_spool(cfg.spool.path, &error, {},
                                   [](const std::string& problem) { spdlog::warn("{}", problem); });
  if (!spool) {
    spdlog::critical("spool {}: {}", cfg.spool.path, error);
    stop_io();
    return 1;
  }
  spool->set_reporter([](const std::string& problem) { spdlog::error("spool: {}", problem); });
  const std::string secret = spool->instance_secret(&error);
  if (secret.empty()) {
    spdlog::critical("spool {}: {}", cfg.spool.path, error);
    stop_io();
    return 1;
  }

  auto suppressions = std::shared_ptr<storage::SuppressionList>(
      storage::SuppressionList::open(cfg.suppression.path, &error));
  if (!suppressions) {
    spdlog::critical("suppression list {}: {}", cfg.suppression.path, error);
    stop_io();
    return 1;
  }
  auto templates = open_template_store(cfg, &error);  // stored templates (docs/templates.md)
  if (!templates) {
    spdlog::critical("{}", error);
    stop_io();
    return 1;
  }

  int rc = 0;
  {
    auto session_cache = cfg.delivery.share_connections
                             ? std::make_shared<SessionCache>(1024, cfg.delivery.max_connecting_per_host)
                             : nullptr;
    auto metrics = spawn_metrics_actor(sys, MetricsOptions{cfg.metrics.idle_series_ttl, cfg.ip_pools, VOLLEY_VERSION,
                                                           VOLLEY_BUILD_TYPE, session_cache});
    webhook_actor webhooks;
    if (!cfg.webhooks.empty()) {
      try {
        webhooks = spawn_webhook_actor(sys, io, webhook_options(cfg), metrics.actor);
      } catch (const std::exception& e) {
        spdlog::critical("webhooks: {}", e.what());
        caf::anon_send_exit(metrics.actor, caf::exit_reason::user_shutdown);
        sys.await_all_actors_done();
        stop_io();
        return 1;
      }
    }
    EventsOptions events_opts;
    events_opts.event_log_path = cfg.log.event_log;
    events_opts.event_log_max_size = cfg.log.event_log_max_size;
    events_opts.event_log_keep = cfg.log.event_log_keep;
    events_opts.webhooks = webhooks;
    // Outcomes suppress addresses one way: the events actor (synchronous bounces) and the
    // feedback actor (reports) decide, the suppression actor writes.
    const suppression::Policy suppression_policy(cfg.suppression.bounce_categories, cfg.suppression.complaints);
    auto suppressor = spawn_suppression_actor(sys, SuppressionOptions{suppressions, metrics.actor});
    events_opts.suppressions = suppressor;
    events_opts.suppression_policy = suppression_policy;
    auto events = spawn_events_actor(sys, events_opts);
    auto dns = spawn_dns_actor(sys, io, DnsConfig::from_config(cfg.dns));
    DeliveryContext ctx;
    ctx.timers = timers;
    ctx.settings = delivery_settings(cfg);
    ctx.settings.return_paths = return_paths(cfg, secret);
    ctx.settings.classifier = std::move(classifier);
    ctx.io = &io;
    ctx.dns = dns;
    ctx.metrics = metrics.actor;
    ctx.events = events;
    ctx.tls = tls_client;
    ctx.session_cache = session_cache;
    ctx.windows = *sending_windows;
    // MTA-STS (RFC 8461) when [delivery] mta_sts; without it ctx.mta_sts stays invalid. Its CA
    // file loaded for the TLS client context above, so the policy fetcher cannot fail on it here.
    if (cfg.delivery.mta_sts)
      ctx.mta_sts = spawn_mta_sts_actor(
          sys, io, dns, MtaStsOptions{.enabled = true, .port = cfg.delivery.mta_sts_port, .ca_file = cfg.tls.ca_file, .timers = ctx.timers});
    ctx.tls_reports = start_tls_reporting(sys, io, cfg, dns, metrics.actor);  // its CA file loaded above already
    auto router = spawn_router(sys, ctx);
    auto spool_actor = spawn_spool_actor(sys, std::move(spool), caf::actor_cast<caf::actor>(router), metrics.actor, events,
                                         cfg.events.history_retention);
    // Who does not take the typed handle yet gets the dynamic one (a typed handle in a message
    // would not match their (spool_atom, caf::actor) handlers).
    const auto spool_handle = caf::actor_cast<caf::actor>(spool_actor);
    caf::anon_send(router, spool_atom::value, spool_handle);  // see router_actor: the one late wiring
    caf::anon_send(events, spool_atom::value, spool_handle);
    FeedbackOptions feedback_opts;
    feedback_opts.return_paths = ctx.settings.return_paths;
    feedback_opts.classifier = ctx.settings.classifier;
    feedback_opts.suppression_policy = suppression_policy;
    feedback_opts.suppressions = suppressor;
    feedback_opts.spool = spool_handle;
    feedback_opts.events = events;
    feedback_opts.metrics = metrics.actor;
    auto feedback = spawn_feedback_actor(sys, feedback_opts);
    UnsubscribeService unsubscribe(sys, io, cfg, secret, {suppressions, suppressor, events, metrics.actor, spool_handle});

    {
      caf::scoped_actor self{sys};
      self->request(spool_actor, caf::infinite, recover_atom::value)
          .receive([](std::size_t n) { spdlog::info("spool: recovered {} recipient messages", n); },
                   [&](const caf::error& err) { spdlog::error("spool: recovery failed: {}", sys.render(err)); });
    }

    // After the webhook actor opened its queue: every database directory exists.
    auto disk_guard = std::make_shared<api::DiskGuard>(disk_guard_options(cfg));
    disk_guard->start();

    // With [[dkim]] keys, injected batches are signed on the way to the spool (docs/auth-dkim.md).
    caf::actor signer;
    auto dkim_keys = dkim_signer ? std::make_shared<util::Reloadable<dkim::Signer>>(dkim_signer) : nullptr;
    if (dkim_signer) signer = spawn_dkim_signer(sys, DkimSignerOptions{dkim_keys, spool_handle, metrics.actor, 2});
    api::InjectionApiConfig api_cfg;
    api_cfg.spool = signer ? signer : spool_handle;
    if (ctx.tls_reports) caf::anon_send(ctx.tls_reports, spool_atom::value, api_cfg.spool);
    api_cfg.prepare.hostname = cfg.hostname;
    api_cfg.prepare.max_message_size = cfg.http.max_message_size;
    api_cfg.status = status_lookup(sys, events, spool_handle);
    api_cfg.render_metrics = [render = metrics.render, disk_guard] { return render() + disk_guard->render_metrics(); };
    api_cfg.disk_guard = disk_guard;
    api_cfg.max_pending = static_cast<std::int64_t>(cfg.http.max_pending);
    auto pools = api::pools_ref(ctx.settings.pools);  // a reload may replace them
    api_cfg.pools = pools;
    api_cfg.suppressions = suppressions;
    api_cfg.unsubscribe = unsubscribe.headers();
    api_cfg.templates = templates;
    api_cfg.on_suppressed = [events, metrics_actor = metrics.actor](std::vector<api::SuppressedRecipient> list) {
      auto outcomes = suppressed_events(std::move(list));
      for (const auto& o : outcomes) caf::anon_send(metrics_actor, outcome_atom::value, o);
      caf::anon_send(events, report_atom::value, std::move(outcomes));
    };
    auto submission = make_submission(cfg, api_cfg);  // [submission]: SMTP for applications
    api::SuppressionApiConfig suppression_cfg;
    suppression_cfg.list = suppressions;
    suppression_cfg.disk_guard = disk_guard;
    suppression_cfg.on_added = [metrics_actor = metrics.actor](const suppression::Entry& e) {
      caf::anon_send(metrics_actor, suppress_atom::value, e.source);
    };
    HttpServerOptions http_opts;
    http_opts.tls = api_tls;
    http_opts.max_body_bytes = cfg.http.max_message_size + cfg.http.max_message_size / 2 + 64 * 1024;
    http_opts.body_too_large = api::body_too_large;  // a batch's 413 names the batch limit
    api::QueueAdminConfig admin_cfg{&sys, router, pools};
    api::CancelApiConfig cancel_cfg{&sys, router, api_cfg.status};
    const auto& host = cfg.http.listen.host;
    const bool loopback = host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
    if (cfg.api_keys.empty() && !loopback)
      spdlog::warn("the HTTP API on {} has no [[api_key]]: anyone who can reach it may send mail and control queues",
                   cfg.http.listen.to_string());
    // SIGHUP and POST /api/v1/reload: the reload runs on this (the main) thread.
    auto api_keys = std::make_shared<api::ReloadableApiKeys>(std::make_shared<const api::ApiKeyList>(cfg.api_keys));
    HttpServer* api_server = nullptr;  // the listener made below, whose certificate a reload renews
    // A first [[webhook]] added by a reload starts the webhook actor (its endpoints come with the reload).
    auto start_webhooks = [&sys, &io, &cfg, metrics_actor = metrics.actor, disk_guard] {
      WebhookOptions opts = webhook_options(cfg);
      opts.endpoints.clear();
      auto actor = spawn_webhook_actor(sys, io, std::move(opts), metrics_actor);
      disk_guard->watch({"webhooks", cfg.events.webhook_queue});  // its queue exists now
      return actor;
    };
    SmtpListener* smtp_in_listener = nullptr;  // made below; a reload renews its certificate too
    ReloadTargets reload_targets{&sys, router, events, feedback, webhooks, start_webhooks, api_keys, pools, dkim_keys,
                                 submission ? submission->service()->users_updater() : nullptr, secret,
                                 {}, {}, {}, {}};  // the listeners' certificate renewers: below, when they run TLS
    if (api_tls) reload_targets.set_http_tls = [&api_server](auto tls) { api_server->set_tls(std::move(tls)); };
    if (cfg.smtp_in.listen && !cfg.smtp_in.tls_certificate.empty())
      reload_targets.set_smtp_in_tls = [&smtp_in_listener](auto tls) {
        if (smtp_in_listener) smtp_in_listener->set_tls(std::move(tls));
      };
    if (submission)
      reload_targets.set_submission_tls = [&submission](auto tls) {
        for (auto* l : submission->listeners()) l->set_tls(tls);
      };
    if (cfg.unsubscribe.listen && !cfg.unsubscribe.tls_certificate.empty())
      reload_targets.set_unsubscribe_tls = [&unsubscribe](auto tls) { unsubscribe.set_tls(std::move(tls)); };
    Reloader reloader(config_path, cfg, std::move(reload_targets));
    api::ReloadFn reload_api = [&signals_io, &reloader](std::string who, std::function<void(api::ReloadAnswer)> done) {
      boost::asio::post(signals_io, [&reloader, who = std::move(who), done = std::move(done)] {
        lifecycle::notify("RELOADING=1");
        done(reloader.reload(who));
        lifecycle::notify("READY=1");
      });
    };
    auto draining = std::make_shared<std::atomic<bool>>(false);
    // The API listener's handlers, innermost first: each answers its own paths and passes the
    // rest on to the one it wraps.
    Handler routes = api::make_injection_handler(std::move(api_cfg));
    routes = api::make_cancel_handler(std::move(cancel_cfg), std::move(routes));  // POST .../cancel (docs/scheduling.md)
    routes = api::make_suppression_handler(std::move(suppression_cfg), std::move(routes));
    routes = api::make_template_handler({templates, disk_guard}, std::move(routes));  // /api/v1/templates
    routes = api::make_tls_report_handler({&sys, ctx.tls_reports}, std::move(routes));
    routes = api::make_doctor_handler(doctor_api(cfg, dkim_signer), std::move(routes));  // GET /api/v1/doctor
    routes = api::make_events_handler({&sys, events}, std::move(routes));  // GET /api/v1/events (docs/volleyctl.md)
    routes = api::make_queue_admin_handler(std::move(admin_cfg), std::move(routes));
    routes = api::make_reload_handler(std::move(reload_api), std::move(routes));  // POST /api/v1/reload
    routes = api::make_audit_handler(std::move(routes));  // a log line per change, naming the key
    routes = api::make_auth_handler(api_keys, std::move(routes));  // keys, before all of the above
    // /u/ needs no key; while draining, everything but /metrics is 503.
    HttpServer http(http_io, api::make_drain_gate(draining, unsubscribe.routes(std::move(routes))), http_opts);
    api_server = &http;
    // Bounces and feedback reports: each becomes a report for the feedback actor, answered
    // (250 or 451) once its events are written.
    std::optional<SmtpListener> smtp_in;
    if (cfg.smtp_in.listen) {
      auto smtp_options = listener_options(cfg);
      smtp_options.refuse_for_storage = [disk_guard] { return disk_guard->refuse(api::GuardedEdge::smtp_in); };
      unsubscribe.add_mailto_domain(smtp_options);
      smtp_in.emplace(io, std::move(smtp_options), unsubscribe.mail([feedback](InboundMessage&& m, std::function<void(bool, std::string)> answer) {
        auto report = std::make_shared<InboundReport>();
        report->peer = std::move(m.peer);
        report->reverse_path = std::move(m.reverse_path);
        report->recipients = std::move(m.recipients);
        report->content = std::move(m.content);
        report->answer = std::move(answer);
        caf::anon_send(feedback, report_atom::value, std::move(report));
      }));
      smtp_in_listener = &*smtp_in;
    }
    // The SMTP listeners first and the HTTP API last: its GET /healthz answering is what
    // supervisors and tests take for "every listener is bound".
    if (smtp_in) {
      try {
        smtp_in->start(*cfg.smtp_in.listen);
        spdlog::info("bounce and feedback listener on {}:{}", cfg.smtp_in.listen->host, smtp_in->port());
      } catch (const std::exception& e) {
        spdlog::critical("smtp_in listen {}: {}", cfg.smtp_in.listen->to_string(), e.what());
        rc = 1;
      }
    }

    if (rc == 0 && submission) rc = submission->start(io);

    if (rc == 0 && !unsubscribe.start()) rc = 1;
    if (rc == 0) {
      try {
        http.start(cfg.http.listen);
        spdlog::info("volleyd {}: HTTP API on {}:{}{}, spool {}", VOLLEY_VERSION, cfg.http.listen.host, http.port(),
                     api_tls ? " (HTTPS)" : "", cfg.spool.path);
      } catch (const std::exception& e) {
        spdlog::critical("http listen {}: {}", cfg.http.listen.to_string(), e.what());
        rc = 1;
      }
    }
    if (rc == 0) {
      lifecycle::notify("READY=1\nSTATUS=spool recovered, listeners bound");
      lifecycle::Watchdog watchdog(io, {{"volley.http", &http_io}});
      // On this thread; the io thread keeps serving.
      const int sig = lifecycle::run_until_stop(signals, signals_io, [&] {
        lifecycle::notify("RELOADING=1");
        reloader.reload("signal SIGHUP");
        lifecycle::notify("READY=1");
      });
      std::vector<SmtpListener*> inbound;
      if (smtp_in) inbound.push_back(&*smtp_in);
      if (submission)
        for (auto* l : submission->listeners()) inbound.push_back(l);
      drain(sys, router, cfg.lifecycle.drain_timeout, sig, *draining, inbound);
      watchdog.stop();
    }

    http.stop();
    if (smtp_in) smtp_in->stop();
    if (submission) submission->stop();
    unsubscribe.stop();
    if (signer) caf::anon_send_exit(signer, caf::exit_reason::user_shutdown);
    disk_guard->stop();
    // Reports still being matched answer 451 to their senders, who send them again.
    caf::anon_send_exit(feedback, caf::exit_reason::user_shutdown);
    caf::anon_send(router, stop_atom::value);
    if (session_cache) session_cache->close_all();
    stop_tls_reporting(sys, ctx.tls_reports);
    {
      // The events actor releases spool records as its last act: stop the spool only after it.
      // It waits for the webhook queue to take its last events (at most 60 s).
      caf::scoped_actor self{sys};
      self->request(events, std::chrono::seconds(90), stop_atom::value)
          .receive([](bool) {}, [&](const caf::error& err) {
            spdlog::warn("events actor did not stop cleanly: {}", sys.render(err));
          });
    }
    caf::anon_send(spool_actor, stop_atom::value);
    // After the events actor, the last to send it entries.
    caf::anon_send_exit(suppressor, caf::exit_reason::user_shutdown);
    if (auto webhooks_now = reloader.webhooks()) {  // started at start or by a reload
      caf::scoped_actor self{sys};
      self->request(webhooks_now, std::chrono::seconds(10), stop_atom::value)
          .receive([](bool) {}, [&](const caf::error& err) {
            spdlog::warn("webhook actor did not stop cleanly: {}", sys.render(err));
          });
    }
    if (ctx.mta_sts) caf::anon_send_exit(ctx.mta_sts, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(dns, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(metrics.actor, caf::exit_reason::user_shutdown);
  }
  sys.await_all_actors_done();
  timers.reset();
  stop_io();
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"volleyd: the Volley mail transfer agent"};
  std::string config_path;
  bool print_default = false;
  app.add_option("-c,--config", config_path, "TOML configuration file (default: embedded defaults)");
  app.add_flag("--print-default-config", print_default, "Print the default configuration as TOML and exit");
  std::string check_path;
  app.add_option("--check-config", check_path,
                 "Check a configuration file (with its bounce rules, DKIM keys and time zones) and exit: 0 valid, 2 not");
  app.set_version_flag("--version", std::string("volleyd ") + VOLLEY_VERSION);
  std::string keygen_domain, keygen_selector, keygen_algorithm = "ed25519", keygen_out;
  auto* keygen = app.add_subcommand("dkim-keygen", "Write a DKIM key and print the DNS TXT record to publish");
  keygen->add_option("--domain", keygen_domain, "The signing domain (d=)")->required();
  keygen->add_option("--selector", keygen_selector, "The selector (s=)")->required();
  keygen->add_option("--algorithm", keygen_algorithm, "ed25519 (default) or rsa2048")
      ->check(CLI::IsMember({"ed25519", "rsa2048"}));
  keygen->add_option("--out", keygen_out, "Directory for <domain>.<selector>.pem")->required();
  volley::DoctorCommand doctor(app);  // volleyd doctor --config FILE [--json]
  auto* hash_password = app.add_subcommand("hash-password", "Read a password on stdin, print its hash for [[submission_user]]");
  CLI11_PARSE(app, argc, argv);
  if (doctor.chosen()) return doctor.run();
  if (*hash_password) return volley::run_hash_password();
  if (*keygen) return volley::run_dkim_keygen(keygen_domain, keygen_selector, keygen_algorithm, keygen_out);

  if (print_default) {
    std::cout << volley::default_config_toml();
    return 0;
  }
  if (!check_path.empty()) return volley::check_config(check_path);
  volley::LoadResult loaded;
  if (config_path.empty()) {
    loaded.config = volley::Config{};
  } else {
    loaded = volley::load_config_file(config_path);
  }
  if (!loaded.ok()) {
    std::fprintf(stderr, "volleyd: invalid configuration:\n%s\n", loaded.error.c_str());
    return 2;
  }
  auto classifier = load_classifier(*loaded.config);
  if (auto* error = std::get_if<std::string>(&classifier)) {
    std::fprintf(stderr, "volleyd: invalid bounce rules:\n%s\n", error->c_str());
    return 2;
  }
  spdlog::set_level(spdlog::level::from_str(loaded.config->log.level));
  volley::set_log_format(loaded.config->log.format);
  // First, so that every thread made from here on inherits the policy.
  if (auto why = volley::apply_scheduling_policy(loaded.config->scheduling_policy); !why.empty())
    spdlog::warn("scheduling_policy = \"{}\" not applied, volleyd runs on as it was started: {}",
                 loaded.config->scheduling_policy, why);
  // Before anything is opened: a bad key stops the daemon rather than letting mail leave unsigned.
  std::string dkim_error;
  auto dkim_signer = volley::load_dkim_signer(*loaded.config, &dkim_error);
  if (!dkim_error.empty()) {
    spdlog::critical("dkim: a key cannot be used:\n{}", dkim_error);
    return 1;
  }
  if (dkim_signer) spdlog::info("dkim: {} signing keys loaded", dkim_signer->keys().size());
  return run(config_path, *loaded.config, std::get<std::shared_ptr<const delivery::ReplyClassifier>>(std::move(classifier)),
             std::move(dkim_signer));
}
