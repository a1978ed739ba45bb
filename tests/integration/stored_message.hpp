#pragma once
// Waiting for a message to reach the test's sink, shared by the tests that look at what arrived.
#include <chrono>
#include <string>

#include "../support/process.hpp"
#include "sink_fixture.hpp"

namespace volley::test {

// The stored message whose envelope's first recipient is `recipient`, waited for up to `within`
// (the last one, if several came); a message with an empty name when none came in time.
inline ReceivedMessage wait_for_stored(const SmtpSink& sink, const std::string& recipient,
                                       std::chrono::milliseconds within) {
  ReceivedMessage found;
  wait_until(
      [&] {
        for (auto& m : sink.messages())
          if (!m.rcpt_tos.empty() && m.rcpt_tos.front() == recipient) found = m;
        return !found.name.empty();
      },
      within, std::chrono::milliseconds(50));
  return found;
}

}  // namespace volley::test
