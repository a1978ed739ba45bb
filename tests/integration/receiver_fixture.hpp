#pragma once
// volley-receiver as a test starts it: the real binary with a behaviour script written for the
// test, its ports read back from its first lines of output (so port 0 is race-free), its
// counters through GET /stats and its event log read back as JSON lines.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "../support/http_client.hpp"
#include "../support/process.hpp"
#include "sink_fixture.hpp"

namespace volley::test {

class SmtpReceiver {
 public:
  // `script`: the TOML behaviour file's text (see loadtest/README.md); "" accepts everything.
  // `listen`: one address per listener, "127.0.0.1:0" for a free port.
  SmtpReceiver(const std::filesystem::path& dir, std::string_view script,
               std::vector<std::string> listen = {"127.0.0.1:0"}, std::vector<std::string> extra_args = {})
      : dir_(dir) {
    std::filesystem::create_directories(dir_);
    std::vector<std::string> argv{binary(), "--log", log_path().string(), "--control", "127.0.0.1:0"};
    if (!script.empty()) {
      write_file(dir_ / "script.toml", script);
      argv.push_back("--script");
      argv.push_back((dir_ / "script.toml").string());
    }
    for (const auto& l : listen) {
      argv.push_back("--listen");
      argv.push_back(l);
    }
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    process_.start(argv, dir_ / "receiver.out");
    // The control line is printed after every listener's: once it is there, all are bound.
    const bool up = wait_until(
        [&] { return read_startup(listen.size()) || !process_.running(); }, std::chrono::seconds(30),
        std::chrono::milliseconds(10));
    if (!up || !process_.running())
      throw std::runtime_error("volley-receiver did not start (" + ChildProcess::describe(process_.status()) +
                               "):\n" + output());
  }
  ~SmtpReceiver() { process_.stop(std::chrono::seconds(10)); }
  SmtpReceiver(const SmtpReceiver&) = delete;
  SmtpReceiver& operator=(const SmtpReceiver&) = delete;

  static std::string binary() { return std::string(VOLLEY_BINARY_DIR) + "/loadtest/volley-receiver"; }

  // The bound port of the i-th --listen address, and the addresses as "127.0.0.1:40771".
  std::uint16_t port(std::size_t i = 0) const { return ports_.at(i); }
  const std::vector<std::string>& addresses() const { return addresses_; }
  std::uint16_t control_port() const { return control_port_; }

  // The counters (see loadtest/README.md): totals, "domains", and "clients" keyed by client IP.
  nlohmann::json stats() const {
    HttpClient client("127.0.0.1", control_port_, std::chrono::seconds(10));
    const auto res = client.get("/stats");
    if (res.status != 200) throw std::runtime_error("GET /stats answered " + std::to_string(res.status));
    return nlohmann::json::parse(res.body);
  }
  // The counters of one client IP (null when it was never seen).
  nlohmann::json client_stats(const std::string& ip) const { return stats()["clients"].value(ip, nlohmann::json()); }

  std::filesystem::path log_path() const { return dir_ / "events.jsonl"; }
  // The event log so far. It is written once per burst of events: wait for what you expect
  // with wait_until rather than reading it once.
  std::vector<nlohmann::json> events() const { return read_json_lines(log_path()); }
  std::vector<nlohmann::json> events(std::string_view kind) const {
    std::vector<nlohmann::json> out;
    for (auto& e : events())
      if (e.value("event", "") == kind) out.push_back(std::move(e));
    return out;
  }

  std::string output() const { return process_.log(); }
  // SIGTERM and wait: the receiver closes every session and flushes its log. The wait status.
  std::optional<int> stop() { return process_.stop(std::chrono::seconds(10)); }
  bool running() { return process_.running(); }

 private:
  bool read_startup(std::size_t listeners) {
    std::istringstream lines(output());
    std::vector<std::string> addresses;
    std::string line;
    while (std::getline(lines, line)) {
      if (line.rfind("listening ", 0) == 0) addresses.push_back(line.substr(10));
      if (line.rfind("control ", 0) == 0 && addresses.size() == listeners) {
        addresses_ = addresses;
        for (const auto& a : addresses_) ports_.push_back(static_cast<std::uint16_t>(std::stoi(a.substr(a.rfind(':') + 1))));
        control_port_ = static_cast<std::uint16_t>(std::stoi(line.substr(line.rfind(':') + 1)));
        return true;
      }
    }
    return false;
  }

  std::filesystem::path dir_;
  ChildProcess process_;
  std::vector<std::string> addresses_;
  std::vector<std::uint16_t> ports_;
  std::uint16_t control_port_ = 0;
};

}  // namespace volley::test
