#pragma once
// Failed AUTH attempts per client address: each failure is answered after a delay that grows
// with the failures in a row (500 ms, 1 s, 2 s, 4 s), and the fifth in a row locks the address
// out for a while (Options::lockout), so that guessing passwords is slow and then stops. A success
// clears the address. Time is passed in (milliseconds on the caller's clock).
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace volley::submission {

class AuthThrottle {
 public:
  struct Options {
    int max_failures = 5;
    std::chrono::milliseconds first_delay{500};
    std::chrono::milliseconds max_delay{4000};
    std::chrono::milliseconds lockout{900'000};
    std::size_t max_tracked = 100'000;  // addresses remembered; the oldest go first
  };
  struct Failure {
    std::chrono::milliseconds delay{0};  // before the 535 is sent
    bool locked_now = false;             // this failure locked the address out
  };

  AuthThrottle() : AuthThrottle(Options{}) {}
  explicit AuthThrottle(Options o) : opts_(o) {}

  bool locked(std::string_view address, std::int64_t now_ms) const;
  Failure failed(std::string_view address, std::int64_t now_ms);
  void succeeded(std::string_view address);
  std::size_t tracked() const { return entries_.size(); }

 private:
  struct Entry {
    int failures = 0;             // in a row
    std::int64_t locked_until = 0;
    std::int64_t last = 0;
  };
  void make_room(std::int64_t now_ms);

  Options opts_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace volley::submission
