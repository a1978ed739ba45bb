// Streamed answers of HttpServer (HttpResponse::stream, what GET /api/v1/events?follow=1 uses)
// against a raw loopback client: chunks arrive as written, a client that leaves ends the stream,
// and a client that stops reading is dropped once 1 MiB waits unwritten.
#include "tests/support/http_connection.hpp"  // first: <utility> before Boost.Asio

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include <catch2/catch.hpp>

#include "net/http_server.hpp"
#include "tests/support/process.hpp"

using namespace volley;
using volley::test::IoThreads;
using volley::test::wait_until;
using namespace std::chrono_literals;

namespace {

// The stream the handler was given, once the headers are out.
struct Producer {
  std::mutex mu;
  std::shared_ptr<HttpStream> stream;
  std::atomic<bool> closed{false};

  Handler handler() {
    return [this](HttpRequest&&, Responder respond) {
      HttpResponse r;
      r.content_type = "application/x-ndjson";
      r.stream = [this](std::shared_ptr<HttpStream> s) {
        s->on_close([this] { closed = true; });
        std::lock_guard lock(mu);
        stream = std::move(s);
      };
      respond(std::move(r));
    };
  }
  std::shared_ptr<HttpStream> get() {
    std::lock_guard lock(mu);
    return stream;
  }
};

int connect_to(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  const std::string req = "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n";
  REQUIRE(::write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size()));
  return fd;
}

// Reads until `needle` has arrived (or the peer closes); returns all read.
std::string read_until(int fd, const std::string& needle) {
  std::string got;
  char buf[4096];
  while (got.find(needle) == std::string::npos) {
    const auto n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  return got;
}

// A server whose one request is a stream, and a client that has asked for it.
struct Rig {
  IoThreads io;
  Producer p;
  HttpServer server{io.io, p.handler()};
  int fd = -1;
  Rig() {
    server.start({"127.0.0.1", 0});
    fd = connect_to(server.port());
    REQUIRE(wait_until([&] { return p.get() != nullptr; }, 10s));
  }
  ~Rig() {
    close_client();
    server.stop();
    io.join();  // the last on_close has run before `p` goes
  }
  void close_client() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

}  // namespace

TEST_CASE("a streamed answer goes out chunk by chunk and ends with the last chunk", "[http][stream]") {
  Rig rig;
  auto& p = rig.p;
  const int fd = rig.fd;
  const auto head = read_until(fd, "\r\n\r\n");
  CHECK(head.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(head.find("Transfer-Encoding: chunked") != std::string::npos);
  CHECK(head.find("application/x-ndjson") != std::string::npos);
  CHECK(p.get()->write("{\"a\":1}\n"));
  CHECK(read_until(fd, "{\"a\":1}\n").find("8\r\n{\"a\":1}\n\r\n") != std::string::npos);
  p.get()->end();
  CHECK(read_until(fd, "0\r\n\r\n").find("0\r\n\r\n") != std::string::npos);
  REQUIRE(wait_until([&] { return p.closed.load(); }, 10s));
}

TEST_CASE("a client that leaves ends its stream: on_close runs and writes answer false", "[http][stream]") {
  Rig rig;
  auto& p = rig.p;
  rig.close_client();
  REQUIRE(wait_until([&] { return p.closed.load(); }, 10s));
  CHECK_FALSE(p.get()->write("late\n"));
}

TEST_CASE("a client that does not read is dropped once 1 MiB waits unwritten", "[http][stream]") {
  Rig rig;
  auto& p = rig.p;
  const std::string chunk(64 * 1024, 'x');
  std::size_t written = 0;
  // The kernel's socket buffers take some MiB first; past them the 1 MiB bound answers false.
  while (written < 256u * 1024 * 1024 && p.get()->write(chunk)) written += chunk.size();
  CHECK(written < 256u * 1024 * 1024);
  REQUIRE(wait_until([&] { return p.closed.load(); }, 10s));
}

// The producer (an actor) may keep its stream past the server and its io_context: writing to it
// or ending it then touches neither (ASan reports it if it does) and says the stream is over.
// (The connection's end finishes the sink first; the answer gate also covers a write racing the
// teardown, which a test cannot time.)
TEST_CASE("a stream kept past the server and its io_context touches neither", "[http][stream]") {
  std::shared_ptr<HttpStream> kept;
  std::atomic<bool> closed{false};
  {
    auto rig = std::make_unique<Rig>();
    kept = rig->p.get();
    kept->on_close([&] { closed = true; });  // replaces the rig's: it outlives the rig
    rig.reset();  // the client leaves, the server stops, its io threads end, the io_context goes
  }
  CHECK_FALSE(kept->write("late\n"));
  kept->end();
  CHECK(closed.load());
  kept.reset();
}
