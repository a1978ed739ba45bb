#include "daemon/lifecycle.hpp"

#include <csignal>
#include <cstring>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>
#include "core/util/log_fields.hpp"

namespace volley::lifecycle {

// Shared by the pings and the answers posted to the watched threads, so that either may run
// after the Watchdog is gone.
struct Watchdog::State {
  State(boost::asio::io_context& io, std::chrono::microseconds every, std::vector<WatchedThread> watched)
      : interval(every), timer(io), also(std::move(watched)), answered(also.size()), stalled(also.size(), false) {}
  std::chrono::microseconds interval;  // between pings: half of WatchdogSec
  boost::asio::steady_timer timer;
  std::vector<WatchedThread> also;
  std::vector<std::atomic<std::int64_t>> answered;  // steady_clock nanoseconds of each one's last answer
  std::vector<bool> stalled;  // the io thread's own: which stalls are already in the log
  std::atomic<std::uint64_t> withheld{0};
  bool stopped = false;  // the io thread's own: a ping whose wait had ended before stop() runs no more
};

namespace {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void ping(const std::shared_ptr<Watchdog::State>& s) {
  if (s->stopped) return;
  // A thread that has not answered any of the last two pings' requests (the whole WatchdogSec)
  // has stalled: withholding the ping lets systemd restart the daemon one interval later.
  const auto now = now_ns();
  const auto limit = std::chrono::duration_cast<std::chrono::nanoseconds>(2 * s->interval).count();
  bool all_answered = true;
  for (std::size_t i = 0; i < s->also.size(); ++i) {
    const auto silent = now - s->answered[i].load(std::memory_order_relaxed);
    if (silent > limit) {
      all_answered = false;
      if (!s->stalled[i])
        spdlog::error("lifecycle: the {} thread has not run for {} ms: watchdog pings withheld{}", s->also[i].name,
                      silent / 1'000'000, util::log_fields("thread", s->also[i].name));
      s->stalled[i] = true;
    } else if (s->stalled[i]) {
      spdlog::warn("lifecycle: the {} thread runs again: watchdog pings resume", s->also[i].name);
      s->stalled[i] = false;
    }
  }
  if (all_answered)
    notify("WATCHDOG=1");
  else
    s->withheld.fetch_add(1, std::memory_order_relaxed);
  for (std::size_t i = 0; i < s->also.size(); ++i)
    boost::asio::post(*s->also[i].io, [s, i] { s->answered[i].store(now_ns(), std::memory_order_relaxed); });
  s->timer.expires_after(s->interval);
  s->timer.async_wait([s](const boost::system::error_code& ec) {
    if (!ec) ping(s);
  });
}

}  // namespace

void notify(const std::string& state) {
  // unset_environment = 0: a child (none today) could still tell systemd; the call only reads it.
  const int rc = sd_notify(0, state.c_str());
  if (rc < 0) spdlog::warn("lifecycle: sd_notify failed{}", util::log_fields("error", std::strerror(-rc)));
}

Watchdog::Watchdog(boost::asio::io_context& io, std::vector<WatchedThread> also) {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return;
  state_ = std::make_shared<State>(io, std::chrono::microseconds(usec / 2), std::move(also));
  for (auto& a : state_->answered) a.store(now_ns(), std::memory_order_relaxed);
  spdlog::info("lifecycle: systemd watchdog on{}",
               util::log_fields("ping_ms", state_->interval.count() / 1000, "watched_threads", state_->also.size() + 1));
  boost::asio::post(io, [s = state_] { ping(s); });
}

Watchdog::~Watchdog() { stop(); }

void Watchdog::stop() {
  if (!state_) return;
  auto s = state_;
  boost::asio::post(s->timer.get_executor(), [s] {
    s->stopped = true;
    s->timer.cancel();
  });
}

std::uint64_t Watchdog::withheld() const {
  return state_ ? state_->withheld.load(std::memory_order_relaxed) : 0;
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
