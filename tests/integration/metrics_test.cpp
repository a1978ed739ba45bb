// End to end: what GET /metrics exports for a dashboard. A destination's outcome series exist at
// zero from its first message (a deferral rate reads 0, not "no data") and go once it has been
// idle for [metrics] idle_series_ttl; messages and recipient messages are counted apart; the
// standard process_* series and volley_build_info are there, and promtool accepts the page.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "dns_zone.hpp"
#include "receiver_fixture.hpp"
#include "sink_fixture.hpp"
#include "volleyd_fixture.hpp"

using namespace volley::test;
using namespace std::chrono_literals;

namespace {

// One sample of the text exposition format.
struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// Samples of the page (comments skipped); label values unescaped.
std::vector<Sample> samples(const std::string& page) {
  std::vector<Sample> out;
  std::istringstream in(page);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    Sample s;
    std::size_t i = line.find_first_of("{ ");
    s.name = line.substr(0, i);
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        const auto eq = line.find('=', i);
        const std::string key = line.substr(i, eq - i);
        std::string value;
        for (i = eq + 2; i < line.size() && line[i] != '"'; ++i) {
          if (line[i] == '\\' && i + 1 < line.size()) ++i;
          value += line[i];
        }
        s.labels[key] = value;
        i += 1;  // the closing quote
        if (i < line.size() && line[i] == ',') ++i;
      }
      ++i;  // '}'
    }
    s.value = std::stod(line.substr(line.find_first_not_of(' ', i)));
    out.push_back(std::move(s));
  }
  return out;
}

// The samples of one metric, all or only those for one destination domain.
std::vector<Sample> of(const std::vector<Sample>& all, const std::string& name, const std::string& domain = {}) {
  std::vector<Sample> out;
  for (const auto& s : all) {
    if (s.name != name) continue;
    if (!domain.empty() && (s.labels.count("domain") == 0 || s.labels.at("domain") != domain)) continue;
    out.push_back(s);
  }
  return out;
}

bool mentions_domain(const std::vector<Sample>& all, const std::string& domain) {
  for (const auto& s : all)
    if (s.labels.count("domain") != 0 && s.labels.at("domain") == domain) return true;
  return false;
}

std::vector<Sample> scrape(HttpClient& http) {
  const auto res = http.get("/metrics");
  if (res.status != 200) throw std::runtime_error("/metrics answered " + std::to_string(res.status));
  return samples(res.body);
}

nlohmann::json message_to(std::vector<std::string> to) {
  return {{"from", "sender@volley.test"}, {"to", std::move(to)}, {"subject", "metrics"}, {"text", "count me\n"}};
}

std::size_t count_events(const Volleyd& v, const std::string& kind) {
  std::size_t n = 0;
  for (const auto& e : v.events()) n += e.value("event", "") == kind;
  return n;
}

}  // namespace

TEST_CASE("a destination's outcome series start at zero with its first message and go when it is idle",
          "[integration][metrics]") {
  TempDir dir("volley-it-metrics-idle");
  // m.test takes mail; nothing listens on slow.test's MX, so its recipient stays deferred,
  // retried only after 30 s: longer than the ttl, yet queued mail keeps its series.
  NsdServer nsd({test_zone("m IN MX 10 mx.m\nmx.m IN A 127.0.0.2\n"
                           "slow IN MX 10 mx.slow\nmx.slow IN A 127.0.0.3\n")});
  const auto smtp_port = free_port();
  SmtpSink sink(dir / "sink", {"127.0.0.2"}, smtp_port);
  auto options = volleyd_options(nsd.port(), smtp_port);
  options.retry_first = "30s";
  options.retry_max_interval = "30s";
  options.idle_timeout = "1s";
  options.extra_toml = "[metrics]\nidle_series_ttl = \"2s\"\n";
  Volleyd volleyd(dir / "volleyd", options);
  auto http = volleyd.client();

  inject(http, message_to({"a@m.test"}));
  // Right after the first message: deferred (each kind) and bounced exist, at 0, before any
  // outcome could have made them.
  std::vector<Sample> page;
  REQUIRE(wait_until(
      [&] {
        page = scrape(http);
        return of(page, "volley_messages_deferred_total", "m.test").size() == 5;
      },
      10s, 50ms));
  std::vector<std::string> kinds;
  for (const auto& s : of(page, "volley_messages_deferred_total", "m.test")) {
    CHECK(s.value == 0);
    CHECK(s.labels.at("pool") == "default");
    CHECK(s.labels.at("source") == "default");
    kinds.push_back(s.labels.at("category"));
  }
  std::sort(kinds.begin(), kinds.end());
  CHECK(kinds == std::vector<std::string>{"greylisted", "mailbox_full", "other", "rate_limited", "tls_required"});
  const auto bounced = of(page, "volley_messages_bounced_total", "m.test");
  REQUIRE(bounced.size() == 1);
  CHECK(bounced[0].value == 0);
  CHECK(bounced[0].labels.count("category") == 0);
  REQUIRE(of(page, "volley_messages_delivered_total", "m.test").size() == 1);
  REQUIRE(of(page, "volley_messages_expired_total", "m.test").size() == 1);

  inject(http, message_to({"b@slow.test"}));
  const bool sent = wait_until(
      [&] { return count_events(volleyd, "delivered") == 1 && count_events(volleyd, "deferred") == 1; }, 30s, 50ms);
  INFO("volleyd log:\n" << volleyd.log());
  REQUIRE(sent);
  page = scrape(http);
  CHECK(of(page, "volley_messages_delivered_total", "m.test").at(0).value == 1);
  for (const auto& s : of(page, "volley_messages_deferred_total", "m.test")) CHECK(s.value == 0);

  // m.test had its connection closed after idle_timeout (1 s), then no event for 2 s: its
  // series go, every one of them. slow.test has had no event since, but a recipient queued.
  const auto idle_since = std::chrono::steady_clock::now();
  const bool gone = wait_until([&] { return !mentions_domain(scrape(http), "m.test"); }, 30s, 100ms);
  page = scrape(http);
  INFO("/metrics series for m.test: " << of(page, "volley_messages_delivered_total", "m.test").size());
  REQUIRE(gone);
  CHECK(std::chrono::steady_clock::now() - idle_since >= 2s);
  CHECK(count_events(volleyd, "deferred") == 1);  // slow.test was not retried in between
  const auto depth = of(page, "volley_queue_depth", "slow.test");
  REQUIRE(depth.size() == 1);
  CHECK(depth[0].value == 1);
  CHECK(of(page, "volley_messages_deferred_total", "slow.test").size() == 5);  // one per deferral kind

  // The next message starts m.test's series again at zero.
  inject(http, message_to({"c@m.test"}));
  REQUIRE(wait_until([&] { return of(scrape(http), "volley_messages_bounced_total", "m.test").size() == 1; }, 10s,
                     50ms));
}

TEST_CASE("messages and recipient messages are counted apart, process and build metrics pass promtool",
          "[integration][metrics]") {
  TempDir dir("volley-it-metrics-process");
  NsdServer nsd({test_zone("m IN MX 10 mx.m\nmx.m IN A 127.0.0.2\n")});
  const auto smtp_port = free_port();
  SmtpSink sink(dir / "sink", {"127.0.0.2"}, smtp_port);
  Volleyd volleyd(dir / "volleyd", volleyd_options(nsd.port(), smtp_port));
  auto http = volleyd.client();
  const auto started = std::chrono::system_clock::now();

  inject(http, message_to({"a@m.test", "b@m.test", "c@m.test"}));
  inject(http, message_to({"d@m.test"}));
  auto value = [](const std::vector<Sample>& page, const std::string& name) {
    const auto s = of(page, name);
    return s.size() == 1 ? s[0].value : -1.0;
  };
  std::vector<Sample> page;
  REQUIRE(wait_until(
      [&] {
        page = scrape(http);
        return value(page, "volley_recipients_received_total") == 4;
      },
      10s, 50ms));
  CHECK(value(page, "volley_messages_received_total") == 2);
  const bool sent = wait_until([&] { return count_events(volleyd, "delivered") == 4; }, 30s, 50ms);
  INFO("volleyd log:\n" << volleyd.log());
  REQUIRE(sent);
  page = scrape(http);
  double delivered = 0;
  for (const auto& s : of(page, "volley_messages_delivered_total")) delivered += s.value;
  CHECK(delivered == 4);  // recipient messages, like the received count they are compared to
  const auto events = of(page, "volley_events_total");
  const auto received = std::find_if(events.begin(), events.end(),
                                     [](const Sample& s) { return s.labels.at("event") == "received"; });
  REQUIRE(received != events.end());
  CHECK(received->value == 4);  // one "received" event per recipient

  const auto now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const auto start = value(page, "process_start_time_seconds");
  CHECK(start > now - 600);
  CHECK(start <= std::chrono::duration<double>(started.time_since_epoch()).count() + 1);
  CHECK(value(page, "process_cpu_seconds_total") > 0);
  CHECK(value(page, "process_resident_memory_bytes") > 1 << 20);
  CHECK(value(page, "process_virtual_memory_bytes") >= value(page, "process_resident_memory_bytes"));
  CHECK(value(page, "process_open_fds") > 3);
  CHECK(value(page, "process_max_fds") >= value(page, "process_open_fds"));
  const auto build = of(page, "volley_build_info");
  REQUIRE(build.size() == 1);
  CHECK(build[0].value == 1);
  const auto [version_status, version] = run_with_input({Volleyd::binary(), "--version"}, "", dir.path());
  CHECK(version_status == 0);
  CHECK(version == "volleyd " + build[0].labels.at("version") + "\n");
  CHECK_FALSE(build[0].labels.at("compiler").empty());

  const auto res = http.get("/metrics");
  const auto [status, output] = run_with_input({"/usr/bin/promtool", "check", "metrics"}, res.body, dir.path());
  INFO("promtool check metrics:\n" << output << "\n/metrics:\n" << res.body);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(res.body.find("# TYPE process_cpu_seconds_total counter") != std::string::npos);
  CHECK(res.body.find("# TYPE process_open_fds gauge") != std::string::npos);
}

TEST_CASE("the queue survey: a destination whose mail is deferred gets its oldest age, sources their connections "
          "and backoff level",
          "[integration][metrics]") {
  TempDir dir("volley-it-metrics-survey");
  SmtpReceiver receiver(dir / "receiver",
                        "[[rule]]\nmatch = \"a@late.test\"\naction = \"tempfail\"\ntimes = 1000\nreply = \"450 4.2.0 Not today\"\n");
  VolleydOptions opts;
  opts.dns_port = 9;  // never asked: a static route
  opts.smtp_port = 25;
  opts.routes.push_back(Route{"late.test", "127.0.0.1", receiver.port()});
  opts.retry_first = "30s";
  opts.retry_max_interval = "60s";
  Volleyd volleyd(dir / "volleyd", opts);
  auto http = volleyd.client();
  const auto received = std::chrono::steady_clock::now();
  inject(http, message_to({"a@late.test"}));
  // The router looks every 15 s: the first look after the message came finds it queued.
  double age = -1;
  REQUIRE(wait_until(
      [&] {
        const auto oldest = of(scrape(http), "volley_queue_oldest_age_seconds", "late.test");
        if (oldest.empty()) return false;
        age = oldest.front().value;
        return true;
      },
      40s, 200ms));
  const auto waited = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - received).count();
  CHECK(age >= 0);
  CHECK(age <= static_cast<double>(waited) + 1);
  const auto all = scrape(http);
  const auto conns = of(all, "volley_source_connections");
  REQUIRE(conns.size() == 1);
  CHECK(conns.front().labels.at("source") == "default");
  const auto backoff = of(all, "volley_source_backoff_level");
  REQUIRE(backoff.size() == 1);
  CHECK(backoff.front().value == 0);
}
