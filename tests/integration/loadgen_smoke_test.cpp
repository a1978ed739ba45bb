// The load generator is part of the product (loadtest/): a small run proves it drives volleyd end
// to end and reports what it did. Its figures are not judged here: speed is the benchmark's job.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <string>

#include <nlohmann/json.hpp>

#include "dns_zone.hpp"
#include "sink_fixture.hpp"
#include "volleyd_fixture.hpp"

using namespace volley::test;
using nlohmann::json;
using namespace std::chrono_literals;

TEST_CASE("volley-loadgen injects a bounded run that volleyd delivers", "[integration][loadgen]") {
  TempDir dir("volley-it-loadgen");
  NsdServer nsd({test_zone("a IN MX 10 mx.a\nmx.a IN A 127.0.0.2\nb IN MX 10 mx.b\nmx.b IN A 127.0.0.2\n")});
  const auto smtp_port = free_port();
  SmtpSink sink(dir / "sink", {"127.0.0.2"}, smtp_port);
  Volleyd volleyd(dir / "volleyd", volleyd_options(nsd.port(), smtp_port));

  constexpr int kMessages = 300;
  const auto report_path = dir / "report.json";
  ChildProcess loadgen({std::string(VOLLEY_BINARY_DIR) + "/loadtest/volley-loadgen", "--target",
                        "127.0.0.1:" + std::to_string(volleyd.http_port()), "-n", std::to_string(kMessages),
                        "-c", "8", "-s", "2048", "-b", "5", "--domains", "a.test:2,b.test:1", "-d", "120",
                        "--no-progress", "--json", report_path.string()},
                       dir / "loadgen.log");
  const auto status = loadgen.wait_for(180s);
  INFO("loadgen output:\n" << loadgen.log());
  REQUIRE(status.has_value());
  CHECK(WIFEXITED(*status));
  CHECK(WEXITSTATUS(*status) == 0);

  const auto report = json::parse(read_file(report_path), nullptr, false);
  REQUIRE_FALSE(report.is_discarded());
  CHECK(report.at("injected").get<int>() == kMessages);
  CHECK(report.at("failed").get<int>() == 0);
  CHECK(report.at("latency_ms").at("p50").get<double>() > 0);
  CHECK(report.at("latency_ms").at("p99").get<double>() >= report.at("latency_ms").at("p50").get<double>());

  // Everything it injected arrives, split over both weighted domains.
  const bool arrived = wait_until([&] { return sink.messages().size() >= kMessages; }, 120s, 100ms);
  INFO("volleyd log:\n" << volleyd.log());
  REQUIRE(arrived);
  std::size_t to_a = 0, to_b = 0;
  for (const auto& m : sink.messages()) {
    const auto& r = m.rcpt_tos.front();
    to_a += r.size() > 7 && r.compare(r.size() - 7, 7, "@a.test") == 0;
    to_b += r.size() > 7 && r.compare(r.size() - 7, 7, "@b.test") == 0;
  }
  CHECK(to_a + to_b == kMessages);
  CHECK(to_a > to_b);  // weights 2:1 (300 draws: a below b would be a broken weighting)
  CHECK(to_b > 0);
}
