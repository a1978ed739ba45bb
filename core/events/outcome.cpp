#include "core/events/outcome.hpp"

#include <charconv>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/util/utf8.hpp"

namespace volley::events {

const char* to_string(OutcomeKind k) {
  switch (k) {
    case OutcomeKind::delivered: return "delivered";
    case OutcomeKind::deferred: return "deferred";
    case OutcomeKind::bounced: return "bounced";
    case OutcomeKind::expired: return "expired";
    case OutcomeKind::received: return "received";
    case OutcomeKind::suppressed: return "suppressed";
    case OutcomeKind::async_bounce: return "async_bounce";
    case OutcomeKind::complaint: return "complaint";
    case OutcomeKind::unsubscribe: return "unsubscribe";
    case OutcomeKind::cancelled: return "cancelled";
  }
  return "unknown";
}

namespace {

// Writes the line directly: every delivered message makes one, and building it as an nlohmann
// object (a std::map per event, then dump) was most of the events actor's time. The text is the
// same as nlohmann's dump of that object (tests/unit/events/outcome_test.cpp keeps the two side by
// side): keys in sorted order, strings unescaped where JSON allows, and any string that needs
// escaping or is not well-formed UTF-8 handed to nlohmann's own serializer, which escapes it and
// replaces bad bytes exactly as before.
class Line {
 public:
  explicit Line(std::string& out) : out_(out) { out_ += '{'; }
  ~Line() { out_ += '}'; }
  Line(const Line&) = delete;
  Line& operator=(const Line&) = delete;

  void key(std::string_view k) {
    if (!first_) out_ += ',';
    first_ = false;
    out_ += '"';
    out_ += k;  // our own names: nothing to escape
    out_ += "\":";
  }
  void string(std::string_view k, std::string_view v) {
    key(k);
    put(out_, v);
  }
  template <class Int>
  void number(std::string_view k, Int v) {
    key(k);
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
  }
  void boolean(std::string_view k, bool v) {
    key(k);
    out_ += v ? "true" : "false";
  }

  static void put(std::string& out, std::string_view v) {
    bool plain = true;
    for (const unsigned char c : v)
      if (c < 0x20 || c == '"' || c == '\\') {
        plain = false;
        break;
      }
    if (plain && util::valid_utf8(v)) {
      out += '"';
      out += v;
      out += '"';
      return;
    }
    out += nlohmann::json(std::string(v)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }

 private:
  std::string& out_;
  bool first_ = true;
};

}  // namespace

// Metadata and report are JSON objects already (checked at injection, built by Volley): spliced
// in rather than parsed again.
std::string to_json(const Outcome& o) {
  std::string out;
  out.reserve(320 + o.reply.size() + o.report_json.size() + (o.extras ? o.extras->metadata_json.size() : 0));
  {
    Line j(out);
    const bool delivered = o.kind == OutcomeKind::delivered;
    j.number("at", o.at_ms);
    if (o.attempt > 0) j.number("attempt", o.attempt);
    if (!o.campaign.empty()) j.string("campaign", o.campaign);
    if (!o.category.empty()) j.string("category", o.category);
    if (delivered) {
      j.key("dkim");
      out += '[';
      if (o.extras) {
        bool first = true;
        for (const auto& d : o.extras->dkim) {
          if (!first) out += ',';
          first = false;
          Line s(out);
          s.string("algorithm", d.algorithm);
          s.string("domain", d.domain);
          s.string("selector", d.selector);
        }
      }
      out += ']';
    }
    j.string("domain", o.domain);
    j.string("event", to_string(o.kind));
    j.string("id", o.rcpt_id);
    j.string("message_id", o.message_id);
    if (!o.mx_host.empty()) j.string("mx_host", o.mx_host);
    if (o.kind == OutcomeKind::deferred) j.number("next_attempt_at", o.next_attempt_ms);
    if (!o.pool.empty()) j.string("pool", o.pool);
    j.number("received_at", o.received_at_ms);
    j.string("recipient", o.recipient);
    if (!o.reply.empty()) j.string("reply", o.reply);
    if (o.smtp_stage != smtp::Stage::none) j.string("smtp_stage", smtp::to_string(o.smtp_stage));
    if (!o.source.empty()) j.string("source", o.source);
    if (o.extras && !o.extras->tags.empty()) {
      j.key("tags");
      out += '[';
      for (std::size_t i = 0; i < o.extras->tags.size(); ++i) {
        if (i > 0) out += ',';
        Line::put(out, o.extras->tags[i]);
      }
      out += ']';
    }
    j.string("tenant", o.tenant);
    if (delivered) {
      j.key("tls");
      if (o.tls) {
        Line t(out);
        t.string("cipher", o.tls->cipher);
        t.string("policy", o.tls->policy);
        t.boolean("verified", o.tls->verified);
        t.string("version", o.tls->version);
      } else {
        out += "null";
      }
    }
    auto splice = [&](std::string_view name, const std::string& object) {
      if (object.empty() || object == "{}") return;
      j.key(name);
      out += object;
    };
    if (o.extras) splice("metadata", o.extras->metadata_json);
    splice("report", o.report_json);
  }
  return out;
}

}  // namespace volley::events
