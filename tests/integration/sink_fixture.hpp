#pragma once
// The receiving side of an integration test: tests/support/smtp_sink.py (aiosmtpd) listening on
// one or more loopback addresses, and what it stored, read back as envelopes and exact bytes.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../support/process.hpp"

namespace volley::test {

struct ReceivedMessage {
  std::string name;         // the sink's file name (without extension)
  std::string mail_from;    // MAIL FROM address as the sink parsed it
  std::vector<std::string> rcpt_tos;
  std::string local;        // "127.0.0.3:2525": where the sink received it
  std::string helo;
  std::string peer;         // "127.0.0.1:40312": the client end of the connection it came on
  std::vector<std::string> mail_options;
  std::string data;         // DATA bytes after dot-unstuffing, as aiosmtpd handed them over
};

// Reads every complete message in `maildir` (the .json sidecar is renamed into place last).
inline std::vector<ReceivedMessage> read_maildir(const std::filesystem::path& maildir) {
  std::vector<ReceivedMessage> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(maildir, ec)) {
    if (entry.path().extension() != ".json") continue;
    const auto envelope = nlohmann::json::parse(read_file(entry.path()));
    ReceivedMessage m;
    m.name = entry.path().stem().string();
    m.mail_from = envelope.at("mail_from").get<std::string>();
    m.rcpt_tos = envelope.at("rcpt_tos").get<std::vector<std::string>>();
    m.local = envelope.at("local").get<std::string>();
    m.helo = envelope.value("helo", "");
    if (envelope.contains("peer") && envelope["peer"].is_array() && envelope["peer"].size() == 2)
      m.peer = envelope["peer"][0].get<std::string>() + ":" + std::to_string(envelope["peer"][1].get<int>());
    m.mail_options = envelope.value("mail_options", std::vector<std::string>{});
    m.data = read_file(maildir / (m.name + ".eml"));
    out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(),
            [](const ReceivedMessage& a, const ReceivedMessage& b) { return a.name < b.name; });
  return out;
}

// Complete JSON lines of a JSON-lines file (a line still being written is left for later).
// A malformed line throws, unless `skip_torn`: a process killed mid-write leaves a torn line
// that the next writer's first line is appended to; `*skipped` then counts them.
inline std::vector<nlohmann::json> read_json_lines(const std::filesystem::path& path,
                                                   bool skip_torn = false,
                                                   std::size_t* skipped = nullptr) {
  std::vector<nlohmann::json> out;
  const std::string text = read_file(path);
  std::size_t start = 0;
  for (;;) {
    const std::size_t nl = text.find('\n', start);
    if (nl == std::string::npos) break;
    if (nl > start) {
      auto line = nlohmann::json::parse(text.substr(start, nl - start), nullptr, false);
      if (!line.is_discarded()) {
        out.push_back(std::move(line));
      } else if (skip_torn) {
        if (skipped) ++*skipped;
      } else {
        throw std::runtime_error(path.string() + ": malformed line: " +
                                 text.substr(start, std::min<std::size_t>(nl - start, 200)));
      }
    }
    start = nl + 1;
  }
  return out;
}

class SmtpSink {
 public:
  // Listens on every address in `hosts` at `port`. `script` is the per-recipient behaviour
  // (see smtp_sink.py); null for "accept everything".
  SmtpSink(const std::filesystem::path& dir, const std::vector<std::string>& hosts,
           std::uint16_t port, const nlohmann::json& script = nullptr)
      : dir_(dir) {
    std::filesystem::create_directories(dir_);
    std::vector<std::string> argv{"/usr/bin/python3",
                                  std::string(VOLLEY_SOURCE_DIR) + "/tests/support/smtp_sink.py",
                                  "--maildir", maildir().string(),
                                  "--events", events_path().string(),
                                  "--ready-file", (dir_ / "ready").string()};
    for (const auto& host : hosts) {
      argv.push_back("--listen");
      argv.push_back(host + ":" + std::to_string(port));
    }
    if (!script.is_null()) {
      write_file(dir_ / "script.json", script.dump(2));
      argv.push_back("--script");
      argv.push_back((dir_ / "script.json").string());
    }
    process_.start(argv, dir_ / "sink.log");
    const bool ready = wait_until(
        [&] { return std::filesystem::exists(dir_ / "ready") || !process_.running(); },
        std::chrono::seconds(30));
    if (!ready || !process_.running())
      throw std::runtime_error("smtp sink did not start (" +
                               ChildProcess::describe(process_.status()) + "):\n" +
                               process_.log());
  }
  ~SmtpSink() { process_.stop(std::chrono::seconds(5)); }
  SmtpSink(const SmtpSink&) = delete;
  SmtpSink& operator=(const SmtpSink&) = delete;

  std::filesystem::path maildir() const { return dir_ / "maildir"; }
  std::filesystem::path events_path() const { return dir_ / "events.jsonl"; }
  std::vector<ReceivedMessage> messages() const { return read_maildir(maildir()); }
  // One line per RCPT and DATA: {"kind", "recipient"/"recipients", "reply", "local", ...}.
  std::vector<nlohmann::json> events() const { return read_json_lines(events_path()); }
  std::string log() const { return process_.log(); }

  // How many stored transactions named each recipient (so "exactly once" can be checked).
  std::map<std::string, int> deliveries_per_recipient() const {
    std::map<std::string, int> count;
    for (const auto& m : messages())
      for (const auto& r : m.rcpt_tos) ++count[r];
    return count;
  }

 private:
  std::filesystem::path dir_;
  ChildProcess process_;
};

}  // namespace volley::test
