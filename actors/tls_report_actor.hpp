#pragma once
// The TLS report actor (SMTP TLS Reporting, RFC 8460; docs/auth-tls-reporting.md): delivery
// actors tell it each TLS-relevant session's outcome; it keeps the aggregate per UTC day
// (core/tls_rpt), written to a file beside the spool at most once a minute and at stop so a
// restart does not lose the day; after the day ends, after a random delay of up to an hour, it
// looks up each policy domain's _smtp._tls TXT record and sends the domain its report: to mailto:
// URIs as a mail injected into Volley's own spool, to https: URIs as a POST.
#include <chrono>
#include <cstdint>
#include <string>

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/dns_actor.hpp"
#include "actors/messages.hpp"
#include "actors/metrics_actor.hpp"
#include "core/config/config.hpp"
#include "core/tls_rpt/aggregate.hpp"

namespace boost::asio {
class io_context;
}

namespace volley {

using tls_report_atom = caf::atom_constant<caf::atom("tlsreport")>;  // one session's outcome
using tls_reports_atom = caf::atom_constant<caf::atom("tlsreports")>; // the running aggregate
using tls_send_atom = caf::atom_constant<caf::atom("tlssend")>;       // send reports now
using tls_sent_atom = caf::atom_constant<caf::atom("tlssent")>;       // internal: one delivery done

// One session's outcome and when it happened (unix ms: the day it counts for).
struct TlsSessionRecord {
  tls_rpt::SessionOutcome outcome;
  std::int64_t at_ms = 0;
};

using tls_report_actor = caf::typed_actor<
    // A session's TLS outcome (from delivery actors).
    caf::reacts_to<tls_report_atom, TlsSessionRecord>,
    // The running aggregate and the days waiting to be sent, as JSON (GET /api/v1/tls-reports).
    caf::replies_to<tls_reports_atom>::with<std::string>,
    // Ends the current period now and sends its reports and those of days still waiting; the
    // answer (JSON) says what was sent where, once every report is sent or has failed.
    caf::replies_to<tls_send_atom>::with<std::string>,
    // Where mailed reports are injected: the DKIM signer or the spool (wired after spawn).
    caf::reacts_to<spool_atom, caf::actor>,
    // Internal: the result of one report's delivery (run id, JSON of the result).
    caf::reacts_to<tls_sent_atom, std::uint64_t, std::string>,
    // Internal: the minute timer (saves, notices a new day); a closed day's send timer (its start).
    caf::reacts_to<tick_atom>, caf::reacts_to<tls_send_atom, std::int64_t>,
    // Saves the aggregate and quits; answers true once saved (or false when it could not be).
    caf::replies_to<stop_atom>::with<bool>>;

struct TlsReportOptions {
  Config::TlsReporting settings;  // submitter already resolved (never "")
  std::string state_file;         // where the aggregate is kept; "" = memory only
  dns_actor dns;
  metrics_actor metrics;
  boost::asio::io_context* io = nullptr;  // HTTPS posts run on it
  std::string ca_file;                    // [tls] ca_file, trusted for https: rua servers too
  std::chrono::seconds save_every{60};
  std::chrono::seconds max_send_delay{3600};  // RFC 8460 §4.1: spread after the day ends
  std::chrono::seconds send_timeout{60};      // each POST and each TXT lookup
};

// Throws std::runtime_error when the CA file cannot be loaded (a start-up error). A state file
// that cannot be read is logged and the aggregate starts empty.
tls_report_actor spawn_tls_report_actor(caf::actor_system& system, TlsReportOptions options);

}  // namespace volley

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::TlsSessionRecord)
