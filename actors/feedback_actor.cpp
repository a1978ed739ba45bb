#include "actors/feedback_actor.hpp"

#include <algorithm>
#include <unordered_set>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "actors/messages.hpp"
#include "core/feedback/report.hpp"
#include "core/smtp/reply.hpp"
#include "core/suppression/suppression_list.hpp"
#include "core/util/ascii.hpp"
#include "core/util/ids.hpp"
#include "core/util/address_domain.hpp"

namespace volley {

namespace {

using nlohmann::json;

constexpr auto kLookupTimeout = std::chrono::seconds(30);
constexpr auto kEventsTimeout = std::chrono::seconds(90);
constexpr std::size_t kMessageIdChars = 24;

// One event a report gives, with the key that finds its message in the spool's history.
struct Lookup {
  Outcome event;
  std::string rcpt_id;     // the recipient message, when the report names it
  std::string message_id;  // else the message and event.recipient
};

struct FeedbackState {
  FeedbackOptions opts;
  std::unordered_set<std::string> suppress_categories;
};

using FeedbackActor = caf::stateful_actor<FeedbackState>;

// The feedback types of RFC 5965 and its updates; anything else is "other" (report text is
// hostile, and the type becomes a metric label).
std::string feedback_type(const std::string& reported) {
  static const std::vector<std::string> known = {"abuse", "fraud", "virus", "other", "not-spam", "auth-failure"};
  for (const auto& k : known)
    if (reported == k) return k;
  return reported.empty() ? "abuse" : "other";
}

using util::domain_of;

// Where a report points: the VERP address it came to, else the quoted original's X-Volley-ID,
// else the original's VERP Return-Path. Sets rcpt_id, or message_id (X-Volley-ID of a message
// sent to several recipients in one transaction).
void locate(const FeedbackState& st, const InboundReport& in, const feedback::OriginalHeaders& original,
            std::size_t report_recipients, Lookup& l) {
  const auto& paths = st.opts.return_paths;
  std::vector<std::string> verp;
  for (const auto& r : in.recipients) {
    if (auto id = paths.recipient_id(r); !id.empty()) verp.push_back(std::move(id));
  }
  // A VERP transaction has one recipient, so its DSN is about that one (whatever the report
  // calls the address: forwarding may have changed it).
  if (verp.size() == 1 && report_recipients <= 1) {
    l.rcpt_id = verp.front();
    return;
  }
  // Signed (see core/delivery/return_path.hpp): a made-up or altered id verifies to "".
  const std::string volley_id = paths.verified_id(original.volley_id);
  if (delivery::looks_like_recipient_id(volley_id)) {
    l.rcpt_id = volley_id;
  } else if (delivery::looks_like_message_id(volley_id)) {
    l.message_id = volley_id;
  } else if (auto id = paths.recipient_id(original.return_path); !id.empty()) {
    l.rcpt_id = std::move(id);
  } else if (verp.size() == 1) {
    l.rcpt_id = verp.front();
  }
}

// The reply a DSN recipient reports, as the classifier reads replies.
smtp::Reply reported_reply(const feedback::DsnRecipient& r) {
  std::string text = r.diagnostic_code;
  int code = 0;
  if (text.size() >= 3 && std::all_of(text.begin(), text.begin() + 3, [](char c) { return c >= '0' && c <= '9'; }) &&
      (text.size() == 3 || text[3] == ' ' || text[3] == '-')) {
    code = std::stoi(text.substr(0, 3));
    text = text.size() > 4 ? text.substr(4) : std::string();
  }
  if (code < 400 || code > 599) code = (!r.status.empty() && r.status[0] == '4') ? 450 : 550;
  std::string enhanced = r.status;
  // The enhanced code often repeats at the start of the text: keep it once.
  if (!enhanced.empty() && text.rfind(enhanced, 0) == 0) text = text.substr(std::min(text.size(), enhanced.size() + 1));
  return smtp::Reply::synthetic(code, enhanced, text.empty() ? r.status : text);
}

// Fills what the spool knows about the message (the delivered event, or its queued records).
void apply_history(Outcome& o, const std::string& entry) {
  const auto j = json::parse(entry, nullptr, false);
  if (!j.is_object()) return;
  auto str = [&j](const char* key) { return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string(); };
  if (o.rcpt_id.empty()) o.rcpt_id = str("id");
  o.message_id = str("message_id");
  if (auto r = str("recipient"); !r.empty()) o.recipient = r;
  o.domain = domain_of(o.recipient);
  o.tenant = str("tenant");
  o.campaign = str("campaign");
  o.pool = str("pool");
  o.source = str("source");
  o.mx_host = str("mx_host");
  if (j.contains("received_at") && j["received_at"].is_number_integer()) o.received_at_ms = j["received_at"].get<std::int64_t>();
  const bool tags = j.contains("tags") && j["tags"].is_array() && !j["tags"].empty();
  const bool metadata = j.contains("metadata") && j["metadata"].is_object() && !j["metadata"].empty();
  if (tags || metadata) {
    auto extras = std::make_shared<MessageExtras>();
    if (tags) {
      for (const auto& t : j["tags"])
        if (t.is_string()) extras->tags.push_back(t.get<std::string>());
    }
    if (metadata) extras->metadata_json = j["metadata"].dump();
    o.extras = std::move(extras);
  }
}

std::vector<Lookup> dsn_events(const FeedbackState& st, const InboundReport& in, const feedback::Dsn& dsn) {
  std::vector<Lookup> out;
  const auto& classifier = *st.opts.classifier;
  std::size_t failed = 0;
  for (const auto& r : dsn.recipients) failed += r.action == "failed" ? 1 : 0;
  for (const auto& r : dsn.recipients) {
    // Delayed, delivered, relayed, expanded: nothing has failed (yet).
    if (r.action != "failed") continue;
    Lookup l;
    auto& o = l.event;
    o.kind = OutcomeKind::async_bounce;
    o.recipient = r.original_recipient.empty() ? r.final_recipient : r.original_recipient;
    o.domain = domain_of(o.recipient);
    const auto reply = reported_reply(r);
    o.reply = reply.summary();
    o.category = classifier.classify_permanent(reply).category;
    json report{{"format", dsn.standard ? "rfc3464" : "non-standard"}, {"action", r.action}, {"status", r.status}};
    if (!r.diagnostic_code.empty()) report["diagnostic_code"] = r.diagnostic_code;
    if (!r.remote_mta.empty()) report["remote_mta"] = r.remote_mta;
    if (!dsn.reporting_mta.empty()) report["reporting_mta"] = dsn.reporting_mta;
    if (!r.final_recipient.empty()) report["final_recipient"] = r.final_recipient;
    o.report_json = report.dump(-1, ' ', false, json::error_handler_t::replace);
    locate(st, in, dsn.original, failed, l);
    // Several failed recipients resolved to one recipient message (a VERP address, or the
    // original's X-Volley-ID): one event for it.
    const bool seen = !l.rcpt_id.empty() && std::any_of(out.begin(), out.end(), [&](const Lookup& o) {
      return o.rcpt_id == l.rcpt_id;
    });
    if (!seen) out.push_back(std::move(l));
  }
  return out;
}

Lookup arf_event(const FeedbackState& st, const InboundReport& in, const feedback::Arf& arf) {
  Lookup l;
  auto& o = l.event;
  o.kind = OutcomeKind::complaint;
  o.recipient = !arf.original_rcpt_to.empty() ? arf.original_rcpt_to.front() : arf.original.to;
  // "To:" may be a display form: keep the address inside <...>.
  if (auto open = o.recipient.find('<'), close = o.recipient.find('>'); open != std::string::npos && close > open)
    o.recipient = o.recipient.substr(open + 1, close - open - 1);
  o.domain = domain_of(o.recipient);
  o.category = feedback_type(arf.feedback_type);
  json report{{"format", arf.standard ? "rfc5965" : "non-standard"}, {"feedback_type", o.category}};
  auto put = [&report](const char* key, const std::string& value) {
    if (!value.empty()) report[key] = value;
  };
  put("user_agent", arf.user_agent);
  put("source_ip", arf.source_ip);
  put("arrival_date", arf.arrival_date);
  put("reporting_mta", arf.reporting_mta);
  put("reported_domain", arf.reported_domain);
  put("original_mail_from", arf.original_mail_from);
  put("original_message_id", arf.original.message_id);
  o.report_json = report.dump(-1, ' ', false, json::error_handler_t::replace);
  locate(st, in, arf.original, 1, l);
  return l;
}

// Suppresses the address of an event that calls for it; returns whether it did.
bool maybe_suppress(FeedbackActor* self, const Outcome& o) {
  auto& st = self->state;
  if (!st.opts.suppressions || o.tenant.empty() || o.recipient.empty()) return false;
  suppression::Entry e;
  e.tenant = o.tenant;
  e.email = o.recipient;
  e.category = o.category;
  e.description = o.reply.substr(0, suppression::kMaxDescription);
  if (o.kind == OutcomeKind::complaint) {
    if (!st.opts.suppress_complaints || o.category == "not-spam") return false;
    e.reason = "complaint";
    e.source = "complaint";
    e.description = "feedback type " + o.category;
  } else {
    if (st.suppress_categories.count(o.category) == 0) return false;
    e.reason = "hard_bounce";
    e.source = o.kind == OutcomeKind::async_bounce ? "async_bounce" : "bounce";
  }
  std::string error;
  // Unsynced: RocksDB's log survives a crash of volleyd, and the bounce that caused it is in the
  // event log either way.
  if (!st.opts.suppressions->add(e, false, &error)) {
    spdlog::error("suppression of {} for tenant {} failed: {}", o.recipient, o.tenant, error);
    return false;
  }
  if (st.opts.metrics) self->send(st.opts.metrics, suppress_atom::value, e.source);
  return true;
}

// Every lookup answered: suppress, write the events, then answer the listener. A lookup that
// failed (the spool did not answer) asks the sender to retry rather than lose the report.
void finish(FeedbackActor* self, InboundReportPtr in, std::shared_ptr<std::vector<Lookup>> lookups,
            bool lookup_failed) {
  auto& st = self->state;
  if (lookup_failed) {
    in->answer(false, "the report could not be matched now, try again later");
    return;
  }
  std::vector<Outcome> events;
  for (auto& l : *lookups) {
    auto& o = l.event;
    if (o.tenant.empty()) {
      // Nobody to tell and nothing to suppress: a report about mail Volley did not send (or
      // whose history has expired), or a forged one. Logged, not turned into an event.
      spdlog::warn("feedback from {}: a {} for {} matches no message Volley knows (signed VERP address, "
                   "X-Volley-ID and Return-Path checked); ignored",
                   in->peer, to_string(o.kind), o.recipient);
      continue;
    }
    o.at_ms = now_unix_ms();
    maybe_suppress(self, o);
    if (st.opts.metrics) self->send(st.opts.metrics, outcome_atom::value, o);
    events.push_back(std::move(o));
  }
  if (!st.opts.events || events.empty()) {
    in->answer(true, "");
    return;
  }
  self->request(st.opts.events, kEventsTimeout, report_atom::value, std::move(events))
      .then([in](bool) { in->answer(true, ""); },
            [in](const caf::error& err) {
              spdlog::error("feedback from {}: events not written: {}", in->peer, to_string(err));
              in->answer(false, "events could not be written, try again later");
            });
}

void process(FeedbackActor* self, InboundReportPtr in) {
  auto& st = self->state;
  const auto report = feedback::parse_report(in->content);
  auto lookups = std::make_shared<std::vector<Lookup>>();
  switch (report.kind) {
    case feedback::Report::Kind::dsn:
      *lookups = dsn_events(st, *in, report.dsn);
      if (lookups->empty())
        spdlog::info("feedback from {}: a DSN with no failed recipient (e.g. delayed): nothing to do", in->peer);
      break;
    case feedback::Report::Kind::arf:
      lookups->push_back(arf_event(st, *in, report.arf));
      break;
    case feedback::Report::Kind::unrecognised:
      spdlog::warn("feedback from {} (MAIL FROM <{}>, {} bytes): not a bounce or feedback report Volley "
                   "understands: {}",
                   in->peer, in->reverse_path, in->content.size(), report.problem);
      break;
  }
  if (lookups->empty() || !st.opts.spool) return finish(self, std::move(in), std::move(lookups), false);
  auto left = std::make_shared<std::size_t>(lookups->size());
  auto failures = std::make_shared<bool>(false);
  for (std::size_t i = 0; i < lookups->size(); ++i) {
    auto& l = (*lookups)[i];
    auto done = [self, in, lookups, left, failures, i](const std::string& entry) {
      auto& o = (*lookups)[i].event;
      if (!entry.empty()) apply_history(o, entry);
      if (--*left == 0) finish(self, in, lookups, *failures);
    };
    auto failed = [self, in, lookups, left, failures](const caf::error& err) {
      spdlog::warn("feedback from {}: history lookup failed: {}", in->peer, to_string(err));
      *failures = true;
      if (--*left == 0) finish(self, in, lookups, true);
    };
    if (!l.rcpt_id.empty()) {
      l.event.rcpt_id = l.rcpt_id;
      l.event.message_id = l.rcpt_id.substr(0, kMessageIdChars);
      self->request(st.opts.spool, kLookupTimeout, history_atom::value, l.rcpt_id).then(done, failed);
    } else if (!l.message_id.empty()) {
      l.event.message_id = l.message_id;
      self->request(st.opts.spool, kLookupTimeout, history_atom::value, l.message_id, l.event.recipient)
          .then(done, failed);
    } else {
      done(std::string());
    }
  }
}

}  // namespace

caf::actor spawn_feedback_actor(caf::actor_system& sys, FeedbackOptions opts) {
  if (!opts.classifier) opts.classifier = std::make_shared<const delivery::ReplyClassifier>(delivery::ReplyClassifier::builtin());
  return sys.spawn<caf::detached>(
      [](FeedbackActor* self, FeedbackOptions opts) -> caf::behavior {
        self->state.opts = std::move(opts);
        for (const auto& c : self->state.opts.suppress_categories) self->state.suppress_categories.insert(c);
        return {
            [self](report_atom, InboundReportPtr& in) {
              if (!in) return;
              try {
                process(self, std::move(in));
              } catch (const std::exception& e) {
                // The parser promises not to throw; if anything does, the sender retries later.
                spdlog::error("feedback: report not processed: {}", e.what());
              }
            },
            [self](suppress_atom, const Outcome& o) { maybe_suppress(self, o); },
        };
      },
      std::move(opts));
}

}  // namespace volley
