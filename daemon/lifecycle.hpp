#pragma once
// The daemon's life as its supervisor sees it (docs/operations.md "Lifecycle"):
// - systemd's notify protocol (Type=notify): READY=1 once the spool is recovered and every
//   listener is bound, RELOADING=1 / READY=1 around a reload, STOPPING=1 when the drain begins,
//   STATUS= lines; nothing at all when volleyd does not run under a notify-aware supervisor
//   (no NOTIFY_SOCKET);
// - the watchdog (WatchdogSec=): WATCHDOG=1 at half the interval from the io thread, which runs
//   every SMTP and DNS socket, and only while every other watched thread (the HTTP API's) has
//   turned within the interval: if any of them stalls, the pings stop and systemd restarts the
//   daemon;
// - the main thread's loop: SIGTERM and SIGINT end it (the caller then drains), SIGHUP runs a
//   reload, and other threads may post work to it (the reload API does).
#include <chrono>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <utility>  // before Boost.Asio (see build-facts)

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

namespace volley::lifecycle {

void notify(const std::string& state);  // e.g. "READY=1\nSTATUS=..."; a no-op without NOTIFY_SOCKET

// A thread the watchdog's pings vouch for besides the one they are sent from.
struct WatchedThread {
  std::string name;  // for the log line when it stalls
  boost::asio::io_context* io;
};

class Watchdog {
 public:
  // Starts pinging on io when the supervisor asked for a watchdog (WATCHDOG_USEC for this pid).
  // Each ping asks every thread in `also` to answer; a ping is withheld while one of them has
  // not answered for the whole WatchdogSec, so a stall of any watched thread ends the pings.
  explicit Watchdog(boost::asio::io_context& io, std::vector<WatchedThread> also = {});
  ~Watchdog();
  void stop();  // from any thread; the pings end
  bool enabled() const { return state_ != nullptr; }
  std::uint64_t withheld() const;  // pings not sent because a watched thread had stalled

  struct State;

 private:
  std::shared_ptr<State> state_;
};

// Runs main_io on this thread until SIGTERM or SIGINT (returns its number). SIGHUP calls on_hup
// on this thread and goes on.
int run_until_stop(boost::asio::signal_set& signals, boost::asio::io_context& main_io, std::function<void()> on_hup);

}  // namespace volley::lifecycle
