#include "actors/feedback_actor.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "core/feedback/correlate.hpp"
#include "core/feedback/report.hpp"
#include "core/util/ids.hpp"
#include "core/util/address_domain.hpp"
#include "core/util/log_fields.hpp"

namespace volley {

namespace {

constexpr auto kLookupTimeout = std::chrono::seconds(30);
constexpr auto kSuppressTimeout = std::chrono::seconds(30);
constexpr auto kEventsTimeout = std::chrono::seconds(90);

struct FeedbackState {
  FeedbackOptions opts;
};

using Self = feedback_actor::stateful_pointer<FeedbackState>;
using Lookups = std::vector<feedback::ReportEvent>;

// The events are written: the listener may say 250.
void write_events(Self self, InboundReportPtr in, std::vector<Outcome> events) {
  auto& st = self->state;
  if (!st.opts.events || events.empty()) {
    in->answer(true, "");
    return;
  }
  self->request(st.opts.events, kEventsTimeout, report_atom::value, std::move(events))
      .then([in](bool) { in->answer(true, ""); },
            [in](const caf::error& err) {
              spdlog::error("feedback: events not written; the sender is asked to retry{}", util::log_fields("peer", in->peer, "error", to_string(err)));
              in->answer(false, "events could not be written, try again later");
            });
}

// Every lookup answered: suppress, write the events, then answer the listener. A lookup that
// failed (the spool did not answer) asks the sender to retry rather than lose the report.
void finish(Self self, InboundReportPtr in, std::shared_ptr<Lookups> lookups, bool lookup_failed) {
  auto& st = self->state;
  if (lookup_failed) {
    in->answer(false, "the report could not be matched now, try again later");
    return;
  }
  std::vector<Outcome> events;
  std::vector<suppression::Entry> entries;
  for (auto& l : *lookups) {
    auto& o = l.event;
    if (o.tenant.empty()) {
      // Nobody to tell and nothing to suppress: a report about mail Volley did not send (or
      // whose history has expired), or a forged one. Logged, not turned into an event.
      spdlog::warn("feedback: report matches no message Volley knows (signed VERP address, X-Volley-ID and "
                   "Return-Path checked); ignored{}",
                   util::log_fields("peer", in->peer, "kind", to_string(o.kind), "recipient", o.recipient));
      continue;
    }
    o.at_ms = now_unix_ms();
    if (auto e = suppression::entry_for(o, st.opts.suppression_policy)) entries.push_back(std::move(*e));
    if (st.opts.metrics) self->send(st.opts.metrics, outcome_atom::value, o);
    events.push_back(std::move(o));
  }
  if (!st.opts.suppressions || entries.empty()) return write_events(self, std::move(in), std::move(events));
  auto shared = std::make_shared<std::vector<Outcome>>(std::move(events));
  // The events are written whatever becomes of the suppressions (failures are logged): the
  // report itself is not lost.
  self->request(st.opts.suppressions, kSuppressTimeout, suppress_atom::value, std::move(entries))
      .then([self, in, shared](bool) { write_events(self, in, std::move(*shared)); },
            [self, in, shared](const caf::error& err) {
              spdlog::error("feedback: suppressions not written{}", util::log_fields("peer", in->peer, "error", to_string(err)));
              write_events(self, in, std::move(*shared));
            });
}

void log_nothing_to_do(const InboundReport& in, const feedback::Report& report) {
  if (report.kind == feedback::Report::Kind::dsn) {
    spdlog::info("feedback: a DSN with no failed recipient (e.g. delayed): nothing to do{}", util::log_fields("peer", in.peer));
  } else if (report.kind == feedback::Report::Kind::unrecognised) {
    spdlog::warn("feedback: not a bounce or feedback report Volley understands{}",
                 util::log_fields("peer", in.peer, "mail_from", in.reverse_path, "bytes", in.content.size(),
                                  "problem", report.problem));
  }
}

void process(Self self, InboundReportPtr in) {
  auto& st = self->state;
  const auto report = feedback::parse_report(in->content);
  auto lookups = std::make_shared<Lookups>(
      feedback::report_events(report, in->recipients, st.opts.return_paths, *st.opts.classifier));
  if (lookups->empty()) log_nothing_to_do(*in, report);
  if (lookups->empty() || !st.opts.spool) return finish(self, std::move(in), std::move(lookups), false);
  auto left = std::make_shared<std::size_t>(lookups->size());
  auto failures = std::make_shared<bool>(false);
  for (std::size_t i = 0; i < lookups->size(); ++i) {
    const auto& l = (*lookups)[i];
    auto done = [self, in, lookups, left, failures, i](const std::string& entry) {
      if (!entry.empty()) feedback::apply_history((*lookups)[i].event, entry);
      if (--*left == 0) finish(self, in, lookups, *failures);
    };
    auto failed = [in, self, lookups, left, failures](const caf::error& err) {
      spdlog::warn("feedback: history lookup failed{}", util::log_fields("peer", in->peer, "error", to_string(err)));
      *failures = true;
      if (--*left == 0) finish(self, in, lookups, true);
    };
    if (!l.where.rcpt_id.empty()) {
      self->request(st.opts.spool, kLookupTimeout, history_atom::value, l.where.rcpt_id).then(done, failed);
    } else if (!l.where.message_id.empty()) {
      self->request(st.opts.spool, kLookupTimeout, history_atom::value, l.where.message_id, l.event.recipient)
          .then(done, failed);
    } else {
      done(std::string());
    }
  }
}

feedback_actor::behavior_type behaviour(Self self, FeedbackOptions opts) {
  self->state.opts = std::move(opts);
  return {
      [self](report_atom, InboundReportPtr& in) {
        if (!in) return;
        try {
          process(self, std::move(in));
        } catch (const std::exception& e) {
          // The parser promises not to throw; if anything does, the sender retries later.
          spdlog::error("feedback: report not processed{}", util::log_fields("error", e.what()));
        }
      },
      [self](reload_atom, std::shared_ptr<const delivery::ReplyClassifier>& classifier, suppression::Policy& policy) {
        self->state.opts.classifier = std::move(classifier);
        self->state.opts.suppression_policy = std::move(policy);
      },
  };
}

}  // namespace

feedback_actor spawn_feedback_actor(caf::actor_system& sys, FeedbackOptions opts) {
  if (!opts.classifier) opts.classifier = std::make_shared<const delivery::ReplyClassifier>(delivery::ReplyClassifier::builtin());
  if (opts.own_thread) return sys.spawn<caf::detached>(behaviour, std::move(opts));
  return sys.spawn(behaviour, std::move(opts));
}

}  // namespace volley
