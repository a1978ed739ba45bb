// What an init system and a hostile peer do to a running volleyd: SIGHUP must not kill it (it
// reloads the configuration: lifecycle_test.cpp tests what a reload does), and clients that trickle bytes
// into the bounce listener must not keep its connection slots from legitimate senders.
#include "../unit/actors/smtp_test_client.hpp"  // first: <utility> before Boost.Asio

#include <catch2/catch.hpp>

#include <csignal>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "receiver_fixture.hpp"
#include "volleyd_fixture.hpp"

using namespace volley::test;
using nlohmann::json;
using namespace std::chrono_literals;

TEST_CASE("SIGHUP reloads without harm: volleyd keeps serving and stops cleanly on SIGTERM",
          "[integration][signals]") {
  TempDir dir("volley-it-sighup");
  SmtpReceiver receiver(dir / "receiver", "");
  VolleydOptions opts;
  opts.dns_port = 9;
  opts.smtp_port = 25;
  opts.routes.push_back(Route{"hup.test", "127.0.0.1", receiver.port()});
  Volleyd volleyd(dir / "volleyd", opts);

  volleyd.signal(SIGHUP);
  REQUIRE(wait_until([&] { return volleyd.log().find("asked by signal SIGHUP") != std::string::npos || !volleyd.running(); },
                     10s, 20ms));
  REQUIRE(volleyd.running());
  volleyd.signal(SIGHUP);  // and again: the handler stays in place

  auto client = volleyd.client();
  inject(client, {{"from", "a@volley.test"}, {"to", {"x@hup.test"}}, {"subject", "s"}, {"text", "t\n"}});
  REQUIRE(wait_until([&] { return !events_for(volleyd.events(), "delivered", "x@hup.test").empty(); }, 30s, 50ms));
  CHECK(volleyd.running());
  const auto status = volleyd.stop();
  REQUIRE(status);
  CHECK(WIFEXITED(*status));
  CHECK(WEXITSTATUS(*status) == 0);
}

TEST_CASE("slow clients on the bounce listener are cut off at their deadline and free their slots",
          "[integration][smtp_in]") {
  TempDir dir("volley-it-slowloris");
  const auto listener_port = free_port();
  VolleydOptions opts;
  opts.dns_port = 9;
  opts.smtp_port = 25;
  opts.extra_toml = "[smtp_in]\nlisten = \"127.0.0.1:" + std::to_string(listener_port) +
                    "\"\nhostname = \"bounce.volley.test\"\ndomains = [\"fbl.volley.test\"]\n"
                    "max_connections = 2\ntimeout = \"1s\"\ndata_timeout = \"2s\"\n";
  Volleyd volleyd(dir / "volleyd", opts);

  // Both slots taken: one client trickles a command line, the other its DATA, a byte each 200 ms.
  SmtpTestClient command_loris(listener_port), data_loris(listener_port);
  REQUIRE(command_loris.reply().rfind("220", 0) == 0);
  REQUIRE(data_loris.reply().rfind("220", 0) == 0);
  REQUIRE(data_loris.command("EHLO slow.test").rfind("250", 0) == 0);
  REQUIRE(data_loris.command("MAIL FROM:<>").rfind("250", 0) == 0);
  REQUIRE(data_loris.command("RCPT TO:<abuse@fbl.volley.test>").rfind("250", 0) == 0);
  REQUIRE(data_loris.command("DATA").rfind("354", 0) == 0);
  command_loris.send("EHLO ");
  {
    SmtpTestClient third(listener_port);
    CHECK(third.reply().rfind("421 4.7.0", 0) == 0);  // no slot while both are held
  }

  std::optional<std::string> command_answer, data_answer;
  const auto start = std::chrono::steady_clock::now();
  // Sixty rounds of 200 ms would be 12 s: an idle timer that each byte re-armed would never fire.
  for (int i = 0; i < 60 && !(command_answer && data_answer); ++i) {
    for (auto [client, answer] : {std::pair{&command_loris, &command_answer}, std::pair{&data_loris, &data_answer}}) {
      if (*answer) continue;
      client->send("x");
      try {
        *answer = client->reply(100ms);
      } catch (const std::runtime_error&) {  // nothing yet: trickle on
      }
    }
  }
  REQUIRE(command_answer);
  REQUIRE(data_answer);
  CHECK(command_answer->rfind("421 4.4.2", 0) == 0);
  CHECK(data_answer->rfind("421 4.4.2", 0) == 0);
  CHECK(std::chrono::steady_clock::now() - start < 8s);
  CHECK(command_loris.closed_by_peer(5s));
  CHECK(data_loris.closed_by_peer(5s));

  // The slots are free again for a legitimate sender.
  SmtpTestClient sender(listener_port);
  CHECK(sender.reply().rfind("220", 0) == 0);
  CHECK(sender.command("EHLO mx.sender.test").rfind("250", 0) == 0);
  CHECK(sender.command("QUIT").rfind("221", 0) == 0);
  CHECK(volleyd.running());
}
