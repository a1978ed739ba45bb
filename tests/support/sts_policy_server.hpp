#pragma once
// Test support: a local HTTPS server for MTA-STS policies (tests/support/sts_policy_server.py
// under /usr/bin/python3) with a certificate made at start by a test CA of its own (openssl),
// for the host names given. Point a fetch at 127.0.0.1:port() and trust ca_file(). Header-only.
//
//   volley::test::StsPolicyServer https({"mta-sts.example.test"});
//   https.answer("mta-sts.example.test", 200, "version: STSv1\nmode: enforce\n...");
//   ... fetch ...; https.requests("mta-sts.example.test") == 1
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/process.hpp"

namespace volley::test {

// A CA and one server certificate (EC P-256) for `names` (subjectAltName DNS entries), in dir:
// ca.pem, server.pem, server.key. Throws with openssl's output when a step fails.
inline void make_test_certificates(const std::filesystem::path& dir, const std::vector<std::string>& names) {
  auto run = [&](std::vector<std::string> argv) {
    auto [status, out] = run_with_input(argv, "", dir);
    if (status != 0) throw std::runtime_error("openssl failed: " + out);
  };
  std::string san = "subjectAltName=";
  for (std::size_t i = 0; i < names.size(); ++i) san += (i ? ",DNS:" : "DNS:") + names[i];
  const std::string d = dir.string() + "/";
  run({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
       "-subj", "/CN=Volley Test CA", "-days", "2", "-keyout", d + "ca.key", "-out", d + "ca.pem"});
  run({"/usr/bin/openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
       "-subj", "/CN=" + names.front(), "-addext", san, "-keyout", d + "server.key", "-out", d + "server.csr"});
  run({"/usr/bin/openssl", "x509", "-req", "-in", d + "server.csr", "-CA", d + "ca.pem", "-CAkey", d + "ca.key",
       "-CAcreateserial", "-days", "2", "-copy_extensions", "copy", "-out", d + "server.pem"});
}

class StsPolicyServer {
 public:
  // `names`: the host names its certificate carries (mta-sts.<domain> ...).
  explicit StsPolicyServer(std::vector<std::string> names) : dir_("volley-sts-https") {
    make_test_certificates(dir_.path(), names);
    write_answers();
    const auto ready = dir_ / "ready";
    child_ = ChildProcess({"/usr/bin/python3", std::string(VOLLEY_SOURCE_DIR) + "/tests/support/sts_policy_server.py",
                           "--cert", (dir_ / "server.pem").string(), "--key", (dir_ / "server.key").string(),
                           "--answers", (dir_ / "answers.json").string(), "--log", (dir_ / "requests.log").string(),
                           "--ready", ready.string()},
                          dir_ / "server.out");
    if (!wait_until([&] { return std::filesystem::exists(ready) || !child_.running(); }, std::chrono::seconds(30)) ||
        !std::filesystem::exists(ready))
      throw std::runtime_error("the policy server did not start: " + read_file(dir_ / "server.out"));
    port_ = static_cast<std::uint16_t>(std::stoi(read_file(ready)));
  }

  std::uint16_t port() const { return port_; }
  std::string ca_file() const { return (dir_ / "ca.pem").string(); }
  const std::filesystem::path& directory() const { return dir_.path(); }

  // What a GET with this Host gets from now on.
  void answer(const std::string& host, int status, const std::string& body,
              const std::string& content_type = "text/plain", double delay_seconds = 0,
              const std::string& location = "") {
    answers_[host] = {{"status", status}, {"body", body}, {"content_type", content_type},
                      {"delay", delay_seconds}, {"location", location}};
    write_answers();
  }

  // GETs answered for this Host so far.
  int requests(const std::string& host) const {
    std::istringstream log(read_file(dir_ / "requests.log"));
    int n = 0;
    for (std::string line; std::getline(log, line);)
      if (line.rfind(host + " ", 0) == 0) ++n;
    return n;
  }

 private:
  void write_answers() {
    // Written aside and renamed, so the server never reads half a file.
    write_file(dir_ / "answers.json.tmp", answers_.dump());
    std::filesystem::rename(dir_ / "answers.json.tmp", dir_ / "answers.json");
  }

  TempDir dir_;
  nlohmann::json answers_ = nlohmann::json::object();
  ChildProcess child_;
  std::uint16_t port_ = 0;
};

}  // namespace volley::test
