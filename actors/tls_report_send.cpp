// The TLS report actor's sending side (RFC 8460 §5): for each policy domain of a closed period,
// the _smtp._tls TXT record through the DNS actor, then the domain's report to every rua URI:
// https: as a POST of the gzipped report (application/tlsrpt+gzip), mailto: as one mail to all
// mailto: addresses, injected into Volley's own spool like any message (and so DKIM-signed,
// retried and reported like any).
#include <utility>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/tls_report_state.hpp"
#include "core/smtp/wire.hpp"
#include "core/spool/records.hpp"
#include "core/tls_rpt/record.hpp"
#include "core/tls_rpt/report.hpp"
#include "core/util/address_domain.hpp"
#include "core/util/ids.hpp"
#include "core/util/log_fields.hpp"

namespace volley {

namespace {

using nlohmann::json;

json result_json(const std::string& domain, const std::string& report_id, const std::string& method,
                 const std::string& rua, bool ok, const std::string& error) {
  json r = {{"policy-domain", domain}, {"report-id", report_id}, {"method", method}, {"rua", rua},
            {"result", ok ? "ok" : "failed"}};
  if (!error.empty()) r["error"] = error;
  return r;
}

void count_sent(TlsReportSelf self, const std::string& method, bool ok) {
  if (const auto& m = self->state.options.metrics) caf::anon_send(m, tls_atom::value, method, std::string(ok ? "ok" : "failed"));
}

// "https://host[:port]/path" -> host, port, target; nullopt when it is not one.
struct HttpsUrl {
  std::string host;
  std::uint16_t port = 443;
  std::string target = "/";
};

std::optional<HttpsUrl> split_url(const std::string& uri, std::uint16_t default_port) {
  HttpsUrl u;
  u.port = default_port;
  auto rest = std::string_view(uri).substr(8);  // after "https://" (the record parser checked it)
  const auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) u.target = std::string(rest.substr(slash));
  if (authority.find('@') != std::string_view::npos || authority.find('[') != std::string_view::npos) return std::nullopt;
  if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    const auto digits = authority.substr(colon + 1);
    unsigned long port = 0;
    if (digits.empty() || digits.size() > 5 || digits.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
    port = std::stoul(std::string(digits));
    if (port == 0 || port > 65535) return std::nullopt;
    u.port = static_cast<std::uint16_t>(port);
    authority = authority.substr(0, colon);
  }
  if (authority.empty()) return std::nullopt;
  u.host = std::string(authority);
  return u;
}

void post_report(TlsReportSelf self, std::uint64_t run, std::string domain, std::string report_id, std::string uri,
                 std::shared_ptr<const std::string> gz) {
  auto& st = self->state;
  auto url = split_url(uri, st.options.settings.https_port);
  if (!url) {
    count_sent(self, "https", false);
    return delivery_done(self, run, result_json(domain, report_id, "https", uri, false, "not a usable https: URL"));
  }
  // The host's addresses through the DNS actor (the same resolvers as delivery), as the MTA-STS
  // policy fetch does; a name with MX records of its own goes to the system resolver.
  self->request(st.options.dns, st.options.send_timeout, resolve_atom::value, url->host)
      .then(
          [self, run, domain, report_id, uri, gz, url = *url](const dns::MxResolution& r) {
            HttpsRequest req;
            req.host = url.host;
            req.port = url.port;
            req.target = url.target;
            if (r.status == dns::Status::ok && r.implicit_mx && !r.hosts.empty()) req.addresses = r.hosts.front().addresses;
            req.timeout = self->state.options.send_timeout;
            req.post_content_type = "application/tlsrpt+gzip";
            req.post_body = *gz;
            req.user_agent = "Volley-TLSRPT/1";
            auto handle = caf::actor_cast<caf::actor>(self);
            auto metrics = self->state.options.metrics;
            self->state.fetcher->fetch(std::move(req), [handle, metrics, run, domain, report_id, uri](HttpsResponse resp) {
              if (!resp.ok) spdlog::warn("tls_report: report not posted{}", util::log_fields("domain", domain, "rua", uri, "error", resp.error));
              if (metrics) caf::anon_send(metrics, tls_atom::value, std::string("https"), std::string(resp.ok ? "ok" : "failed"));
              caf::anon_send(handle, tls_sent_atom::value, run,
                             result_json(domain, report_id, "https", uri, resp.ok, resp.error).dump());
            });
          },
          [self, run, domain, report_id, uri](const caf::error& err) {
            count_sent(self, "https", false);
            delivery_done(self, run,
                          result_json(domain, report_id, "https", uri, false, "resolving: " + self->system().render(err)));
          });
}

void mail_report(TlsReportSelf self, std::uint64_t run, const std::string& domain, const std::string& report_id,
                 const std::vector<tls_rpt::ReportUri>& to, const tls_rpt::ReportMail& mail_in) {
  auto& st = self->state;
  std::string uris;
  for (const auto& u : to) uris += (uris.empty() ? "" : ",") + u.uri;
  if (!st.inject) {
    count_sent(self, "mailto", false);
    return delivery_done(self, run, result_json(domain, report_id, "mailto", uris, false, "no spool to inject into"));
  }
  tls_rpt::ReportMail mail = mail_in;
  for (const auto& u : to) mail.to.push_back(u.address);
  const std::string text = tls_rpt::render_report_mail(mail);

  spool::NewMessage m;
  auto& rec = m.message;
  rec.id = new_message_id();
  rec.envelope_from = st.options.settings.from;
  rec.campaign = "tlsrpt";
  rec.message_id_header = mail.message_id;
  rec.received_at_ms = now_unix_ms();
  rec.message_size = text.size();
  for (std::size_t i = 0; i < mail.to.size(); ++i) {
    spool::RecipientRecord r;
    r.id = spool::recipient_id(rec.id, static_cast<std::uint32_t>(i));
    r.message_id = rec.id;
    r.recipient = mail.to[i];
    r.domain = util::domain_of(r.recipient);
    m.recipients.push_back(std::move(r));
  }
  rec.recipient_count = static_cast<std::uint32_t>(m.recipients.size());
  m.wire_data = smtp::to_wire_data(text);

  auto batch = std::make_shared<InjectBatch>();
  batch->messages.push_back(std::move(m));
  auto handle = caf::actor_cast<caf::actor>(self);
  auto metrics = st.options.metrics;
  batch->done = [handle, metrics, run, domain, report_id, uris](InjectOutcome o) {
    const bool ok = o.kind == InjectOutcome::Kind::committed;
    if (!ok) spdlog::warn("tls_report: report mail not spooled{}", util::log_fields("domain", domain, "rua", uris, "error", o.error));
    if (metrics) caf::anon_send(metrics, tls_atom::value, std::string("mailto"), std::string(ok ? "ok" : "failed"));
    caf::anon_send(handle, tls_sent_atom::value, run, result_json(domain, report_id, "mailto", uris, ok, o.error).dump());
  };
  caf::anon_send(st.inject, put_atom::value, std::move(batch));
}

// The record is in: the report, then one delivery per https: URI and one mail for the mailto: ones.
void send_domain(TlsReportSelf self, const ClosedPeriod& period, std::uint64_t run, const std::string& domain,
                 const tls_rpt::TlsRptRecord& record) {
  auto& st = self->state;
  const auto& cfg = st.options.settings;
  const std::string unique = new_message_id();
  const std::int64_t start_s = period.aggregate.start_ms() / 1000, end_s = period.end_ms / 1000;
  const std::string report_id = tls_rpt::rfc3339_utc(start_s) + "_" + domain + "_" + unique + "@" + cfg.submitter;
  tls_rpt::ReportInfo info{cfg.organization_name, cfg.contact_info, report_id, start_s, end_s};
  auto gz = std::make_shared<const std::string>(tls_rpt::gzip(tls_rpt::render_report(info, period.aggregate.policies_of(domain))));

  std::vector<tls_rpt::ReportUri> mailto;
  for (const auto& u : record.rua) {
    if (u.kind == tls_rpt::ReportUri::Kind::mailto) {
      mailto.push_back(u);
      continue;
    }
    ++st.runs[run].pending;
    post_report(self, run, domain, report_id, u.uri, gz);
  }
  if (mailto.empty()) return;
  tls_rpt::ReportMail mail;
  mail.from = cfg.from;
  mail.policy_domain = domain;
  mail.submitter = cfg.submitter;
  mail.report_id = report_id;
  mail.message_id = "<" + unique + ".tlsrpt@" + cfg.submitter + ">";
  mail.date_s = now_unix_ms() / 1000;
  mail.filename = tls_rpt::report_filename(cfg.submitter, domain, start_s, end_s, unique);
  mail.report_gz = *gz;
  ++st.runs[run].pending;
  mail_report(self, run, domain, report_id, mailto, mail);
}

}  // namespace

void delivery_done(TlsReportSelf self, std::uint64_t run, json result) {
  auto& runs = self->state.runs;
  auto it = runs.find(run);
  if (it == runs.end()) return;
  if (!result.is_null()) it->second.results.push_back(std::move(result));
  if (--it->second.pending > 0) return;
  if (it->second.promise) it->second.promise->deliver(json{{"reports", std::move(it->second.results)}}.dump());
  runs.erase(it);
}

void send_period(TlsReportSelf self, const ClosedPeriod& period, std::uint64_t run) {
  auto& st = self->state;
  const auto shared = std::make_shared<const ClosedPeriod>(period);
  for (const auto& domain : period.aggregate.domains()) {
    ++st.runs[run].pending;  // the lookup's own share, given back when its deliveries are out
    const auto name = tls_rpt::record_name(domain);
    self->request(st.options.dns, st.options.send_timeout, txt_atom::value, name)
        .then(
            [self, run, domain, name, shared](const dns::TxtResolution& r) {
              std::string why;
              std::optional<tls_rpt::TlsRptRecord> record;
              if (r.status == dns::Status::ok) record = tls_rpt::select_record(r.texts, &why);
              else why = r.status == dns::Status::perm_fail ? "no TXT record" : "lookup failed: " + r.error;
              if (!record) {
                // Most domains publish none: only a record that is there and broken is worth a warning.
                if (r.status == dns::Status::ok && why != "no v=TLSRPTv1 record") spdlog::warn("tls_report: no usable TLSRPT record{}", util::log_fields("domain", domain, "name", name, "error", why));
                return delivery_done(self, run, json{{"policy-domain", domain}, {"result", "no_record"}, {"error", why}});
              }
              send_domain(self, *shared, run, domain, *record);
              delivery_done(self, run, json());
            },
            [self, run, domain](const caf::error& err) {
              delivery_done(self, run, json{{"policy-domain", domain}, {"result", "no_record"},
                                            {"error", "lookup failed: " + self->system().render(err)}});
            });
  }
}

}  // namespace volley
