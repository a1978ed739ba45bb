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
#include "core/message/transfer_encoding.hpp"

namespace volley::test {

using namespace volley::message;

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

inline bool is_encoded_word(const std::string& w) {
  return w.size() > 12 && w.rfind("=?utf-8?B?", 0) == 0 && w.compare(w.size() - 2, 2, "?=") == 0;
}

// The whitespace-separated tokens of a line, for finding the encoded words on it.
inline std::vector<std::string> tokens_of(const std::string& line) {
  std::vector<std::string> out;
  std::size_t i = line.find_first_not_of(" \t");
  while (i != std::string::npos) {
    std::size_t e = line.find_first_of(" \t", i);
    out.push_back(line.substr(i, e == std::string::npos ? std::string::npos : e - i));
    i = e == std::string::npos ? e : line.find_first_not_of(" \t", e);
  }
  return out;
}

// A reader's view of an unstructured field "Name: value\r\n" (RFC 5322 unfolding, RFC 2047
// decoding of utf-8 B words, whitespace between adjacent encoded words dropped), written
// independently of the encoder.
inline std::string read_unstructured(const std::string& field) {
  std::string v;
  for (const auto& line : crlf_lines(field)) v += line;
  v = v.substr(v.find(':') + 1);
  std::string out;
  bool prev_encoded = false;
  std::size_t i = 0;
  while (i < v.size()) {
    std::size_t w = v.find_first_not_of(" \t", i);
    if (w == std::string::npos) break;
    std::string ws = v.substr(i, w - i);
    std::size_t e = v.find_first_of(" \t", w);
    if (e == std::string::npos) e = v.size();
    std::string word = v.substr(w, e - w);
    bool enc = is_encoded_word(word);
    if (!out.empty() || prev_encoded) {
      if (!(enc && prev_encoded)) out += ws;
    }
    if (enc) {
      std::size_t bad = 0;
      auto decoded = message::base64_decode(word.substr(10, word.size() - 12), &bad);
      out += decoded ? *decoded : "<bad base64: " + word + ">";
    } else {
      out += word;
    }
    prev_encoded = enc;
    i = e;
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
