#include "daemon/lifecycle.hpp"

#include <csignal>
#include <cstring>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>
#include "core/util/log_fields.hpp"

namespace volley::lifecycle {

namespace {

// Holds only the timer: a ping that fires after the Watchdog is gone touches nothing else.
void ping(std::shared_ptr<boost::asio::steady_timer> timer, std::chrono::microseconds interval) {
  notify("WATCHDOG=1");
  timer->expires_after(interval);
  timer->async_wait([timer, interval](const boost::system::error_code& ec) {
    if (!ec) ping(timer, interval);
  });
}

}  // namespace

void notify(const std::string& state) {
  // unset_environment = 0: a child (none today) could still tell systemd; the call only reads it.
  const int rc = sd_notify(0, state.c_str());
  if (rc < 0) spdlog::warn("lifecycle: sd_notify failed{}", util::log_fields("error", std::strerror(-rc)));
}

Watchdog::Watchdog(boost::asio::io_context& io) {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return;
  interval_ = std::chrono::microseconds(usec / 2);
  timer_ = std::make_shared<boost::asio::steady_timer>(io);
  spdlog::info("lifecycle: systemd watchdog on{}", util::log_fields("ping_ms", interval_.count() / 1000));
  boost::asio::post(io, [timer = timer_, interval = interval_] { ping(timer, interval); });
}

Watchdog::~Watchdog() { stop(); }

void Watchdog::stop() {
  if (!timer_) return;
  auto timer = timer_;
  boost::asio::post(timer->get_executor(), [timer] { timer->cancel(); });
}

int run_until_stop(boost::asio::signal_set& signals, boost::asio::io_context& main_io, std::function<void()> on_hup) {
  int stopped_by = 0;
  std::function<void(const boost::system::error_code&, int)> on_signal = [&](const boost::system::error_code& ec,
                                                                               int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      on_hup();
      return signals.async_wait(on_signal);
    }
    stopped_by = sig;
    main_io.stop();
  };
  signals.async_wait(on_signal);
  auto work = boost::asio::make_work_guard(main_io);  // posted reloads keep coming until a stop
  main_io.run();
  return stopped_by;
}

}  // namespace volley::lifecycle
