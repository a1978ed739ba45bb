#pragma once
// Which destinations' metric series may go, so that a sender reaching 100,000 domains does not
// export a million series for ever. A destination is idle when nothing was reported for it (a
// message arriving, an outcome, a queue or connection change) for `ttl`, and it has no recipient
// queued and no connection open: a destination with deferred mail keeps its series however long
// its retries are apart. Times are milliseconds on the caller's clock.
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace volley::metrics {

class IdleDestinations {
 public:
  explicit IdleDestinations(std::int64_t ttl_ms);  // 0: no destination is ever idle

  // Something was reported for the destination at now_ms.
  void touch(const std::string& domain, std::int64_t now_ms);
  // Its queue and connections, as last reported (also a report: it touches).
  void set_busy(const std::string& domain, bool busy, std::int64_t now_ms);

  // The destinations idle at now_ms; they are forgotten (a later report starts them anew).
  std::vector<std::string> take_idle(std::int64_t now_ms);

  // How often take_idle is worth calling: a series lives at most ttl plus this.
  std::int64_t sweep_interval_ms() const;
  bool enabled() const { return ttl_ms_ > 0; }
  std::size_t size() const { return activity_.size(); }

 private:
  struct Activity {
    std::int64_t last_ms = 0;
    bool busy = false;
  };
  std::int64_t ttl_ms_;
  std::unordered_map<std::string, Activity> activity_;
};

}  // namespace volley::metrics
