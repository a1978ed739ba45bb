#pragma once
// The TLS report actor's state, shared by its two files: tls_report_actor.cpp (aggregation,
// days, saving, the protocol) and tls_report_send.cpp (one period's reports out: the TXT lookup,
// the HTTPS POSTs, the mails).
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>
#include <nlohmann/json.hpp>

#include "actors/tls_report_actor.hpp"
#include "core/tls_rpt/aggregate.hpp"
#include "net/https_fetch.hpp"

namespace volley {

// A period whose reports are due: a whole UTC day, or what an operator's send cut short.
struct ClosedPeriod {
  tls_rpt::Aggregate aggregate;
  std::int64_t end_ms = 0;
};

// One sending of reports: its deliveries still out, what the finished ones said, and the
// operator's request to answer when all are done (none for a day's timer).
struct SendRun {
  std::size_t pending = 0;
  nlohmann::json results = nlohmann::json::array();
  std::optional<caf::typed_response_promise<std::string>> promise;
};

struct TlsReportState {
  TlsReportOptions options;
  std::unique_ptr<HttpsFetcher> fetcher;
  caf::actor inject;                   // the DKIM signer or the spool
  tls_rpt::Aggregate current;
  std::vector<ClosedPeriod> closed;    // waiting for their send timer
  bool dirty = false;                  // changed since last saved
  std::uint64_t next_run = 1;
  std::map<std::uint64_t, SendRun> runs;
  std::mt19937_64 random{std::random_device{}()};
  static inline const char* name = "tls_report_actor";
};

using TlsReportSelf = tls_report_actor::stateful_pointer<TlsReportState>;

// tls_report_send.cpp: sends every domain's report of `period` as run `run` (already in
// state.runs); each delivery's result arrives as (tls_sent_atom, run, result JSON).
void send_period(TlsReportSelf self, const ClosedPeriod& period, std::uint64_t run);
// Counts one finished delivery (or lookup) of run `run`; answers its promise when it was the last.
void delivery_done(TlsReportSelf self, std::uint64_t run, nlohmann::json result);

}  // namespace volley
