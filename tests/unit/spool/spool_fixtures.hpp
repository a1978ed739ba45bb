#pragma once
// Test helpers shared by the spool and spool-actor tests: a temporary directory that cleans up
// after itself, and messages whose content is a function of their id (so a reader can check a
// body byte for byte without keeping a copy).
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>

#include "core/spool/records.hpp"

namespace volley::spool::testing {

// A whole file's bytes ("" when it cannot be read): what tests of files on disk compare.
inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "volley-spool-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string path() const { return path_.string(); }
  std::string sub(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// A body of about `size` bytes determined by `id`: every byte value occurs, CR/LF included.
inline std::string body_for(const std::string& id, std::size_t size) {
  std::string body = "Message-ID: <" + id + ">\r\n\r\n";
  std::uint64_t x = std::hash<std::string>{}(id) | 1;
  while (body.size() < size) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    body.push_back(static_cast<char>(x & 0xFF));
  }
  body += "\r\n.\r\n";
  return body;
}

inline NewMessage make_message(const std::string& id, std::uint32_t recipients,
                               std::size_t body_size = 512) {
  NewMessage m;
  m.message.id = id;
  m.message.envelope_from = "bounce@example.org";
  m.message.campaign = "spring";
  m.message.tags = {"a", "b"};
  m.message.metadata_json = R"({"k":"v"})";
  m.message.message_id_header = "<" + id + "@example.org>";
  m.message.received_at_ms = 1700000000000;
  m.wire_data = body_for(id, body_size);
  m.message.message_size = m.wire_data.size();
  m.message.recipient_count = recipients;
  for (std::uint32_t i = 0; i < recipients; ++i) {
    RecipientRecord r;
    r.id = id + "-" + std::to_string(i);
    r.message_id = id;
    r.recipient = "user" + std::to_string(i) + "@Dest" + std::to_string(i % 3) + ".example";
    r.domain = "dest" + std::to_string(i % 3) + ".example";
    m.recipients.push_back(std::move(r));
  }
  return m;
}

}  // namespace volley::spool::testing
