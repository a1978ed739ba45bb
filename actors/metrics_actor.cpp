#include "actors/metrics_actor.hpp"

#include <chrono>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "actors/messages.hpp"
#include "actors/process_metrics.hpp"
#include "net/session_cache.hpp"
#include "core/delivery/tempfail.hpp"
#include "core/metrics/idle_destinations.hpp"

namespace volley {

namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string compiler() {
#if defined(__clang__)
  return "clang " __clang_version__;
#elif defined(__GNUC__)
  return "gcc " __VERSION__;
#else
  return "unknown";
#endif
}

Family<Counter>& counter(prometheus::Registry& r, const char* name, const char* help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r);
}
Family<Gauge>& gauge(prometheus::Registry& r, const char* name, const char* help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r);
}

// Families live in the registry; the actor keeps references to them and caches each series so
// an outcome costs a hash lookup or two and one atomic add. Each HELP says what one increment
// is: a message (one per injected message, whatever its recipients) or a recipient message (one
// per recipient of a message).
struct Metrics {
  explicit Metrics(MetricsOptions o) : options(std::move(o)), idle(options.idle_series_ttl.count()) {
    survey(QueueSurvey{});  // every source's series from the start, at 0
  }

  MetricsOptions options;
  metrics::IdleDestinations idle;
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Registry& reg = *registry;

  Family<Counter>& received = counter(
      reg, "volley_messages_received_total",
      "Messages accepted by the injection API and spooled: one per message, whatever its number of recipients");
  Family<Counter>& recipients_received = counter(
      reg, "volley_recipients_received_total",
      "Recipient messages accepted by the injection API and spooled: one per recipient (suppressed ones excluded)");
  Family<Counter>& delivered = counter(reg, "volley_messages_delivered_total",
                                       "Recipient messages delivered (2xx at end of DATA): one per recipient");
  Family<Counter>& deferred = counter(
      reg, "volley_messages_deferred_total",
      "Delivery attempts that ended in a temporary failure: one per recipient and attempt, by kind (category)");
  Family<Counter>& bounced = counter(
      reg, "volley_messages_bounced_total",
      "Recipient messages that failed permanently (5xx, or expired): one per recipient, by bounce category");
  Family<Counter>& expired = counter(
      reg, "volley_messages_expired_total",
      "Recipient messages given up after the maximum queue age: one per recipient (also counted as bounced)");
  Family<Counter>& bounces = counter(
      reg, "volley_bounces_total",
      "Bounced recipient messages by category, one per recipient: type=\"sync\" refused in the SMTP session "
      "(or expired), type=\"async\" reported later by a DSN");
  Family<Counter>& complaints = counter(
      reg, "volley_complaints_total",
      "Feedback-loop reports (ARF) received: one per recipient message reported, by feedback type");
  Family<Counter>& suppressed = counter(
      reg, "volley_suppressed_total",
      "Recipient messages not sent because the address is on the suppression list: one per recipient");
  Family<Counter>& unsubscribes = counter(reg, "volley_unsubscribes_total",
                                          "Unsubscribes (RFC 8058 one-click or mailto), by tenant and source");
  Family<Counter>& events = counter(reg, "volley_events_total",
                                    "Events emitted, by event type: one per recipient message and event");
  Family<Counter>& suppressions_added = counter(
      reg, "volley_suppressions_added_total", "Addresses added to (or renewed on) a suppression list, by source");
  Family<Counter>& webhook_deliveries = counter(
      reg, "volley_webhook_deliveries_total",
      "Webhook POSTs (each a batch of events) finished, by endpoint and result (delivered, failed)");
  Family<Counter>& webhook_events = counter(reg, "volley_webhook_events_delivered_total",
                                            "Events taken by a webhook endpoint (2xx): one per event");
  Family<Gauge>& webhook_queue_depth =
      gauge(reg, "volley_webhook_queue_depth", "Events queued on disk for a webhook endpoint");
  Family<Gauge>& queue_depth =
      gauge(reg, "volley_queue_depth", "Recipient messages queued or deferred, per destination domain");
  Family<Gauge>& connections =
      gauge(reg, "volley_smtp_connections", "Open outbound SMTP connections, per destination domain");
  Family<Gauge>& oldest_age = gauge(reg, "volley_queue_oldest_age_seconds",
                                    "Age of the oldest queued recipient message, per destination domain (every 15 s)");
  Family<Gauge>& source_connections =
      gauge(reg, "volley_source_connections", "Open outbound SMTP connections, per source, over every destination (every 15 s)");
  Family<Gauge>& source_backoff = gauge(
      reg, "volley_source_backoff_level",
      "Highest backoff level of a source's egress paths after 421/rate-limit replies; 0: configured limits (every 15 s)");
  Family<Gauge>& build_info = gauge(reg, "volley_build_info",
                                    "Always 1; the labels say which build of volleyd is running");
  Family<Histogram>& commit_seconds = prometheus::BuildHistogram()
                                          .Name("volley_spool_commit_seconds")
                                          .Help("Duration of one synced spool write (group commit): one per write")
                                          .Register(reg);
  Family<Histogram>& delivery_seconds =
      prometheus::BuildHistogram()
          .Name("volley_delivery_seconds")
          .Help("Time from injection to the final outcome (delivered, bounced, expired): one per recipient message")
          .Register(reg);

  Family<Counter>& tls_sessions = counter(
      reg, "volley_tls_sessions_total",
      "Outbound SMTP sessions by TLS result: verified, encrypted (certificate not verified), clear, failed");
  Family<Counter>& tls_policy_failures = counter(
      reg, "volley_tls_policy_failures_total",
      "Outbound TLS that a policy wanted and did not get, by policy (dane, mta-sts, mta-sts-testing, required, "
      "opportunistic, ...) and reason");
  Family<Counter>& tls_reports_sent = counter(reg, "volley_tls_reports_sent_total",
                                             "SMTP TLS reports (RFC 8460) sent, by method (mailto, https) and result");
  Family<Counter>& dkim_signatures = counter(reg, "volley_dkim_signatures_total",
                                            "DKIM signatures made at injection: one per signature, by d= domain and algorithm");
  Family<Histogram>& dkim_sign_seconds =
      prometheus::BuildHistogram()
          .Name("volley_dkim_sign_seconds")
          .Help("Time to DKIM-sign one message (body hashes and all its signatures): one per signed message")
          .Register(reg);
  Histogram& dkim_sign_hist = dkim_sign_seconds.Add(
      {}, Histogram::BucketBoundaries{0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                      0.01, 0.025, 0.1});

  Counter& received_total = received.Add({});
  // Scheduling (issue 16): held apart from the destinations' queues, so apart from deferrals.
  Gauge& scheduled_messages = gauge(reg, "volley_scheduled_messages",
                                    "Messages held until their send_at or their tenant's sending window, not yet "
                                    "handed to delivery").Add({});
  Gauge& scheduled_recipients = gauge(reg, "volley_scheduled_recipients",
                                      "Recipient messages of the scheduled messages").Add({});
  Counter& recipients_received_total = recipients_received.Add({});
  Histogram& commit_hist = commit_seconds.Add(
      {}, Histogram::BucketBoundaries{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                      0.25, 0.5, 1});
  Histogram& delivery_hist = delivery_seconds.Add(
      {}, Histogram::BucketBoundaries{0.01, 0.05, 0.1, 0.5, 1, 5, 30, 60, 300, 900, 3600, 14400, 86400,
                                      432000});

  // Every series labelled with one destination domain, so that an idle one can be dropped whole.
  struct Destination {
    // Outcome counters, by family name and their other label values.
    std::unordered_map<std::string, std::pair<Family<Counter>*, Counter*>> counters;
    std::unordered_set<std::string> primed_pools;  // pools whose zero series exist
    Gauge* depth = nullptr;
    Gauge* connections = nullptr;
    Gauge* oldest = nullptr;
  };
  std::unordered_map<std::string, Destination> destinations;

  Destination& destination(const std::string& domain) {
    idle.touch(domain, steady_ms());
    return destinations[domain];
  }

  // Outcome counters are labelled by domain, pool and source, and bounces and deferrals also by
  // category (bounce category, or kind of temporary failure).
  // extra: one more label (name, value), e.g. {"type", "async"}; empty name = none.
  Counter& outcome(Family<Counter>& family, const Outcome& o, bool with_category,
                   std::pair<std::string_view, std::string_view> extra = {}) {
    auto& d = destination(o.domain);
    std::string key;
    key.reserve(o.pool.size() + o.source.size() + o.category.size() + extra.second.size() + 40);
    key.append(family.GetName()).append(1, '\0').append(o.pool).append(1, '\0');
    key.append(o.source).append(1, '\0').append(with_category ? o.category : std::string());
    key.append(1, '\0').append(extra.second);
    auto it = d.counters.find(key);
    if (it != d.counters.end()) return *it->second.second;
    prometheus::Labels l{{"domain", o.domain}, {"pool", o.pool}, {"source", o.source}};
    // An empty category is no category (Prometheus reads an empty label as an absent one).
    if (with_category && !o.category.empty()) l.emplace("category", o.category);
    if (!extra.first.empty()) l.emplace(std::string(extra.first), std::string(extra.second));
    return *d.counters.emplace(std::move(key), std::pair{&family, &family.Add(l)}).first->second.second;
  }

  // The first message for a destination in a pool: its outcome series start at zero, so that a
  // rate or ratio over them reads 0 instead of nothing, and the first deferral or bounce is seen
  // as an increase. For each source of the pool: delivered, deferred for each kind of temporary
  // failure, and bounced without a category (categories are many and most never occur for a
  // destination: each appears with its first bounce); expired, which has no source.
  void prime(const std::string& domain, const std::string& pool) {
    auto& d = destination(domain);
    if (!d.primed_pools.insert(pool).second) return;
    Outcome o;
    o.domain = domain;
    o.pool = pool;
    outcome(expired, o, false);
    const auto* p = options.pools.pool(pool);
    if (p == nullptr) return;
    for (const auto& member : p->members) {
      if (options.pools.source(member.source) == nullptr) continue;  // never chosen either
      o.source = member.source;
      o.category.clear();
      outcome(delivered, o, false);
      outcome(bounced, o, false);
      for (const auto kind : delivery::kTempfailKinds) {
        o.category = std::string(delivery::to_string(kind));
        outcome(deferred, o, true);
      }
    }
  }

  void set_gauges(const std::string& domain, std::uint64_t depth, std::uint64_t conns) {
    auto& d = destinations[domain];
    idle.set_busy(domain, depth != 0 || conns != 0, steady_ms());
    prometheus::Labels l{{"domain", domain}};
    if (d.depth == nullptr) d.depth = &queue_depth.Add(l);
    if (d.connections == nullptr) d.connections = &connections.Add(l);
    d.depth->Set(static_cast<double>(depth));
    d.connections->Set(static_cast<double>(conns));
  }

  // A destination's oldest age exists while its depth series does (an idle one is pruned with
  // it); one with nothing queued any more shows 0.
  void survey(const QueueSurvey& s) {
    std::unordered_set<std::string> seen;
    for (const auto& [domain, age] : s.oldest_age_seconds) {
      auto it = destinations.find(domain);
      if (it == destinations.end() || it->second.depth == nullptr) continue;
      if (it->second.oldest == nullptr) it->second.oldest = &oldest_age.Add({{"domain", domain}});
      it->second.oldest->Set(static_cast<double>(age));
      seen.insert(domain);
    }
    for (auto& [domain, d] : destinations)
      if (d.oldest != nullptr && seen.count(domain) == 0) d.oldest->Set(0);
    for (const auto& src : options.pools.sources) {
      auto it = s.sources.find(src.name);
      const auto conns = it == s.sources.end() ? 0 : it->second.first;
      const auto level = it == s.sources.end() ? 0 : it->second.second;
      source_connections.Add({{"source", src.name}}).Set(static_cast<double>(conns));
      source_backoff.Add({{"source", src.name}}).Set(static_cast<double>(level));
    }
  }

  // A reload's sources and pools: a removed source's volley_source_* series go, a new one's start
  // at 0 (the next survey reports it).
  void reload(delivery::IpPools pools) {
    for (const auto& src : options.pools.sources) {
      if (pools.source(src.name) != nullptr) continue;
      source_connections.Remove(&source_connections.Add({{"source", src.name}}));
      source_backoff.Remove(&source_backoff.Add({{"source", src.name}}));
    }
    options.pools = std::move(pools);
    for (const auto& src : options.pools.sources) {
      source_connections.Add({{"source", src.name}});
      source_backoff.Add({{"source", src.name}});
    }
  }

  // Drops the series of destinations idle for idle_series_ttl.
  void prune_idle() {
    for (const auto& domain : idle.take_idle(steady_ms())) {
      auto it = destinations.find(domain);
      if (it == destinations.end()) continue;
      for (auto& [key, series] : it->second.counters) series.first->Remove(series.second);
      if (it->second.depth != nullptr) queue_depth.Remove(it->second.depth);
      if (it->second.connections != nullptr) connections.Remove(it->second.connections);
      if (it->second.oldest != nullptr) oldest_age.Remove(it->second.oldest);
      destinations.erase(it);
    }
  }

  // A series of a family with one label (not a destination's), cached by its value.
  std::unordered_map<std::string, Counter*> labelled;
  Counter& by_label(Family<Counter>& family, const std::string& name, const std::string& value) {
    std::string key = family.GetName() + '\0' + name + '\0' + value;
    auto it = labelled.find(key);
    if (it != labelled.end()) return *it->second;
    return *labelled.emplace(std::move(key), &family.Add({{name, value}})).first->second;
  }

  // volley_unsubscribes_total{tenant,source}: source is the event's category.
  Counter& unsubscribe(const std::string& tenant, const std::string& source) {
    std::string key = std::string("unsubscribe") + '\0' + tenant + '\0' + source;
    auto it = labelled.find(key);
    if (it != labelled.end()) return *it->second;
    return *labelled.emplace(std::move(key), &unsubscribes.Add({{"tenant", tenant}, {"source", source}})).first->second;
  }

  void count(const Outcome& o) {
    by_label(events, "event", to_string(o.kind)).Increment();
    switch (o.kind) {
      case OutcomeKind::delivered: outcome(delivered, o, false).Increment(); break;
      case OutcomeKind::deferred: outcome(deferred, o, true).Increment(); return;
      case OutcomeKind::bounced:
        outcome(bounced, o, true).Increment();
        outcome(bounces, o, true, {"type", "sync"}).Increment();
        break;
      case OutcomeKind::expired:
        outcome(expired, o, false).Increment();
        outcome(bounced, o, true).Increment();
        outcome(bounces, o, true, {"type", "sync"}).Increment();
        break;
      case OutcomeKind::async_bounce: outcome(bounces, o, true, {"type", "async"}).Increment(); return;
      case OutcomeKind::complaint:
        // category holds the feedback type (abuse, fraud, ...)
        outcome(complaints, o, false, {"feedback_type", o.category}).Increment();
        return;
      case OutcomeKind::suppressed: outcome(suppressed, o, false).Increment(); return;
      case OutcomeKind::received: return;
      case OutcomeKind::cancelled: return;  // volley_events_total{event="cancelled"} counts it
      case OutcomeKind::unsubscribe: unsubscribe(o.tenant, o.category).Increment(); return;
    }
    if (o.at_ms >= o.received_at_ms)
      delivery_hist.Observe(static_cast<double>(o.at_ms - o.received_at_ms) / 1000.0);
  }
};

}  // namespace

MetricsHandle spawn_metrics_actor(caf::actor_system& sys, MetricsOptions options) {
  auto metrics = std::make_shared<Metrics>(std::move(options));
  metrics->build_info
      .Add({{"version", metrics->options.version},
            {"build_type", metrics->options.build_type},
            {"compiler", compiler()}})
      .Set(1);
  for (const char* result : {"verified", "encrypted", "clear", "failed"})
    metrics->by_label(metrics->tls_sessions, "result", result);  // at zero, so rates read 0
  // Spawn arguments rather than lambda captures: CAF 0.17's factory for an argument-less
  // function trips UBSan (see the spool actor).
  auto actor = sys.spawn([](metrics_actor::pointer self, std::shared_ptr<Metrics> metrics) -> metrics_actor::behavior_type {
    if (metrics->idle.enabled())
      self->delayed_send(self, std::chrono::milliseconds(metrics->idle.sweep_interval_ms()), tick_atom::value);
    return {
        [metrics](outcome_atom, const Outcome& o) { metrics->count(o); },
        [metrics](commit_atom, double seconds, std::size_t messages, std::size_t recipients) {
          metrics->commit_hist.Observe(seconds);
          metrics->received_total.Increment(static_cast<double>(messages));
          metrics->recipients_received_total.Increment(static_cast<double>(recipients));
          // One "received" event is written per recipient spooled.
          metrics->by_label(metrics->events, "event", "received").Increment(static_cast<double>(recipients));
        },
        [metrics](enqueue_atom, const std::string& domain, const std::string& pool) { metrics->prime(domain, pool); },
        [metrics](scheduled_atom, std::uint64_t messages, std::uint64_t recipients) {
          metrics->scheduled_messages.Set(static_cast<double>(messages));
          metrics->scheduled_recipients.Set(static_cast<double>(recipients));
        },
        [metrics](gauge_atom, const std::string& domain, std::uint64_t depth, std::uint64_t conns) {
          metrics->set_gauges(domain, depth, conns);
        },
        [metrics](gauge_atom, const QueueSurvey& survey) { metrics->survey(survey); },
        [self, metrics](tick_atom) {
          metrics->prune_idle();
          self->delayed_send(self, std::chrono::milliseconds(metrics->idle.sweep_interval_ms()), tick_atom::value);
        },
        [metrics](webhook_atom, const std::string& endpoint, const std::string& result, std::uint64_t events,
                  std::uint64_t depth) {
          if (!result.empty()) {
            metrics->webhook_deliveries.Add({{"endpoint", endpoint}, {"result", result}}).Increment();
            if (result == "delivered")
              metrics->webhook_events.Add({{"endpoint", endpoint}}).Increment(static_cast<double>(events));
          }
          metrics->webhook_queue_depth.Add({{"endpoint", endpoint}}).Set(static_cast<double>(depth));
        },
        [metrics](suppress_atom, const std::string& source) {
          metrics->by_label(metrics->suppressions_added, "source", source).Increment();
        },
        [metrics](tls_atom, const std::string& result, const std::string& policy, const std::string& reason) {
          if (!result.empty()) metrics->by_label(metrics->tls_sessions, "result", result).Increment();
          if (!reason.empty())
            metrics->tls_policy_failures.Add({{"policy", policy}, {"reason", reason}}).Increment();
        },
        [metrics](tls_atom, const std::string& method, const std::string& result) {
          metrics->tls_reports_sent.Add({{"method", method}, {"result", result}}).Increment();
        },
        [metrics](sign_atom, const DkimSignStats& stats) {
          for (const auto& d : stats.signatures) {
            const std::string key = std::string("dkim") + '\0' + d.domain + '\0' + d.algorithm;
            auto it = metrics->labelled.find(key);
            if (it == metrics->labelled.end())
              it = metrics->labelled
                       .emplace(key, &metrics->dkim_signatures.Add({{"domain", d.domain}, {"algorithm", d.algorithm}}))
                       .first;
            it->second->Increment();
          }
          for (double s : stats.message_seconds) metrics->dkim_sign_hist.Observe(s);
        },
        [metrics](reload_atom, delivery::IpPools& pools) { metrics->reload(std::move(pools)); },
        [](stop_atom) {},
    };
  }, metrics);
  auto render = [metrics, cache = metrics->options.session_cache] {
    auto families = metrics->registry->Collect();
    for (auto& f : collect_process_metrics()) families.push_back(std::move(f));
    if (cache) {
      const auto s = cache->stats();
      auto family = [&](const char* name, const char* help, prometheus::MetricType type, double v) {
        prometheus::MetricFamily f;
        f.name = name;
        f.help = help;
        f.type = type;
        prometheus::ClientMetric c;
        (type == prometheus::MetricType::Counter ? c.counter.value : c.gauge.value) = v;
        f.metric.push_back(c);
        families.push_back(std::move(f));
      };
      family("volley_connection_cache_sessions", "Idle SMTP sessions parked for any destination with the same MX host.",
             prometheus::MetricType::Gauge, static_cast<double>(s.parked));
      family("volley_connection_cache_parked_total", "Idle SMTP sessions given to the connection cache.",
             prometheus::MetricType::Counter, static_cast<double>(s.parked_total));
      family("volley_connection_cache_reused_total",
             "SMTP sessions taken from the connection cache by a destination instead of a new connection.",
             prometheus::MetricType::Counter, static_cast<double>(s.taken_total));
      family("volley_connection_cache_connecting",
             "New SMTP connections under way (not yet greeted), counted by the per-host gate (max_connecting_per_host).",
             prometheus::MetricType::Gauge, static_cast<double>(s.connecting));
      family("volley_connection_cache_waiting",
             "Destinations waiting at the per-host gate for a parked session or a connection attempt.",
             prometheus::MetricType::Gauge, static_cast<double>(s.waiting));
    }
    prometheus::TextSerializer serializer;
    return serializer.Serialize(families);
  };
  return MetricsHandle{actor, render};
}

}  // namespace volley
