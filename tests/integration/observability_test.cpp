// End to end: what an operator and an application can see after mail went out. The message
// status API reports delivery, /metrics is valid Prometheus text (judged by promtool, not by
// us) and counts the deliveries, and SIGTERM shuts volleyd down cleanly.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dns_zone.hpp"
#include "sink_fixture.hpp"
#include "volleyd_fixture.hpp"

using namespace volley::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// Every "status" string anywhere in a JSON document (the answer's shape is volleyd's to choose:
// a top-level status, per-recipient statuses, or both).
void collect_statuses(const json& j, std::vector<std::string>& out) {
  if (j.is_object()) {
    for (const auto& [key, value] : j.items()) {
      if (key == "status" && value.is_string()) out.push_back(value.get<std::string>());
      collect_statuses(value, out);
    }
  } else if (j.is_array()) {
    for (const auto& v : j) collect_statuses(v, out);
  }
}

// Sum of the samples of counters (names ending in _total) that mention "delivered" in their
// name or labels.
double delivered_counter_sum(const std::string& metrics, std::vector<std::string>* lines) {
  double sum = 0;
  std::istringstream in(metrics);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const auto name_end = line.find_first_of("{ ");
    const std::string name = line.substr(0, name_end);
    if (name.size() < 6 || name.compare(name.size() - 6, 6, "_total") != 0) continue;
    const auto value_at = line.rfind(' ');
    const std::string series = line.substr(0, value_at);
    if (series.find("delivered") == std::string::npos) continue;
    sum += std::stod(line.substr(value_at + 1));
    if (lines) lines->push_back(line);
  }
  return sum;
}

}  // namespace

TEST_CASE("after a delivery run the status API and /metrics report it and SIGTERM exits cleanly", "[integration][observe]") {
  TempDir dir("volley-it-observe");
  NsdServer nsd({test_zone("m IN MX 10 mx.m\nmx.m IN A 127.0.0.2\n")});
  const auto smtp_port = free_port();
  SmtpSink sink(dir / "sink", {"127.0.0.2"}, smtp_port);
  Volleyd volleyd(dir / "volleyd", volleyd_options(nsd.port(), smtp_port));

  auto http = volleyd.client();
  std::vector<Accepted> accepted;
  std::size_t recipients = 0;
  for (int i = 0; i < 5; ++i) {
    std::vector<std::string> to{"u" + std::to_string(i) + "@m.test"};
    if (i == 0) to.push_back("extra@m.test");
    accepted.push_back(inject(http, {{"from", "sender@volley.test"},
                                     {"to", to},
                                     {"subject", "observe " + std::to_string(i)},
                                     {"text", "watch me\n"}}));
    recipients += to.size();
  }
  const bool delivered = wait_until(
      [&] {
        std::size_t n = 0;
        for (const auto& e : volleyd.events()) n += e.value("event", "") == "delivered";
        return n >= recipients;
      },
      60s, 100ms);
  INFO("volleyd log:\n" << volleyd.log());
  REQUIRE(delivered);

  for (const auto& a : accepted) {
    for (const auto& [email, rcpt_id] : a.recipients) {
      const auto res = http.get("/api/v1/messages/" + rcpt_id);
      INFO("GET /api/v1/messages/" << rcpt_id << " -> " << res.status << " " << res.body);
      REQUIRE(res.status == 200);
      const auto body = json::parse(res.body, nullptr, false);
      REQUIRE_FALSE(body.is_discarded());
      std::vector<std::string> statuses;
      collect_statuses(body, statuses);
      REQUIRE_FALSE(statuses.empty());
      for (const auto& s : statuses) CHECK(s == "delivered");
    }
  }
  {
    const auto res = http.get("/api/v1/messages/000000000000000000000000-0");
    CHECK(res.status == 404);
  }

  const auto metrics = http.get("/metrics");
  REQUIRE(metrics.status == 200);
  CHECK(metrics.content_type.rfind("text/plain", 0) == 0);
  const auto [status, output] =
      run_with_input({"/usr/bin/promtool", "check", "metrics"}, metrics.body, dir.path());
  INFO("promtool check metrics:\n" << output << "\n/metrics:\n" << metrics.body);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  std::vector<std::string> lines;
  CHECK(delivered_counter_sum(metrics.body, &lines) >= static_cast<double>(recipients));
  CHECK_FALSE(lines.empty());

  // SIGTERM: an orderly exit, status 0 (under ASan this also means no leak report).
  const auto exit_status = volleyd.stop();
  INFO("volleyd exit: " << ChildProcess::describe(exit_status));
  REQUIRE(exit_status.has_value());
  CHECK(WIFEXITED(*exit_status));
  CHECK(WEXITSTATUS(*exit_status) == 0);
}
