// End to end: many messages injected concurrently over HTTP reach a real SMTP server through
// real DNS, each exactly once, with the envelope and bytes they were injected with.
#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "mime_view.hpp"
#include "dns_zone.hpp"
#include "sink_fixture.hpp"
#include "volleyd_fixture.hpp"

using namespace volley::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const std::vector<std::string> kDomains{"a.test", "b.test", "c.test"};
const std::map<std::string, std::string> kMxAddress{
    {"a.test", "127.0.0.2"}, {"b.test", "127.0.0.3"}, {"c.test", "127.0.0.4"}};

struct Sent {
  int index = 0;
  bool raw = false;
  json request;
  std::string subject;   // builder mode
  std::string text;      // builder mode
  std::string raw_data;  // raw mode, as sent
};

// Text that exercises transparency and encodings: lines that are "." or start with dots, 8-bit
// UTF-8, a line longer than SMTP allows (998), trailing spaces, and now and then a big body.
std::string body_text(int i) {
  std::string t = "Message " + std::to_string(i) + " body.\n.\n..two dots\n.leading dot\n";
  t += "Grüße aus Köln, 日本語 " + std::to_string(i) + "\n";
  t += "trailing spaces   \n";
  if (i % 4 == 0) t += std::string(1500, 'x') + "\n";
  if (i % 25 == 0)
    for (int line = 0; line < 3000; ++line) t += "bulk line " + std::to_string(line) + "\n";
  t += "end " + std::to_string(i) + "\n";
  return t;
}

std::vector<std::string> recipients_for(int i) {
  std::vector<std::string> to{"user" + std::to_string(i) + "@" + kDomains[i % 3]};
  if (i % 5 == 0) to.push_back("cross" + std::to_string(i) + "@" + kDomains[(i + 1) % 3]);
  if (i % 7 == 0) to.push_back("second" + std::to_string(i) + "@" + kDomains[i % 3]);
  return to;
}

Sent make_message(int i) {
  Sent s;
  s.index = i;
  s.raw = i % 2 == 1;
  const auto to = recipients_for(i);
  const std::string from = "sender" + std::to_string(i % 4) + "@volley.test";
  if (!s.raw) {
    s.subject = "Builder message " + std::to_string(i) + (i % 3 == 0 ? " – naïve" : "");
    s.text = body_text(i);
    s.request = {{"from", from}, {"to", to}, {"subject", s.subject}, {"text", s.text}};
  } else {
    std::string body = lf_normalise(body_text(i));
    // Raw messages must keep SMTP's 998-octet line limit themselves.
    for (std::size_t p; (p = body.find(std::string(1500, 'x'))) != std::string::npos;)
      body.replace(p, 1500, std::string(700, 'x') + "\n" + std::string(800, 'x'));
    std::string headers = "From: <" + from + ">\nTo: <" + to[0] + ">\nSubject: raw message " +
                          std::to_string(i) + "\nMessage-ID: <raw-" + std::to_string(i) +
                          "@volley.test>\nDate: Mon, 23 Nov 2026 10:00:00 +0000\n"
                          "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
                          "Content-Transfer-Encoding: 8bit\n\n";
    s.raw_data = crlf_normalise(headers + body);
    s.request = {{"from", from}, {"to", to}, {"raw", s.raw_data}};
  }
  return s;
}

}  // namespace

TEST_CASE("every accepted message arrives exactly once with its envelope and bytes",
          "[integration][delivery]") {
  TempDir dir("volley-it-delivery");
  std::string records;
  for (const auto& d : kDomains) {
    const std::string label = d.substr(0, d.find('.'));
    records += label + " IN MX 10 mx." + label + "\n";
    records += "mx." + label + " IN A " + kMxAddress.at(d) + "\n";
  }
  NsdServer nsd({test_zone(records)});
  const auto smtp_port = free_port();
  SmtpSink sink(dir / "sink", {"127.0.0.2", "127.0.0.3", "127.0.0.4"}, smtp_port);
  Volleyd volleyd(dir / "volleyd", volleyd_options(nsd.port(), smtp_port));

  constexpr int kMessages = 200;
  constexpr int kClients = 4;
  std::vector<Sent> sent(kMessages);
  std::map<int, Accepted> accepted;
  std::vector<std::string> failures;
  std::mutex mutex;
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      auto http = volleyd.client();
      for (int i = c; i < kMessages; i += kClients) {
        Sent s = make_message(i);
        try {
          Accepted a = inject(http, s.request);
          std::lock_guard lock(mutex);
          accepted[i] = std::move(a);
          sent[i] = std::move(s);
        } catch (const std::exception& e) {
          std::lock_guard lock(mutex);
          failures.push_back("message " + std::to_string(i) + ": " + e.what());
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  INFO("volleyd log:\n" << volleyd.log());
  for (const auto& f : failures) FAIL_CHECK(f);
  REQUIRE(failures.empty());
  REQUIRE(accepted.size() == kMessages);

  // Every recipient is unique to its message, so recipient -> message identifies a delivery.
  std::map<std::string, int> owner;
  std::map<std::string, std::string> rcpt_id;  // recipient -> recipient id from the 202 answer
  for (const auto& [i, a] : accepted) {
    const auto to = recipients_for(i);
    REQUIRE(a.recipients.size() == to.size());
    for (std::size_t k = 0; k < to.size(); ++k) {
      CHECK(a.recipients[k].first == to[k]);
      owner[to[k]] = i;
      rcpt_id[to[k]] = a.recipients[k].second;
    }
  }
  const std::size_t expected = owner.size();

  const bool all_arrived = wait_until(
      [&] {
        std::size_t got = 0;
        for (const auto& [r, n] : sink.deliveries_per_recipient()) got += n;
        std::size_t delivered_events = 0;
        for (const auto& e : volleyd.events()) delivered_events += e.value("event", "") == "delivered";
        return got >= expected && delivered_events >= expected;
      },
      180s, 100ms);
  const auto received = sink.messages();
  INFO("sink log:\n" << sink.log());
  CHECK(all_arrived);

  // Exactly once, and nothing that was not sent.
  const auto per_rcpt = sink.deliveries_per_recipient();
  for (const auto& [r, i] : owner) {
    const auto it = per_rcpt.find(r);
    INFO("recipient " << r << " of message " << i);
    CHECK((it == per_rcpt.end() ? 0 : it->second) == 1);
  }
  for (const auto& [r, n] : per_rcpt) {
    INFO("received recipient " << r);
    CHECK(owner.count(r) == 1);
  }

  // Each transaction: the right envelope, at the recipient domain's MX, with the right bytes.
  for (const auto& m : received) {
    REQUIRE_FALSE(m.rcpt_tos.empty());
    const auto it = owner.find(m.rcpt_tos.front());
    if (it == owner.end()) continue;  // reported above
    const Sent& s = sent[it->second];
    INFO("message " << s.index << " stored as " << m.name);
    CHECK(m.mail_from == s.request["from"].get<std::string>());
    CHECK(m.helo == "mta.volley.test");
    const std::string domain = m.rcpt_tos.front().substr(m.rcpt_tos.front().find('@') + 1);
    CHECK(m.local == kMxAddress.at(domain) + ":" + std::to_string(smtp_port));
    for (const auto& r : m.rcpt_tos) {
      CHECK(owner.count(r) == 1);
      CHECK(owner[r] == s.index);
      CHECK(r.substr(r.find('@') + 1) == domain);  // one transaction per domain
    }
    if (s.raw) {
      // The raw message is passed through: at most trace headers may be added in front.
      const std::string got = crlf_normalise(m.data);
      REQUIRE(got.size() >= s.raw_data.size());
      CHECK(got.compare(got.size() - s.raw_data.size(), s.raw_data.size(), s.raw_data) == 0);
      const std::string prefix = got.substr(0, got.size() - s.raw_data.size());
      CHECK(prefix.find("\r\n\r\n") == std::string::npos);
    } else {
      const auto entity = parse_entity(m.data);
      CHECK(entity.count("Subject") == 1);
      CHECK(decode_rfc2047(entity.header("Subject").value_or("")) == s.subject);
      CHECK(entity.count("From") == 1);
      CHECK(entity.header("From").value_or("").find(m.mail_from) != std::string::npos);
      CHECK(entity.count("Message-ID") == 1);
      CHECK(entity.count("Date") == 1);
      const auto text = text_plain_part(entity);
      REQUIRE(text.has_value());
      CHECK(lf_normalise(*text) == s.text);
    }
    // What SMTP carried is well formed: CRLF line ends only, no line over 998 octets.
    std::size_t bare_lf = 0, long_lines = 0, line_start = 0;
    for (std::size_t k = 0; k < m.data.size(); ++k) {
      if (m.data[k] != '\n') continue;
      bare_lf += k == 0 || m.data[k - 1] != '\r';
      long_lines += k - line_start > 999;
      line_start = k + 1;
    }
    CHECK(bare_lf == 0);
    CHECK(long_lines == 0);
  }

  // Sessions are reused: each domain's transactions share a few connections (at most
  // max_connections at a time, closed only after 2 s idle), not one connection each.
  std::map<std::string, std::set<std::string>> sessions;
  std::map<std::string, std::size_t> transactions;
  for (const auto& m : received) {
    const std::string domain = m.rcpt_tos.front().substr(m.rcpt_tos.front().find('@') + 1);
    REQUIRE_FALSE(m.peer.empty());
    sessions[domain].insert(m.peer);
    ++transactions[domain];
  }
  for (const auto& [domain, peers] : sessions) {
    INFO("domain " << domain << ": " << transactions[domain] << " transactions on " << peers.size()
                   << " connections");
    CHECK(peers.size() * 4 <= transactions[domain]);
  }

  // One "delivered" event per recipient id, naming the recipient and its MX.
  const auto events = volleyd.events();
  for (const auto& [r, id] : rcpt_id) {
    const auto delivered = events_for(events, "delivered", r);
    INFO("recipient " << r);
    REQUIRE(delivered.size() == 1);
    CHECK(delivered[0].value("id", "") == id);
    const std::string domain = r.substr(r.find('@') + 1);
    CHECK(delivered[0].value("domain", "") == domain);
    CHECK(delivered[0].value("mx_host", "") == "mx." + domain);
  }
}
