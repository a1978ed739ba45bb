// BDAT (RFC 3030) end to end: to a receiver that offers CHUNKING and PIPELINING, volleyd sends
// each message as MAIL, RCPT, BDAT and the message in one write, and the receiver gets every
// message byte for byte as injected, lines starting with a dot included (no stuffing in a
// chunk); `[delivery] chunking = false` goes back to DATA. Judged by volley-receiver's log: each
// message's event says whether it came in BDAT chunks, and carries its content as received.
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "receiver_fixture.hpp"
#include "volleyd_fixture.hpp"

using namespace volley::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// A raw message whose lines a DATA stream would have to stuff, and one that ends with a dot line.
std::string raw_message(int i) {
  return "From: sender@volley.test\r\nTo: user" + std::to_string(i) + "@chunk.test\r\nSubject: chunk " +
         std::to_string(i) +
         "\r\nMessage-ID: <chunk-" + std::to_string(i) +
         "@volley.test>\r\nDate: Mon, 07 Dec 2026 04:00:00 +0000\r\n\r\n.leading dot\r\n..two dots\r\n.\r\nmiddle line\r\n.\r\n";
}

struct Run {
  std::vector<json> data;          // the receiver's data events
  std::size_t bdat = 0;            // messages that came in BDAT chunks
  std::map<std::string, int> delivered;  // per recipient
};

Run deliver(const std::filesystem::path& dir, bool chunking, int n) {
  SmtpReceiver receiver(dir / "receiver", "chunking = true\npipelining = true\n", {"127.0.0.1:0"}, {"--log-content"});
  VolleydOptions o;
  o.dns_port = 9;  // never asked: a static route
  o.smtp_port = 25;
  o.routes.push_back(Route{"chunk.test", "127.0.0.1", receiver.port()});
  o.extra_toml = "[shaping.default]\nmax_connections = 1\n";  // one session: the pipeline fills
  if (!chunking) o.delivery_extra = "chunking = false\n";
  Volleyd volleyd(dir / "volleyd", o);
  auto http = volleyd.client();
  json batch = {{"messages", json::array()}};
  for (int i = 0; i < n; ++i)
    batch["messages"].push_back({{"from", "sender@volley.test"},
                                 {"to", {"user" + std::to_string(i) + "@chunk.test"}},
                                 {"raw", raw_message(i)}});
  const auto res = http.post_json("/api/v1/messages/batch", batch.dump());
  REQUIRE(res.status == 202);
  Run run;
  const bool done = wait_until(
      [&] {
        std::size_t finals = 0;
        for (const auto& e : volleyd.events()) finals += e.value("event", "") == "delivered" || e.value("event", "") == "bounced";
        return finals >= static_cast<std::size_t>(n) && receiver.events("data").size() >= static_cast<std::size_t>(n);
      },
      60s, 20ms);
  INFO("volleyd log:\n" << volleyd.log());
  REQUIRE(done);
  for (const auto& e : volleyd.events())
    if (e.value("event", "") == "delivered") ++run.delivered[e.value("recipient", "")];
  run.data = receiver.events("data");
  for (const auto& e : run.data) run.bdat += e.value("bdat", false);
  return run;
}

// What the receiver got, less the X-Volley-ID line volleyd puts first.
std::string without_volley_id(const std::string& content) {
  REQUIRE(content.rfind("X-Volley-ID: ", 0) == 0);
  return content.substr(content.find("\r\n") + 2);
}

void check_bytes(const Run& run, int n) {
  REQUIRE(run.data.size() == static_cast<std::size_t>(n));
  for (const auto& e : run.data) {
    REQUIRE(e["recipients"].size() == 1);
    const std::string rcpt = e["recipients"][0];
    const int i = std::stoi(rcpt.substr(4, rcpt.find('@') - 4));
    INFO(rcpt);
    CHECK(e["code"] == 250);
    CHECK(without_volley_id(e["content"]) == raw_message(i));
  }
  CHECK(run.delivered.size() == static_cast<std::size_t>(n));
  for (const auto& [rcpt, times] : run.delivered) CHECK(times == 1);
}

}  // namespace

TEST_CASE("BDAT: to a receiver that offers CHUNKING, every message goes as one chunk, byte for byte",
          "[integration][delivery][chunking]") {
  TempDir dir("volley-it-chunking");
  constexpr int kMessages = 30;
  const Run run = deliver(dir.path(), true, kMessages);
  CHECK(run.bdat == static_cast<std::size_t>(kMessages));  // not one DATA
  check_bytes(run, kMessages);
}

TEST_CASE("BDAT: chunking = false sends DATA to the same receiver, and the same bytes arrive",
          "[integration][delivery][chunking]") {
  TempDir dir("volley-it-chunking-off");
  constexpr int kMessages = 10;
  const Run run = deliver(dir.path(), false, kMessages);
  CHECK(run.bdat == 0);
  check_bytes(run, kMessages);
}
