#pragma once
// volleyctl's exit statuses (docs/volleyctl.md) and the errors that end a command with one.
#include <stdexcept>
#include <string>

namespace volley::ctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRefused = 1;      // the daemon said no (4xx or 5xx)
inline constexpr int kExitUnreachable = 2;  // unreachable, timed out, or bad usage

// The daemon answered with an error; the message is its error message.
struct Refused : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// No answer: cannot connect, the connection broke, or the timeout passed.
struct Unreachable : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// The command line or a file named on it is wrong.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace volley::ctl
