// A disk that fills up, with a real volleyd: its spool (or all its files) on a small tmpfs
// (mounting one needs root; without it those tests say why and pass), a destination that defers
// so that nothing leaves the spool, and clients injecting until Volley refuses. Volleyd must keep running, refuse with 503
// (and 452 on the bounce listener), keep every message it answered 202 for, and accept again
// once there is space, without a restart. One test needs no mount: min_free_space above what
// the test's own filesystem has free trips the guard from the start.
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <sys/time.h>

#include <catch2/catch.hpp>

#include <cerrno>
#include <cstring>
#include <regex>
#include <set>
#include <utility>  // before Asio: Boost 1.74 uses std::exchange without including it

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include "receiver_fixture.hpp"
#include "tests/support/test_pki.hpp"
#include "volleyd_fixture.hpp"

using namespace volley::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// A tmpfs of a given size mounted on a directory for the test's life (root only).
class Tmpfs {
 public:
  Tmpfs(const std::filesystem::path& dir, const std::string& size) : dir_(dir) {
    std::filesystem::create_directories(dir_);
    if (::mount("tmpfs", dir_.c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0) {
      mounted_ = true;
    } else {
      error_ = std::strerror(errno);
    }
  }
  ~Tmpfs() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  Tmpfs(const Tmpfs&) = delete;
  Tmpfs& operator=(const Tmpfs&) = delete;

  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }
  // Space is freed the way an operator might: the filesystem grows (its contents stay).
  void resize(const std::string& size) {
    INFO("remount " << dir_ << " with size=" << size);
    REQUIRE(::mount("tmpfs", dir_.c_str(), "tmpfs", MS_REMOUNT, ("size=" + size).c_str()) == 0);
  }

 private:
  std::filesystem::path dir_;
  bool mounted_ = false;
  std::string error_;
};

// Recipients of one domain routed to the receiver on `port`, and a bounce listener.
VolleydOptions disk_options(std::uint16_t receiver_port, std::uint16_t listener_port, std::string spool_extra) {
  VolleydOptions o;
  o.dns_port = 9;
  o.smtp_port = 25;
  o.routes.push_back(Route{"full.test", "127.0.0.1", receiver_port});
  o.spool_extra = std::move(spool_extra);
  o.extra_toml = "[smtp_in]\nlisten = \"127.0.0.1:" + std::to_string(listener_port) +
                 "\"\nhostname = \"bounce.volley.test\"\ndomains = [\"fbl.volley.test\"]\n";
  return o;
}

constexpr const char* kDeferEverything =
    "[default]\naction = \"tempfail\"\ntimes = 1000000\nreply = \"451 4.3.0 Try again later\"\n";

std::string recipient(int i) { return "r" + std::to_string(i) + "@full.test"; }

// About 512 KiB of plain text: a spool of tens of MiB fills in a hundred messages.
json big_message(int i) {
  static const std::string text = [] {
    std::string line(75, 'x');
    line += '\n';
    std::string t;
    for (int n = 0; n < 6900; ++n) t += line;
    return t;
  }();
  return {{"from", "sender@volley.test"}, {"to", {recipient(i)}}, {"subject", "disk test " + std::to_string(i)},
          {"text", text}};
}

// Injects big messages one after another, each to a recipient of its own, remembering which
// were answered 202.
class Injector {
 public:
  explicit Injector(const Volleyd& volleyd) : client_(volleyd.client()) {}

  // One message; status 0 when volleyd did not answer at all.
  HttpResponse inject() {
    HttpResponse res;
    try {
      res = client_.post_json("/api/v1/messages", big_message(next_).dump());
    } catch (const HttpError& e) {
      res.body = e.what();
    }
    if (res.status == 202) accepted.push_back(recipient(next_));
    ++next_;
    return res;
  }
  // Injects until a message is not answered 202, at most `max` of them: that answer.
  HttpResponse until_refused(int max) {
    HttpResponse res;
    for (int i = 0; i < max && (res = inject()).status == 202; ++i) {
    }
    return res;
  }
  // Injects every `interval` until a message is answered 202 or the deadline passes.
  bool until_accepted(std::chrono::milliseconds deadline, std::chrono::milliseconds interval) {
    return wait_until([&] { return inject().status == 202; }, deadline, interval);
  }

  std::vector<std::string> accepted;  // recipients answered 202

 private:
  HttpClient client_;
  int next_ = 0;
};

// The destination of full.test: first it defers everything (nothing leaves the spool), then, on
// the same port, it accepts everything.
class Destination {
 public:
  explicit Destination(const std::filesystem::path& dir)
      : dir_(dir), port_(free_port()), deferring_(std::in_place, dir / "deferring", kDeferEverything, listen()) {}

  std::uint16_t port() const { return port_; }
  const SmtpReceiver& accept_from_now_on() {
    deferring_.reset();
    return accepting_.emplace(dir_ / "accepting", "", listen());
  }

 private:
  std::vector<std::string> listen() const { return {"127.0.0.1:" + std::to_string(port_)}; }

  std::filesystem::path dir_;
  std::uint16_t port_;
  std::optional<SmtpReceiver> deferring_;
  std::optional<SmtpReceiver> accepting_;
};

// The replies of a plain SMTP conversation: the greeting, then one per command (lines joined).
std::vector<std::string> smtp_conversation(std::uint16_t port, const std::vector<std::string>& commands) {
  namespace net = boost::asio;
  net::io_context io;
  net::ip::tcp::socket socket(io);
  socket.connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  timeval limit{10, 0};  // a server that does not answer fails the read instead of hanging the test
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  net::streambuf buffer;
  auto reply = [&] {
    std::string text;
    for (int lines = 0; lines < 50; ++lines) {
      net::read_until(socket, buffer, "\r\n");
      std::istream in(&buffer);
      std::string line;
      std::getline(in, line);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      text += line + "\n";
      if (line.size() < 4 || line[3] != '-') break;
    }
    return text;
  };
  std::vector<std::string> replies{reply()};
  for (const auto& command : commands) {
    net::write(socket, net::buffer(command + "\r\n"));
    replies.push_back(reply());
  }
  return replies;
}

// The value of one series in a Prometheus text page ("name" or "name{labels}"); -1 when absent.
double metric(const std::string& page, const std::string& series) {
  std::istringstream lines(page);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// "spool: recovered N recipient messages" of the last start in a volleyd log; -1 if none.
long recovered(const std::string& log) {
  static const std::regex pattern("spool: recovered ([0-9]+) recipient messages");
  long n = -1;
  for (std::sregex_iterator it(log.begin(), log.end(), pattern), end; it != end; ++it) n = std::stol((*it)[1]);
  return n;
}

// Every recipient in `expected` arrives at `receiver` (polls until the deadline).
void check_all_delivered(const SmtpReceiver& receiver, const std::vector<std::string>& expected) {
  auto missing = [&] {
    std::set<std::string> arrived;
    for (const auto& e : receiver.events("data"))
      for (const auto& r : e.value("recipients", json::array())) arrived.insert(r.get<std::string>());
    std::vector<std::string> out;
    for (const auto& r : expected)
      if (!arrived.count(r)) out.push_back(r);
    return out;
  };
  const bool all = wait_until([&] { return missing().empty(); }, 120s, 200ms);
  const auto lost = missing();
  for (std::size_t k = 0; k < std::min<std::size_t>(lost.size(), 10); ++k) UNSCOPED_INFO("not delivered: " << lost[k]);
  CHECK(all);
}

}  // namespace

TEST_CASE("a spool disk that really fills: volleyd answers 503, keeps every 202, and takes mail again once there "
          "is space",
          "[integration][disk]") {
  TempDir dir("volley-it-disk-full");
  // Smaller than the spool's 32 MiB write buffer: the WAL, not a flush, meets the full disk and
  // leaves not a byte free, so that RocksDB's next info log line has nowhere to go either.
  Tmpfs disk(dir / "volleyd" / "spool", "24m");
  if (!disk.mounted()) {
    WARN("skipped: cannot mount a 24 MiB tmpfs for the spool (needs root or CAP_SYS_ADMIN): " << disk.error());
    return;
  }
  Destination destination(dir.path());
  // The guard off: the disk fills as when the guard is too slow or another process takes the space.
  Volleyd volleyd(dir / "volleyd", disk_options(destination.port(), free_port(), "min_free_space = 0\n"));
  Injector injector(volleyd);

  const auto refusal = injector.until_refused(400);
  INFO("volleyd log:\n" << volleyd.log());
  REQUIRE(injector.accepted.size() >= 10);
  CHECK(refusal.status == 503);
  CHECK(refusal.retry_after != "");
  CHECK(volleyd.running());

  // The spool's write meets the full disk: in the body segments (where bodies go), or in RocksDB,
  // whose error recovery then polls the disk and logs that it cannot resume yet (what aborted
  // the process, an assertion in Debian's RocksDB, when that line went to a LOG file on the full
  // disk).
  REQUIRE(wait_until(
      [&] {
        const auto log = volleyd.log();
        return log.find("Cannot clear") != std::string::npos ||
               log.find("No space left on device") != std::string::npos || !volleyd.running();
      },
      60s, 100ms));
  INFO("volleyd log while the disk is full:\n" << volleyd.log());
  CHECK(volleyd.running());
  CHECK(injector.inject().status == 503);
  CHECK(volleyd.client().get("/healthz").status == 200);

  // Space comes back: the spool takes mail again without a restart.
  disk.resize("256m");
  REQUIRE(injector.until_accepted(60s, 250ms));
  CHECK(volleyd.running());
  // Deferred recipients kept failing to record their attempts meanwhile: one line said so, not one each.
  CHECK(count(volleyd.log(), "spool: update_recipient") <= 1);

  // Every message answered 202 is still in the spool after an orderly restart ...
  CHECK(ChildProcess::describe(volleyd.stop()) == "exited 0");
  volleyd.start();
  INFO("volleyd log after the restart:\n" << volleyd.log());
  CHECK(recovered(volleyd.log()) >= static_cast<long>(injector.accepted.size()));

  // ... and is delivered once the destination takes mail.
  check_all_delivered(destination.accept_from_now_on(), injector.accepted);
}

TEST_CASE("the disk guard refuses before the disk is full (503 storage_full, 452 4.3.1) and clears by itself",
          "[integration][disk]") {
  TempDir dir("volley-it-disk-guard");
  // All of volleyd's files on a small filesystem, whose automatic minimum is the floor, 64 MiB.
  Tmpfs disk(dir / "volleyd", "256m");
  if (!disk.mounted()) {
    WARN("skipped: cannot mount a 256 MiB tmpfs for volleyd's files (needs root or CAP_SYS_ADMIN): " << disk.error());
    return;
  }
  Destination destination(dir.path());
  const auto listener_port = free_port();
  const auto submission_port = free_port();
  // A submission listener too (its TLS keys outside the small filesystem), open to loopback.
  TestPki pki;
  const auto leaf = pki.issue({"smtp.volley.test"});
  write_file(dir / "cert.pem", TestPki::chain_pem(leaf, pki.ca()));
  write_file(dir / "key.pem", leaf.key_pem());
  auto options = disk_options(destination.port(), listener_port, "");
  options.extra_toml += "[submission]\nlisten = \"127.0.0.1:" + std::to_string(submission_port) +
                        "\"\nhostname = \"smtp.volley.test\"\ntrusted_networks = [\"127.0.0.0/8\"]\n"
                        "tls_certificate = \"" + (dir / "cert.pem").string() + "\"\n"
                        "tls_private_key = \"" + (dir / "key.pem").string() + "\"\n";
  Volleyd volleyd(dir / "volleyd", options);
  Injector injector(volleyd);
  for (int i = 0; i < 10; ++i) REQUIRE(injector.inject().status == 202);

  // Something else takes the disk down to 40 MiB free (the spool's own writes stay far below a
  // RocksDB flush, so the free space holds still), and injection goes on until it is refused.
  struct statvfs fs {};
  REQUIRE(::statvfs((dir / "volleyd").c_str(), &fs) == 0);
  const std::uint64_t free = std::uint64_t{fs.f_bavail} * fs.f_frsize;
  REQUIRE(free > (std::uint64_t{100} << 20));
  const auto ballast = dir / "volleyd" / "ballast";
  write_file(ballast, std::string(free - (std::uint64_t{40} << 20), 'b'));
  HttpResponse refusal;
  REQUIRE(wait_until([&] { return (refusal = injector.inject()).status != 202; }, 30s, 100ms));
  INFO("volleyd log:\n" << volleyd.log());
  CHECK(refusal.status == 503);
  CHECK(json::parse(refusal.body)["error"]["code"] == "storage_full");
  CHECK(refusal.retry_after == "30");
  CHECK(volleyd.running());

  const auto replies = smtp_conversation(listener_port, {"EHLO reporter.test", "MAIL FROM:<>", "QUIT"});
  REQUIRE(replies.size() == 4);
  CHECK(replies[2].rfind("452 4.3.1 ", 0) == 0);
  const auto submitted = smtp_conversation(submission_port, {"EHLO app.test", "MAIL FROM:<app@full.test>", "QUIT"});
  REQUIRE(submitted.size() == 4);
  CHECK(submitted[2].rfind("452 4.3.1 ", 0) == 0);
  auto client = volleyd.client();
  const auto suppression = client.post_json("/api/v1/suppressions", R"({"email":"x@full.test"})");
  CHECK(suppression.status == 503);
  CHECK(suppression.retry_after == "30");
  const auto page = client.get("/metrics").body;
  CHECK(metric(page, "volley_disk_guard_active") == 1);
  CHECK(metric(page, R"(volley_disk_guard_refusals_total{edge="injection"})") >= 1);
  CHECK(metric(page, R"(volley_disk_guard_refusals_total{edge="smtp_in"})") == 1);
  CHECK(metric(page, R"(volley_disk_guard_refusals_total{edge="suppressions"})") == 1);
  CHECK(metric(page, R"(volley_disk_guard_refusals_total{edge="submission"})") == 1);
  CHECK(page.find("volley_spool_free_bytes{database=\"spool\"") != std::string::npos);
  CHECK(count(volleyd.log(), "refusing new mail") == 1);

  // The space is freed: the guard clears by itself, once, and injection is accepted again.
  std::filesystem::remove(ballast);
  REQUIRE(injector.until_accepted(30s, 200ms));
  CHECK(count(volleyd.log(), "accepting new mail again") == 1);
  CHECK(count(volleyd.log(), "refusing new mail") == 1);
  CHECK(metric(client.get("/metrics").body, "volley_disk_guard_active") == 0);
  CHECK(smtp_conversation(listener_port, {"EHLO reporter.test", "MAIL FROM:<>", "QUIT"})[2].rfind("250 ", 0) == 0);

  // Every message answered 202 is delivered once the destination takes mail.
  check_all_delivered(destination.accept_from_now_on(), injector.accepted);
}

TEST_CASE("min_free_space above what the filesystem has free refuses injection, bounces and suppression writes",
          "[integration][disk]") {
  TempDir dir("volley-it-disk-guard-real");
  struct statvfs fs {};
  REQUIRE(::statvfs(dir.path().c_str(), &fs) == 0);
  const std::uint64_t free = std::uint64_t{fs.f_bavail} * fs.f_frsize;
  const std::uint64_t above = free + (std::uint64_t{1} << 30);
  if (above > (std::uint64_t{1} << 40)) {
    WARN("skipped: " << free << " bytes free here, more than the largest min_free_space (1TiB) can exceed");
    return;
  }
  const auto listener_port = free_port();
  Volleyd volleyd(dir / "volleyd",
                  disk_options(free_port(), listener_port, "min_free_space = " + std::to_string(above) + "\n"));
  auto client = volleyd.client();

  const auto one = client.post_json("/api/v1/messages", big_message(0).dump());
  CHECK(one.status == 503);
  CHECK(json::parse(one.body)["error"]["code"] == "storage_full");
  CHECK(one.retry_after == "30");
  const auto batch = client.post_json("/api/v1/messages/batch", json{{"messages", {big_message(1)}}}.dump());
  CHECK(batch.status == 503);
  CHECK(json::parse(batch.body)["error"]["code"] == "storage_full");
  CHECK(client.post_json("/api/v1/suppressions", R"({"email":"x@full.test"})").status == 503);
  CHECK(client.get("/api/v1/suppressions").status == 200);  // reading needs no space
  CHECK(client.get("/healthz").status == 200);

  const auto replies = smtp_conversation(listener_port, {"EHLO reporter.test", "MAIL FROM:<>", "QUIT"});
  REQUIRE(replies.size() == 4);
  CHECK(replies[0].rfind("220 ", 0) == 0);
  CHECK(replies[2] == "452 4.3.1 Insufficient system storage, try again later\n");

  INFO("volleyd log:\n" << volleyd.log());
  const auto page = client.get("/metrics").body;
  CHECK(metric(page, "volley_disk_guard_active") == 1);
  CHECK(metric(page, R"(volley_disk_guard_refusals_total{edge="injection"})") == 2);
  CHECK(metric(page, R"(volley_disk_guard_refusals_total{edge="smtp_in"})") == 1);
  CHECK(metric(page, R"(volley_disk_guard_refusals_total{edge="suppressions"})") == 1);
  CHECK(page.find("volley_disk_guard_min_free_bytes{database=\"spool\"") != std::string::npos);
  CHECK(count(volleyd.log(), "refusing new mail") == 1);
  CHECK(events_for(volleyd.events(), "received", recipient(0)).empty());
  CHECK(volleyd.running());
}
