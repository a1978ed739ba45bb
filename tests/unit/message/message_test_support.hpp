#pragma once
// Helpers shared by the message tests: run prepare_message expecting success or refusal, split
// a built message, and parse one with Python's email package as an independent reader.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/message/prepare.hpp"

namespace volley::test {

using nlohmann::json;

inline PrepareOptions fixed_options() {
  PrepareOptions o;
  o.hostname = "mta.test";
  o.now_unix = 1751371200;  // Tue, 01 Jul 2025 12:00:00 +0000
  return o;
}

inline PreparedMessage prepared(const json& req, const PrepareOptions& opts = fixed_options()) {
  auto r = prepare_message(req, opts);
  if (auto* e = std::get_if<PrepareError>(&r)) FAIL("refused: " << e->code << " " << e->field << ": " << e->message);
  return std::get<PreparedMessage>(std::move(r));
}

inline PrepareError refused(const json& req, const PrepareOptions& opts = fixed_options()) {
  auto r = prepare_message(req, opts);
  if (std::holds_alternative<PreparedMessage>(r)) FAIL("accepted: " << req.dump());
  return std::get<PrepareError>(std::move(r));
}

inline std::string header_section(const std::string& m) { return m.substr(0, m.find("\r\n\r\n") + 2); }

inline std::vector<std::string> crlf_lines(const std::string& s) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < s.size()) {
    std::size_t e = s.find("\r\n", pos);
    if (e == std::string::npos) e = s.size();
    out.push_back(s.substr(pos, e - pos));
    pos = e + 2;
  }
  return out;
}

// Unfolded value of the first header field called `name` (exact case), or "" when absent.
inline std::string header_value(const std::string& m, const std::string& name) {
  std::string head = header_section(m);
  std::size_t p = head.rfind(name + ":", 0) == 0 ? 0 : head.find("\r\n" + name + ":");
  if (p == std::string::npos) return "";
  if (p != 0) p += 2;
  std::size_t start = p + name.size() + 1;
  std::string v;
  std::size_t e = start;
  while (true) {
    std::size_t eol = head.find("\r\n", e);
    v += head.substr(e, eol - e);
    e = eol + 2;
    if (e >= head.size() || (head[e] != ' ' && head[e] != '\t')) break;
  }
  std::size_t b = v.find_first_not_of(" \t");
  return b == std::string::npos ? "" : v.substr(b);
}

// Parses `message` with /usr/bin/python3's email package (policy=default).
inline json parse_with_python(const std::string& message) {
  char path[] = "/tmp/volley-msg-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  REQUIRE(write(fd, message.data(), message.size()) == static_cast<ssize_t>(message.size()));
  close(fd);
  std::string out_path = std::string(path) + ".json";
  std::string cmd = std::string("/usr/bin/python3 ") + VOLLEY_SOURCE_DIR + "/tests/unit/message/parse_message.py " +
                    path + " > " + out_path;
  int rc = std::system(cmd.c_str());
  std::ifstream in(out_path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::remove(path);
  std::remove(out_path.c_str());
  REQUIRE(rc == 0);
  return json::parse(ss.str());
}

}  // namespace volley::test
