// volley-body-bench: the per-message passes over an injected text body, timed alone: to_crlf and
// fits_7bit (the text part, core/message) and to_wire_data or into_wire_data (the spooled DATA
// payload, core/smtp; the API calls into_wire_data on the message it built), on the text
// volley-loadgen sends (76-column lines of letters, digits and spaces). Prints the median CPU
// microseconds per call of each over --rounds rounds of --calls calls. Since round twelve
// (loadtest/README.md) to_crlf alone runs the same loop as to_crlf with fits_7bit, its judgement
// unused: the first line's to_crlf is no longer the plainer pass that round's table compares.
//   volley-body-bench [--bytes N] [--rounds R] [--calls C]
// Build it Release (the bench's build/): a sanitizer build measures the sanitizer. To time another
// checkout's code, compile this file against its sources (loadtest/README.md, issue 14, round 9).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "core/message/transfer_encoding.hpp"
#include "core/smtp/wire.hpp"

namespace {

double cpu_us() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

template <class F>
double median_us(int rounds, int calls, F&& f) {
  std::vector<double> per_call;
  for (int r = 0; r < rounds; ++r) {
    const double t0 = cpu_us();
    for (int i = 0; i < calls; ++i) f();
    per_call.push_back((cpu_us() - t0) / calls);
  }
  std::sort(per_call.begin(), per_call.end());
  return per_call[per_call.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t bytes = 102400;
  int rounds = 9, calls = 200;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--bytes") == 0) bytes = std::strtoul(argv[i + 1], nullptr, 10);
    else if (std::strcmp(argv[i], "--rounds") == 0) rounds = std::atoi(argv[i + 1]);
    else if (std::strcmp(argv[i], "--calls") == 0) calls = std::atoi(argv[i + 1]);
    else return std::fprintf(stderr, "usage: volley-body-bench [--bytes N] [--rounds R] [--calls C]\n"), 2;
  }
  if (rounds < 1 || calls < 1) return std::fprintf(stderr, "--rounds and --calls must be positive\n"), 2;
  // The text of volley-loadgen (same alphabet, same seed, a line end every 76 bytes).
  static const char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789";
  std::string text;
  std::mt19937 rng{42};
  for (std::size_t i = 0; i < bytes; ++i) text += (i % 76 == 75) ? '\n' : kAlphabet[rng() % (sizeof(kAlphabet) - 1)];
  const std::string crlf = volley::message::to_crlf(text);
  std::size_t sink = 0;  // keeps the calls from being optimised away
  const double crlf_us = median_us(rounds, calls, [&] { sink += volley::message::to_crlf(text).size(); });
  const double fits_us = median_us(rounds, calls, [&] { sink += volley::message::fits_7bit(crlf); });
  const double wire_us = median_us(rounds, calls, [&] { sink += volley::smtp::to_wire_data(crlf).size(); });
  // into_wire_data takes a message it may keep: each call gets a copy of the text part as the API
  // builds it (a final CRLF, room for the terminator), whose cost is timed alone to be told apart.
  const std::string built = crlf.size() >= 2 && crlf.compare(crlf.size() - 2, 2, "\r\n") == 0 ? crlf : crlf + "\r\n";
  auto copy = [&] {
    std::string m;
    m.reserve(built.size() + 3);
    m = built;
    return m;
  };
  const double copy_us = median_us(rounds, calls, [&] { sink += copy().size(); });
  const double into_us = median_us(rounds, calls, [&] { sink += volley::smtp::into_wire_data(copy()).size(); }) - copy_us;
  bool fits = false;
  const double fused_us = median_us(rounds, calls, [&] { sink += volley::message::to_crlf(text, &fits).size() + fits; });
  std::printf("%zu bytes: to_crlf %.1f us, fits_7bit %.1f us, to_wire_data %.1f us, sum %.1f us\n", bytes, crlf_us,
              fits_us, wire_us, crlf_us + fits_us + wire_us);
  std::printf("%zu bytes, as the API runs them: to_crlf with fits_7bit %.1f us, into_wire_data %.1f us (less the copy "
              "it was given, %.1f us), sum %.1f us (%zu)\n",
              bytes, fused_us, into_us, copy_us, fused_us + into_us, sink % 10);
  return 0;
}
