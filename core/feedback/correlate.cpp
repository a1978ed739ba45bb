#include "core/feedback/correlate.hpp"

#include <algorithm>
#include <memory>

#include <nlohmann/json.hpp>

#include "core/smtp/reply.hpp"
#include "core/util/ascii.hpp"

namespace volley::feedback {

namespace {

using nlohmann::json;
using events::Outcome;
using events::OutcomeKind;

constexpr std::size_t kMessageIdChars = 24;  // a recipient id is "<message id>-<index>"

std::string domain_of(const std::string& address) {
  const auto at = address.rfind('@');
  return at == std::string::npos ? std::string() : util::ascii_lower(address.substr(at + 1));
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// The reply a DSN recipient reports, as the classifier reads replies.
smtp::Reply reported_reply(const DsnRecipient& r) {
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

ReportEvent located(Outcome event, Located where) {
  if (!where.rcpt_id.empty()) {
    event.rcpt_id = where.rcpt_id;
    event.message_id = where.rcpt_id.substr(0, kMessageIdChars);
  } else if (!where.message_id.empty()) {
    event.message_id = where.message_id;
  }
  return ReportEvent{std::move(event), std::move(where)};
}

std::vector<ReportEvent> dsn_events(const Dsn& dsn, const std::vector<std::string>& envelope_recipients,
                                    const delivery::ReturnPaths& paths, const delivery::ReplyClassifier& classifier) {
  std::vector<ReportEvent> out;
  std::size_t failed = 0;
  for (const auto& r : dsn.recipients) failed += r.action == "failed" ? 1 : 0;
  for (const auto& r : dsn.recipients) {
    // Delayed, delivered, relayed, expanded: nothing has failed (yet).
    if (r.action != "failed") continue;
    Outcome o;
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
    o.report_json = dump(report);
    auto where = locate(paths, envelope_recipients, dsn.original, failed);
    // Several failed recipients resolved to one recipient message (a VERP address, or the
    // original's X-Volley-ID): one event for it.
    const bool seen = !where.rcpt_id.empty() && std::any_of(out.begin(), out.end(), [&](const ReportEvent& e) {
      return e.where.rcpt_id == where.rcpt_id;
    });
    if (!seen) out.push_back(located(std::move(o), std::move(where)));
  }
  return out;
}

ReportEvent arf_event(const Arf& arf, const std::vector<std::string>& envelope_recipients,
                      const delivery::ReturnPaths& paths) {
  Outcome o;
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
  o.report_json = dump(report);
  return located(std::move(o), locate(paths, envelope_recipients, arf.original, 1));
}

}  // namespace

std::string feedback_type(const std::string& reported) {
  static const std::vector<std::string> known = {"abuse", "fraud", "virus", "other", "not-spam", "auth-failure"};
  for (const auto& k : known)
    if (reported == k) return k;
  return reported.empty() ? "abuse" : "other";
}

Located locate(const delivery::ReturnPaths& paths, const std::vector<std::string>& envelope_recipients,
               const OriginalHeaders& original, std::size_t report_recipients) {
  Located where;
  std::vector<std::string> verp;
  for (const auto& r : envelope_recipients) {
    if (auto id = paths.recipient_id(r); !id.empty()) verp.push_back(std::move(id));
  }
  if (verp.size() == 1 && report_recipients <= 1) {
    where.rcpt_id = verp.front();
    return where;
  }
  // Signed (see core/delivery/return_path.hpp): a made-up or altered id verifies to "".
  const std::string volley_id = paths.verified_id(original.volley_id);
  if (delivery::looks_like_recipient_id(volley_id)) {
    where.rcpt_id = volley_id;
  } else if (delivery::looks_like_message_id(volley_id)) {
    where.message_id = volley_id;
  } else if (auto id = paths.recipient_id(original.return_path); !id.empty()) {
    where.rcpt_id = std::move(id);
  } else if (verp.size() == 1) {
    where.rcpt_id = verp.front();
  }
  return where;
}

std::vector<ReportEvent> report_events(const Report& report, const std::vector<std::string>& envelope_recipients,
                                       const delivery::ReturnPaths& paths, const delivery::ReplyClassifier& classifier) {
  switch (report.kind) {
    case Report::Kind::dsn: return dsn_events(report.dsn, envelope_recipients, paths, classifier);
    case Report::Kind::arf: {
      std::vector<ReportEvent> out;
      out.push_back(arf_event(report.arf, envelope_recipients, paths));
      return out;
    }
    case Report::Kind::unrecognised: break;
  }
  return {};
}

void apply_history(Outcome& o, std::string_view history_record) {
  const auto j = json::parse(history_record, nullptr, false);
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
    auto extras = std::make_shared<events::MessageExtras>();
    if (tags) {
      for (const auto& t : j["tags"])
        if (t.is_string()) extras->tags.push_back(t.get<std::string>());
    }
    if (metadata) extras->metadata_json = j["metadata"].dump();
    o.extras = std::move(extras);
  }
}

}  // namespace volley::feedback
