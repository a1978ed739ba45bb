#pragma once
// What the DNS actor's tests share: an actor system with an io_context thread beside it, a
// DnsConfig for servers on 127.0.0.1, and one blocking request.
#include <utility>  // before Asio: Boost 1.74 with C++20 needs it

#include <catch2/catch.hpp>

#include <boost/asio.hpp>
#include <caf/all.hpp>

#include <optional>
#include <thread>

#include "actors/dns_actor.hpp"

namespace volley::test {

using std::chrono_literals::operator""s;

// The actor system first (destroyed last), then the io_context and its thread.
struct Runtime {
  caf::actor_system_config cfg;
  std::optional<caf::actor_system> system;
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
  std::thread io_thread;

  Runtime() {
    cfg.set("scheduler.max-threads", 2);
    system.emplace(cfg);
    io_thread = std::thread([this] { io.run(); });
  }
  ~Runtime() {
    work.reset();
    io.stop();
    io_thread.join();
  }
};

inline DnsConfig config_for(std::vector<std::uint16_t> ports,
                            std::chrono::milliseconds timeout = 1s,
                            int attempts = 2) {
  DnsConfig cfg;
  for (auto p : ports) cfg.servers.push_back(DnsServer{"127.0.0.1", p});
  cfg.timeout = timeout;
  cfg.attempts = attempts;
  return cfg;
}

template <class Resolution, class... Ts>
Resolution ask(caf::scoped_actor& self, const dns_actor& dns, Ts... xs) {
  std::optional<Resolution> out;
  self->request(dns, 30s, xs...)
      .receive([&](const Resolution& r) { out = r; },
               [&](const caf::error& e) { FAIL("request failed: " << self->system().render(e)); });
  REQUIRE(out);
  return *out;
}

}  // namespace volley::test
