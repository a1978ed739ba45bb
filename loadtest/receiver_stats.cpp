#include "receiver_stats.hpp"
#include "core/util/address_domain.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <system_error>

namespace volley::receiver {

namespace {

using util::domain_of;

}  // namespace

Outcome outcome_of(int code) {
  if (code < 400) return Outcome::accepted;
  return code < 500 ? Outcome::deferred : Outcome::rejected;
}

void Stats::connected(const std::string& ip, bool admitted) {
  both(ip, [&](Counters& c) {
    ++c.connections;
    if (!admitted) {
      ++c.refused_connections;
      return;
    }
    c.peak_concurrent = std::max(c.peak_concurrent, ++c.concurrent);
  });
}

void Stats::closed(const std::string& ip) {
  both(ip, [](Counters& c) { --c.concurrent; });
}

void Stats::message(const std::string& ip) {
  both(ip, [](Counters& c) { ++c.messages; });
}

void Stats::recipient(const std::string& ip, std::string_view address, Outcome outcome) {
  const auto domain = domain_of(address);
  both(ip, [&](Counters& c) {
    auto& d = c.domains[domain];
    switch (outcome) {
      case Outcome::accepted: ++d.accepted; break;
      case Outcome::rejected: ++d.rejected; break;
      case Outcome::deferred: ++d.deferred; break;
      case Outcome::dropped: ++d.dropped; break;
    }
  });
}

void Stats::rate_limited(const std::string& ip) {
  both(ip, [](Counters& c) { ++c.rate_limited; });
}

void Stats::dropped(const std::string& ip) {
  both(ip, [](Counters& c) { ++c.dropped; });
}

void Stats::tls(const std::string& ip) {
  both(ip, [](Counters& c) { ++c.tls_sessions; });
}

void Stats::tls_message(const std::string& ip) {
  both(ip, [](Counters& c) { ++c.tls_messages; });
}

std::size_t Stats::concurrent(const std::string& ip) const {
  const auto it = clients_.find(ip);
  return it == clients_.end() ? 0 : it->second.concurrent;
}

nlohmann::json Stats::Counters::to_json() const {
  nlohmann::json j{{"connections", connections}, {"refused_connections", refused_connections},
                   {"concurrent", concurrent},   {"peak_concurrent", peak_concurrent},
                   {"messages", messages},       {"rate_limited", rate_limited},
                   {"dropped", dropped},         {"tls_sessions", tls_sessions},
                   {"tls_messages", tls_messages}, {"domains", nlohmann::json::object()}};
  for (const auto& [name, d] : domains)
    j["domains"][name] = {{"accepted", d.accepted}, {"rejected", d.rejected}, {"deferred", d.deferred},
                          {"dropped", d.dropped}};
  return j;
}

nlohmann::json Stats::to_json() const {
  auto j = total_.to_json();
  j["clients"] = nlohmann::json::object();
  for (const auto& [ip, c] : clients_) j["clients"][ip] = c.to_json();
  return j;
}

EventLog::EventLog(const std::string& path) : path_(path) {
  if (path.empty()) return;
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "open " + path);
}

EventLog::~EventLog() {
  if (fd_ < 0) return;
  try {
    flush();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "volley-receiver: %s\n", e.what());
  }
  ::close(fd_);
}

void EventLog::write(nlohmann::json& event) {
  if (fd_ < 0) return;
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  event["ts"] = std::chrono::duration_cast<std::chrono::milliseconds>(now).count();
  // Addresses and EHLO names are client bytes: invalid UTF-8 is replaced, not fatal.
  buffer_ += event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  buffer_ += '\n';
}

void EventLog::flush() {
  std::size_t done = 0;
  while (done < buffer_.size()) {
    const auto n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::system_error(errno, std::generic_category(), "write " + path_);
    done += static_cast<std::size_t>(n);
  }
  buffer_.clear();
}

}  // namespace volley::receiver
