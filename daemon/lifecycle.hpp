#pragma once
// The daemon's life as its supervisor sees it (docs/operations.md "Lifecycle"):
// - systemd's notify protocol (Type=notify): READY=1 once the spool is recovered and every
//   listener is bound, RELOADING=1 / READY=1 around a reload, STOPPING=1 when the drain begins,
//   STATUS= lines; nothing at all when volleyd does not run under a notify-aware supervisor
//   (no NOTIFY_SOCKET);
// - the watchdog (WatchdogSec=): WATCHDOG=1 at half the interval from the io thread, which runs
//   every SMTP and DNS socket: if it stalls, the pings stop and systemd restarts the daemon (the
//   HTTP API's thread is not watched: a stalled API alone is seen by /healthz probes);
// - the main thread's loop: SIGTERM and SIGINT end it (the caller then drains), SIGHUP runs a
//   reload, and other threads may post work to it (the reload API does).
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <utility>  // before Boost.Asio (see build-facts)

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

namespace volley::lifecycle {

void notify(const std::string& state);  // e.g. "READY=1\nSTATUS=..."; a no-op without NOTIFY_SOCKET

class Watchdog {
 public:
  // Starts pinging on io when the supervisor asked for a watchdog (WATCHDOG_USEC for this pid).
  explicit Watchdog(boost::asio::io_context& io);
  ~Watchdog();
  void stop();  // from any thread; the pings end
  bool enabled() const { return interval_.count() != 0; }

 private:
  std::chrono::microseconds interval_{0};
  std::shared_ptr<boost::asio::steady_timer> timer_;
};

// Runs main_io on this thread until SIGTERM or SIGINT (returns its number). SIGHUP calls on_hup
// on this thread and goes on.
int run_until_stop(boost::asio::signal_set& signals, boost::asio::io_context& main_io, std::function<void()> on_hup);

}  // namespace volley::lifecycle
