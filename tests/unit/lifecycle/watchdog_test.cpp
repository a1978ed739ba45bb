// The systemd watchdog against a real notify socket (the datagram socket systemd binds for
// Type=notify, named by NOTIFY_SOCKET): WATCHDOG=1 while the watched thread turns, none while it
// stalls, and again once it runs.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <future>
#include <string>
#include <thread>

#include <utility>  // before Boost.Asio (see build-facts)

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <catch2/catch.hpp>

#include "daemon/lifecycle.hpp"
#include "tests/support/process.hpp"

using namespace std::chrono_literals;
using volley::test::TempDir;
using volley::test::wait_until;

namespace {

class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    REQUIRE(path.size() < sizeof addr.sun_path);
    std::copy(path.begin(), path.end(), addr.sun_path);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  }
  ~NotifySocket() { ::close(fd_); }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  int pings() {
    char buf[512];
    for (;;) {
      const auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      if (std::string(buf, static_cast<std::size_t>(n)).find("WATCHDOG=1") != std::string::npos) ++pings_;
    }
    return pings_;
  }

 private:
  int fd_ = -1;
  int pings_ = 0;
};

// NOTIFY_SOCKET for as long as the test runs (this test process starts no child that would read it).
struct NotifyEnvironment {
  explicit NotifyEnvironment(const std::string& path) { ::setenv("NOTIFY_SOCKET", path.c_str(), 1); }
  ~NotifyEnvironment() { ::unsetenv("NOTIFY_SOCKET"); }
  NotifyEnvironment(const NotifyEnvironment&) = delete;
  NotifyEnvironment& operator=(const NotifyEnvironment&) = delete;
};

// Two io_contexts on threads of their own, stopped and joined however the test ends.
struct TwoThreads {
  boost::asio::io_context io{1};
  boost::asio::io_context watched{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> io_work = boost::asio::make_work_guard(io);
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> watched_work =
      boost::asio::make_work_guard(watched);
  std::thread io_thread{[this] { io.run(); }};
  std::thread watched_thread{[this] { watched.run(); }};
  ~TwoThreads() {
    io.stop();
    watched.stop();
    io_thread.join();
    watched_thread.join();
  }
};

// Lets a stuck handler go, at the latest when the test ends (before the threads are joined).
struct Release {
  std::promise<void> promise;
  bool done = false;
  void now() {
    if (!done) promise.set_value();
    done = true;
  }
  ~Release() { now(); }
};

}  // namespace

TEST_CASE("watchdog: pings while the watched thread runs, none while it stalls, pings again once it runs",
          "[lifecycle]") {
  TempDir dir("volley-watchdog");
  NotifySocket notify_socket((dir.path() / "notify.sock").string());
  TwoThreads threads;
  auto& io = threads.io;
  auto& watched = threads.watched;
  Release release;
  {
    // NOTIFY_SOCKET is read by every sd_notify, WATCHDOG_USEC by the constructor only (200 ms: a
    // ping every 100 ms).
    NotifyEnvironment env((dir.path() / "notify.sock").string());
    ::setenv("WATCHDOG_USEC", "200000", 1);
    volley::lifecycle::Watchdog watchdog(io, {{"test.watched", &watched}});
    ::unsetenv("WATCHDOG_USEC");
    REQUIRE(watchdog.enabled());
    REQUIRE(wait_until([&] { return notify_socket.pings() >= 3; }, 10s, 5ms));
    CHECK(watchdog.withheld() == 0);

    // The watched thread stuck in a handler until the test lets it go.
    std::promise<void> stuck;
    auto released = release.promise.get_future();
    boost::asio::post(watched, [&] {
      stuck.set_value();
      released.wait();
    });
    stuck.get_future().wait();
    REQUIRE(wait_until([&] { return watchdog.withheld() >= 1; }, 10s, 5ms));
    const int before = notify_socket.pings();
    REQUIRE(wait_until([&] { return watchdog.withheld() >= 4; }, 10s, 5ms));
    CHECK(notify_socket.pings() == before);

    release.now();
    CHECK(wait_until([&] { return notify_socket.pings() > before; }, 10s, 5ms));
    watchdog.stop();
  }
}

TEST_CASE("watchdog: off, and sends nothing, without WATCHDOG_USEC", "[lifecycle]") {
  ::unsetenv("WATCHDOG_USEC");
  boost::asio::io_context io{1};
  volley::lifecycle::Watchdog watchdog(io);
  CHECK_FALSE(watchdog.enabled());
  CHECK(watchdog.withheld() == 0);
}
