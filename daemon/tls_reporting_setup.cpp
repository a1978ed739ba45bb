#include "daemon/tls_reporting_setup.hpp"

#include <chrono>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>
#include "core/util/log_fields.hpp"

namespace volley {

tls_report_actor start_tls_reporting(caf::actor_system& sys, boost::asio::io_context& io, const Config& cfg,
                                     dns_actor dns, metrics_actor metrics) {
  if (!cfg.tls_reporting.enabled) return {};
  TlsReportOptions o;
  o.settings = cfg.tls_reporting;
  if (o.settings.submitter.empty()) o.settings.submitter = cfg.hostname;
  // Beside the spool's own files: the day's aggregate lives as long as the spool does.
  o.state_file = cfg.spool.path + "/tls-reports.json";
  o.dns = std::move(dns);
  o.metrics = std::move(metrics);
  o.io = &io;
  o.ca_file = cfg.tls.ca_file;
  auto actor = spawn_tls_report_actor(sys, std::move(o));
  spdlog::info("tls_report: TLS reporting (RFC 8460) on{}",
               util::log_fields("submitter", cfg.tls_reporting.submitter.empty() ? cfg.hostname : cfg.tls_reporting.submitter));
  return actor;
}

void stop_tls_reporting(caf::actor_system& sys, const tls_report_actor& reports) {
  if (!reports) return;
  caf::scoped_actor self{sys};
  self->request(reports, std::chrono::seconds(30), stop_atom::value)
      .receive([](bool) {}, [&](const caf::error& err) { spdlog::warn("tls_report: actor did not stop cleanly{}", util::log_fields("error", sys.render(err))); });
}

}  // namespace volley
