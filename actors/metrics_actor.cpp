#include "actors/metrics_actor.hpp"

#include <memory>
#include <unordered_map>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "actors/messages.hpp"

namespace volley {

namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

// Families live in the registry; the actor keeps references to them and caches each domain's
// series so an outcome costs one hash lookup and one atomic add.
struct Metrics {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  Family<Counter>& received = prometheus::BuildCounter()
                                  .Name("volley_messages_received_total")
                                  .Help("Messages accepted by the injection API and spooled")
                                  .Register(*registry);
  Family<Counter>& delivered = prometheus::BuildCounter()
                                   .Name("volley_messages_delivered_total")
                                   .Help("Recipient messages delivered (2xx at end of DATA)")
                                   .Register(*registry);
  Family<Counter>& deferred = prometheus::BuildCounter()
                                  .Name("volley_messages_deferred_total")
                                  .Help("Delivery attempts that ended in a temporary failure")
                                  .Register(*registry);
  Family<Counter>& bounced = prometheus::BuildCounter()
                                 .Name("volley_messages_bounced_total")
                                 .Help("Recipient messages that failed permanently (5xx or expired)")
                                 .Register(*registry);
  Family<Counter>& expired = prometheus::BuildCounter()
                                 .Name("volley_messages_expired_total")
                                 .Help("Recipient messages given up after the maximum queue age")
                                 .Register(*registry);
  Family<Counter>& bounces = prometheus::BuildCounter()
                                .Name("volley_bounces_total")
                                .Help("Bounces by category: type=\"sync\" refused in the SMTP session (or expired), "
                                      "type=\"async\" reported later by a DSN")
                                .Register(*registry);
  Family<Counter>& complaints = prometheus::BuildCounter()
                                    .Name("volley_complaints_total")
                                    .Help("Feedback-loop reports (ARF) received, by feedback type")
                                    .Register(*registry);
  Family<Counter>& suppressed = prometheus::BuildCounter()
                                    .Name("volley_suppressed_total")
                                    .Help("Recipients not sent because their address is on the suppression list")
                                    .Register(*registry);
  Family<Counter>& events = prometheus::BuildCounter()
                                .Name("volley_events_total")
                                .Help("Events emitted, by event type")
                                .Register(*registry);
  Family<Counter>& suppressions_added = prometheus::BuildCounter()
                                            .Name("volley_suppressions_added_total")
                                            .Help("Addresses added to (or renewed on) a suppression list, by source")
                                            .Register(*registry);
  Family<Counter>& webhook_deliveries = prometheus::BuildCounter()
                                            .Name("volley_webhook_deliveries_total")
                                            .Help("Webhook POSTs finished, by endpoint and result (delivered, failed)")
                                            .Register(*registry);
  Family<Counter>& webhook_events = prometheus::BuildCounter()
                                        .Name("volley_webhook_events_delivered_total")
                                        .Help("Events taken by a webhook endpoint (2xx)")
                                        .Register(*registry);
  Family<Gauge>& webhook_queue_depth = prometheus::BuildGauge()
                                           .Name("volley_webhook_queue_depth")
                                           .Help("Events queued on disk for a webhook endpoint")
                                           .Register(*registry);
  Family<Gauge>& queue_depth = prometheus::BuildGauge()
                                   .Name("volley_queue_depth")
                                   .Help("Recipient messages queued or deferred, per destination domain")
                                   .Register(*registry);
  Family<Gauge>& connections = prometheus::BuildGauge()
                                   .Name("volley_smtp_connections")
                                   .Help("Open outbound SMTP connections, per destination domain")
                                   .Register(*registry);
  Family<Histogram>& commit_seconds = prometheus::BuildHistogram()
                                          .Name("volley_spool_commit_seconds")
                                          .Help("Duration of one synced spool write (group commit)")
                                          .Register(*registry);
  Family<Histogram>& delivery_seconds = prometheus::BuildHistogram()
                                            .Name("volley_delivery_seconds")
                                            .Help("Time from injection to final outcome")
                                            .Register(*registry);

  Counter& received_total = received.Add({});
  Histogram& commit_hist = commit_seconds.Add(
      {}, Histogram::BucketBoundaries{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                      0.25, 0.5, 1});
  Histogram& delivery_hist = delivery_seconds.Add(
      {}, Histogram::BucketBoundaries{0.01, 0.05, 0.1, 0.5, 1, 5, 30, 60, 300, 900, 3600, 14400, 86400,
                                      432000});

  struct DomainSeries {
    Gauge* depth;
    Gauge* connections;
  };
  std::unordered_map<std::string, DomainSeries> domains;

  DomainSeries& domain(const std::string& d) {
    auto it = domains.find(d);
    if (it != domains.end()) return it->second;
    prometheus::Labels l{{"domain", d}};
    return domains.emplace(d, DomainSeries{&queue_depth.Add(l), &connections.Add(l)}).first->second;
  }

  // Outcome counters are labelled by domain, pool and source, and bounces and deferrals also by
  // category (bounce category, or kind of temporary failure); cached by their label values.
  std::unordered_map<std::string, Counter*> outcome_series;

  // extra: one more label (name, value), e.g. {"type", "async"}; empty name = none.
  Counter& outcome(Family<Counter>& family, const Outcome& o, bool with_category,
                   std::pair<std::string_view, std::string_view> extra = {}) {
    std::string key;
    key.reserve(o.domain.size() + o.pool.size() + o.source.size() + o.category.size() + extra.second.size() + 24);
    key.append(family.GetName()).append(1, '\0').append(o.domain).append(1, '\0').append(o.pool).append(1, '\0');
    key.append(o.source).append(1, '\0').append(with_category ? o.category : std::string());
    key.append(1, '\0').append(extra.second);
    auto it = outcome_series.find(key);
    if (it != outcome_series.end()) return *it->second;
    prometheus::Labels l{{"domain", o.domain}, {"pool", o.pool}, {"source", o.source}};
    if (with_category) l.emplace("category", o.category);
    if (!extra.first.empty()) l.emplace(std::string(extra.first), std::string(extra.second));
    return *outcome_series.emplace(std::move(key), &family.Add(l)).first->second;
  }

  // A series of a family with one label, cached by its value.
  Counter& by_label(Family<Counter>& family, const std::string& name, const std::string& value) {
    std::string key = family.GetName() + '\0' + name + '\0' + value;
    auto it = outcome_series.find(key);
    if (it != outcome_series.end()) return *it->second;
    return *outcome_series.emplace(std::move(key), &family.Add({{name, value}})).first->second;
  }
};

}  // namespace

MetricsHandle spawn_metrics_actor(caf::actor_system& sys) {
  auto metrics = std::make_shared<Metrics>();
  // Spawn arguments rather than lambda captures: CAF 0.17's factory for an argument-less
  // function trips UBSan (see the spool actor).
  auto actor = sys.spawn([](caf::event_based_actor*, std::shared_ptr<Metrics> metrics) -> caf::behavior {
    return {
        [metrics](outcome_atom, const Outcome& o) {
          const char* type = to_string(o.kind);
          metrics->by_label(metrics->events, "event", type).Increment();
          switch (o.kind) {
            case OutcomeKind::delivered: metrics->outcome(metrics->delivered, o, false).Increment(); break;
            case OutcomeKind::deferred: metrics->outcome(metrics->deferred, o, true).Increment(); return;
            case OutcomeKind::bounced:
              metrics->outcome(metrics->bounced, o, true).Increment();
              metrics->outcome(metrics->bounces, o, true, {"type", "sync"}).Increment();
              break;
            case OutcomeKind::expired:
              metrics->outcome(metrics->expired, o, false).Increment();
              metrics->outcome(metrics->bounced, o, true).Increment();
              metrics->outcome(metrics->bounces, o, true, {"type", "sync"}).Increment();
              break;
            case OutcomeKind::async_bounce:
              metrics->outcome(metrics->bounces, o, true, {"type", "async"}).Increment();
              return;
            case OutcomeKind::complaint:
              // category holds the feedback type (abuse, fraud, ...)
              metrics->outcome(metrics->complaints, o, false, {"feedback_type", o.category}).Increment();
              return;
            case OutcomeKind::suppressed:
              metrics->outcome(metrics->suppressed, o, false).Increment();
              return;
            case OutcomeKind::received: return;
          }
          if (o.at_ms >= o.received_at_ms)
            metrics->delivery_hist.Observe(static_cast<double>(o.at_ms - o.received_at_ms) / 1000.0);
        },
        [metrics](commit_atom, double seconds, std::size_t messages) {
          metrics->commit_hist.Observe(seconds);
          metrics->received_total.Increment(static_cast<double>(messages));
        },
        [metrics](gauge_atom, const std::string& domain, std::uint64_t depth, std::uint64_t conns) {
          auto& d = metrics->domain(domain);
          d.depth->Set(static_cast<double>(depth));
          d.connections->Set(static_cast<double>(conns));
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
        [](stop_atom) {},
    };
  }, metrics);
  auto render = [metrics] {
    prometheus::TextSerializer serializer;
    return serializer.Serialize(metrics->registry->Collect());
  };
  return MetricsHandle{actor, render};
}

}  // namespace volley
