#pragma once
// volleyd as a test starts it: the real binary, a config file written for this test (free
// ports, a spool in the test's directory, DNS pointed at the test's NSD), waited on through
// GET /healthz, and read back through its HTTP API and its event log.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../support/http_client.hpp"
#include "../support/process.hpp"
#include "sink_fixture.hpp"

namespace volley::test {

struct Route {
  std::string domain;
  std::string host;
  std::uint16_t port;
};

struct VolleydOptions {
  std::uint16_t dns_port = 0;   // the test's NSD
  std::uint16_t smtp_port = 0;  // where every MX host's sink listens
  std::vector<Route> routes;
  std::string retry_first = "1s";
  std::string retry_max_interval = "2s";
  std::string max_age = "1h";
  std::string idle_timeout = "2s";
  std::string delivery_extra;  // more keys of [delivery], one "key = value" per line
  std::string spool_extra;     // more keys of [spool], one "key = value" per line
  std::string dns_extra;       // more keys of [dns], one "key = value" per line
  std::string log_extra;       // more keys of [log], one "key = value" per line
  std::string extra_toml;      // more tables ([[source]], [[pool]], [shaping.*], ...)
  std::string http_extra;      // more keys of [http], one "key = value" per line
  std::string top_extra;       // more top-level keys, one "key = value" per line
  // Whether the daemon answers on its HTTP port; null: GET /healthz over plain HTTP says 200.
  std::function<bool(std::uint16_t port)> healthy;
};

// The usual options: DNS from the test's NSD, every MX host's SMTP server on `smtp_port`.
inline VolleydOptions volleyd_options(std::uint16_t dns_port, std::uint16_t smtp_port) {
  VolleydOptions o;
  o.dns_port = dns_port;
  o.smtp_port = smtp_port;
  return o;
}

inline std::string volleyd_config(const VolleydOptions& o, std::uint16_t http_port,
                                  const std::filesystem::path& spool,
                                  const std::filesystem::path& event_log) {
  std::string toml =
      "hostname = \"volley.test\"\n" +
      o.top_extra +
      "[http]\n"
      "listen = \"127.0.0.1:" + std::to_string(http_port) + "\"\n" +
      o.http_extra +
      "[spool]\n"
      "path = \"" + spool.string() + "\"\n" +
      o.spool_extra +
      "[dns]\n"
      "servers = [\"127.0.0.1:" + std::to_string(o.dns_port) + "\"]\n"
      "timeout = \"1s\"\n" +
      o.dns_extra +
      "[delivery]\n"
      "smtp_port = " + std::to_string(o.smtp_port) + "\n"
      "ehlo_name = \"mta.volley.test\"\n"
      "retry_first = \"" + o.retry_first + "\"\n"
      "retry_max_interval = \"" + o.retry_max_interval + "\"\n"
      "max_age = \"" + o.max_age + "\"\n"
      "idle_timeout = \"" + o.idle_timeout + "\"\n" +
      o.delivery_extra +
      "[log]\n"
      "event_log = \"" + event_log.string() + "\"\n" +
      o.log_extra +
      "[suppression]\n"
      "path = \"" + (spool.parent_path() / "suppressions").string() + "\"\n"
      "[events]\n"
      "webhook_queue = \"" + (spool.parent_path() / "webhooks").string() + "\"\n";
  for (const auto& r : o.routes)
    toml += "[[route]]\ndomain = \"" + r.domain + "\"\nhost = \"" + r.host +
            "\"\nport = " + std::to_string(r.port) + "\n";
  return toml + o.extra_toml;
}

class Volleyd {
 public:
  Volleyd(const std::filesystem::path& dir, VolleydOptions options)
      : dir_(dir), options_(std::move(options)) {
    std::filesystem::create_directories(dir_);
    start();
  }
  ~Volleyd() { process_.stop(std::chrono::seconds(20)); }
  Volleyd(const Volleyd&) = delete;
  Volleyd& operator=(const Volleyd&) = delete;

  static std::string binary() { return std::string(VOLLEY_BINARY_DIR) + "/volleyd"; }

  // Starts (or restarts) volleyd with the same spool and event log, on a new HTTP port (the old
  // one may still be held by the killed process's sockets), and waits until /healthz says 200.
  void start() {
    http_port_ = free_port();
    ++generation_;
    const auto config = config_path();
    write_file(config, volleyd_config(options_, http_port_, spool_path(), event_log_path()));
    process_.start({binary(), "--config", config.string()},
                   dir_ / ("volleyd-" + std::to_string(generation_) + ".log"));
    HttpClient probe("127.0.0.1", http_port_, std::chrono::seconds(2));
    const bool up = wait_until(
        [&] {
          if (!process_.running()) return true;
          if (options_.healthy) return options_.healthy(http_port_);
          try {
            return probe.get("/healthz").status == 200;
          } catch (const HttpError&) {
            probe.close();
            return false;
          }
        },
        std::chrono::seconds(60), std::chrono::milliseconds(50));
    if (!up || !process_.running())
      throw std::runtime_error("volleyd did not become healthy (" +
                               ChildProcess::describe(process_.status()) + "); log:\n" + log());
  }

  // SIGKILL: a crash, with no chance to flush or close anything.
  void crash() { process_.kill_now(); }
  // SIGTERM and wait: the orderly shutdown. Returns the wait status.
  std::optional<int> stop() { return process_.stop(std::chrono::seconds(20)); }
  bool running() { return process_.running(); }
  void signal(int sig) { process_.signal(sig); }
  pid_t pid() const { return process_.pid(); }

  // The running volleyd's configuration file, and a new text for it (same ports and paths) that a
  // reload (SIGHUP, POST /api/v1/reload) then reads.
  std::filesystem::path config_path() const { return dir_ / ("volleyd-" + std::to_string(generation_) + ".toml"); }
  void rewrite_config(VolleydOptions options) {
    options_ = std::move(options);
    write_file(config_path(), volleyd_config(options_, http_port_, spool_path(), event_log_path()));
  }

  std::uint16_t http_port() const { return http_port_; }
  HttpClient client() const { return HttpClient("127.0.0.1", http_port_); }
  std::filesystem::path spool_path() const { return dir_ / "spool"; }
  std::filesystem::path event_log_path() const { return dir_ / "events.jsonl"; }
  std::vector<nlohmann::json> events() const { return read_json_lines(event_log_path()); }
  std::string log() const { return process_.log(); }

 private:
  std::filesystem::path dir_;
  VolleydOptions options_;
  std::uint16_t http_port_ = 0;
  int generation_ = 0;
  ChildProcess process_;
};

// The events of one kind ("delivered", "deferred", "bounced", "expired") for one recipient.
inline std::vector<nlohmann::json> events_for(const std::vector<nlohmann::json>& events,
                                              const std::string& kind,
                                              const std::string& recipient) {
  std::vector<nlohmann::json> out;
  for (const auto& e : events)
    if (e.value("event", "") == kind && e.value("recipient", "") == recipient) out.push_back(e);
  return out;
}

// The 202 answer of one injection, reduced to what tests need.
struct Accepted {
  std::string id;                                  // message id
  std::vector<std::pair<std::string, std::string>> recipients;  // (email, recipient id)
};

// POSTs one message; returns the 202 answer, or throws with the status and body otherwise.
inline Accepted inject(HttpClient& client, const nlohmann::json& request) {
  const auto res = client.post_json("/api/v1/messages", request.dump());
  if (res.status != 202)
    throw std::runtime_error("injection answered " + std::to_string(res.status) + ": " +
                             res.body);
  const auto answer = nlohmann::json::parse(res.body);
  Accepted a;
  a.id = answer.at("id").get<std::string>();
  for (const auto& r : answer.at("recipients"))
    a.recipients.emplace_back(r.at("email").get<std::string>(), r.at("id").get<std::string>());
  return a;
}

}  // namespace volley::test
