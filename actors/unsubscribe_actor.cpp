#include "actors/unsubscribe_actor.hpp"

#include <set>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "core/feedback/correlate.hpp"
#include "core/unsubscribe/records.hpp"
#include "core/util/ascii.hpp"
#include "core/util/ids.hpp"
#include "core/util/log_fields.hpp"

namespace volley {
namespace {

constexpr auto kSuppressTimeout = std::chrono::seconds(30);
constexpr auto kEventsTimeout = std::chrono::seconds(90);
constexpr auto kLookupTimeout = std::chrono::seconds(30);

struct UnsubscribeState {
  UnsubscribeOptions opts;
  std::set<std::string> writing;  // tenant '\0' normalised address, while its entry is written
};

using Self = unsubscribe_actor::stateful_pointer<UnsubscribeState>;

void unsubscribe(Self self, UnsubscribeRequestPtr req) {
  auto& st = self->state;
  const auto now = now_unix_ms();
  std::string error;
  auto entry = unsubscribe::entry_for(req->who, req->source, now, &error);
  if (!entry) {
    spdlog::warn("unsubscribe: refused, nothing written{}", util::log_fields("address", req->who.address, "tenant", req->who.tenant, "error", error));
    return req->done(true);
  }
  std::string key = entry->tenant + '\0' + entry->email;
  std::string reason;
  if (st.writing.count(key) != 0 ||
      (st.opts.list->contains(entry->tenant, entry->email, &reason) && reason == unsubscribe::kReason))
    return req->done(true);  // a repeat: one entry, one event
  st.writing.insert(key);
  auto event = unsubscribe::event_for(req->who, req->source, now);
  auto finish = [self, req, key](bool ok) {
    self->state.writing.erase(key);
    req->done(ok);
  };
  self->request(st.opts.suppressions, kSuppressTimeout, suppress_atom::value, std::vector<suppression::Entry>{*entry})
      .then(
          [self, finish, event](bool) {
            auto& st = self->state;
            if (st.opts.metrics) self->send(st.opts.metrics, outcome_atom::value, event);
            if (!st.opts.events) return finish(true);
            // The unsubscribe holds once the entry is written: an event that cannot be written is
            // logged, and the answer is still yes.
            self->request(st.opts.events, kEventsTimeout, report_atom::value, std::vector<Outcome>{event})
                .then([finish](bool) { finish(true); },
                      [finish, event](const caf::error& err) {
                        spdlog::error("unsubscribe: event not written{}", util::log_fields("rcpt_id", event.rcpt_id, "error", to_string(err)));
                        finish(true);
                      });
          },
          [finish, req](const caf::error& err) {
            spdlog::error("unsubscribe: suppression not written{}",
                          util::log_fields("address", req->who.address, "tenant", req->who.tenant, "error", to_string(err)));
            finish(false);
          });
}

// The recipient ids named by the mail's mailto recipients (tags checked).
std::vector<std::string> mailto_ids(const UnsubscribeOptions& opts, const InboundReport& in) {
  std::vector<std::string> ids;
  for (const auto& rcpt : in.recipients) {
    const auto at = rcpt.rfind('@');
    if (at == std::string::npos || !util::ascii_iequals(rcpt.substr(at + 1), opts.mailto_domain)) continue;
    std::string id = opts.key->mailto_rcpt_id(rcpt.substr(0, at));
    if (id.empty()) {
      spdlog::warn("unsubscribe: mail to an address Volley did not make (tag checked); ignored{}", util::log_fields("peer", in.peer, "rcpt", rcpt));
      continue;
    }
    ids.push_back(std::move(id));
  }
  return ids;
}

void process_mail(Self self, InboundReportPtr in) {
  auto& st = self->state;
  auto ids = mailto_ids(st.opts, *in);
  if (ids.empty() || !st.opts.spool) return in->answer(true, "");
  struct Progress {
    std::size_t left = 0;
    bool failed = false;
  };
  auto progress = std::make_shared<Progress>(Progress{ids.size(), false});
  auto one_done = [in, progress](bool ok) {
    if (!ok) progress->failed = true;
    if (--progress->left > 0) return;
    if (progress->failed) return in->answer(false, "the unsubscribe could not be written now, try again later");
    in->answer(true, "");
  };
  for (auto& id : ids) {
    self->request(st.opts.spool, kLookupTimeout, history_atom::value, id)
        .then(
            [self, in, id, one_done](const std::string& history) {
              Outcome found;
              found.rcpt_id = id;
              if (!history.empty()) feedback::apply_history(found, history);
              if (found.tenant.empty() || found.recipient.empty()) {
                spdlog::warn("unsubscribe: mail for a message no longer in delivery history; ignored (the one-click URL "
                             "still works){}",
                             util::log_fields("peer", in->peer, "rcpt_id", id));
                return one_done(true);
              }
              auto req = std::make_shared<UnsubscribeRequest>();
              req->who = unsubscribe::Recipient{found.tenant, id, found.recipient, found.campaign};
              req->source = unsubscribe::kMailto;
              req->done = one_done;
              unsubscribe(self, std::move(req));
            },
            [in, one_done](const caf::error& err) {
              spdlog::warn("unsubscribe: history lookup failed{}", util::log_fields("peer", in->peer, "error", to_string(err)));
              one_done(false);
            });
  }
}

unsubscribe_actor::behavior_type behaviour(Self self, UnsubscribeOptions opts) {
  self->state.opts = std::move(opts);
  return {
      [self](unsub_atom, UnsubscribeRequestPtr& req) {
        if (req) unsubscribe(self, std::move(req));
      },
      [self](report_atom, InboundReportPtr& in) {
        if (in) process_mail(self, std::move(in));
      },
  };
}

}  // namespace

unsubscribe_actor spawn_unsubscribe_actor(caf::actor_system& sys, UnsubscribeOptions opts) {
  return sys.spawn(behaviour, std::move(opts));
}

}  // namespace volley
