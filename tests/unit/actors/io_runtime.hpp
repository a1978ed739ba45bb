#pragma once
// A threaded actor system beside an io_context run by its own thread: for tests of actors and
// drivers that do real network I/O. The actor system is made first and destroyed last.
#include <utility>  // before Asio: Boost 1.74 with C++20 needs it

#include <optional>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <caf/all.hpp>

namespace volley::testing {

struct IoRuntime {
  caf::actor_system_config cfg;
  std::optional<caf::actor_system> system;
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
  std::thread io_thread;

  IoRuntime() {
    cfg.set("scheduler.max-threads", 2);
    cfg.set("logger.file-verbosity", caf::atom("quiet"));
    system.emplace(cfg);
    io_thread = std::thread([this] { io.run(); });
  }
  ~IoRuntime() {
    work.reset();
    io.stop();
    io_thread.join();
  }
};

}  // namespace volley::testing
