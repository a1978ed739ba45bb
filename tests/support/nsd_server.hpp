#pragma once
// Test support: a real authoritative DNS server (Debian's /usr/sbin/nsd) on 127.0.0.1 serving
// the given zones, started in the foreground as a child process from a private temp directory
// and stopped (and cleaned up) by the destructor. Header-only, POSIX only: no CAF, no Boost, no
// ldns, so unit and integration tests can both include it. Needs root (nsd's privileges).
//
//   volley::test::NsdServer nsd({{"example.test", "$ORIGIN example.test.\n..."}});
//   query 127.0.0.1 : nsd.port()
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace volley::test {

struct NsdZone {
  std::string name;  // "example.test"
  std::string text;  // the zone file
};

// Sends one SOA query for `zone` to 127.0.0.1:`port` (RD clear); true if any response to it
// came back within `wait`: the server is up (whatever it answered).
inline bool dns_soa_answered(std::uint16_t port, const std::string& zone,
                             std::chrono::milliseconds wait) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const std::uint16_t id = static_cast<std::uint16_t>(::getpid() ^ port);
  std::vector<std::uint8_t> q = {static_cast<std::uint8_t>(id >> 8),
                                 static_cast<std::uint8_t>(id),
                                 0x00,
                                 0x00,
                                 0,
                                 1,
                                 0,
                                 0,
                                 0,
                                 0,
                                 0,
                                 0};
  std::string label;
  std::stringstream labels(zone);
  while (std::getline(labels, label, '.')) {
    if (label.empty()) continue;
    q.push_back(static_cast<std::uint8_t>(label.size()));
    q.insert(q.end(), label.begin(), label.end());
  }
  q.insert(q.end(), {0, 0, 6, 0, 1});  // root, SOA, IN
  bool ok = false;
  if (::sendto(fd, q.data(), q.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) ==
      static_cast<ssize_t>(q.size())) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(wait.count())) == 1) {
      std::uint8_t buf[512];
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      ok = n >= 12 && buf[0] == q[0] && buf[1] == q[1] && (buf[2] & 0x80) != 0;
    }
  }
  ::close(fd);
  return ok;
}

class NsdServer {
 public:
  static constexpr const char* binary = "/usr/sbin/nsd";

  explicit NsdServer(std::vector<NsdZone> zones,
                     std::chrono::milliseconds startup_deadline = std::chrono::seconds(20))
      : zones_(std::move(zones)) {
    if (zones_.empty()) throw std::invalid_argument("NsdServer needs at least one zone");
    char tmpl[] = "/tmp/volley-nsd-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    try {
      write_zones();
      // A free port can be taken by someone else before nsd binds it: then nsd exits, and
      // another port is tried.
      for (int tries = 0;; ++tries) {
        port_ = pick_free_port();
        write_config();
        spawn();
        if (wait_until_answering(startup_deadline)) return;
        const bool exited = !running();
        stop();
        if (!exited || tries == 2) {
          throw std::runtime_error("nsd did not start; its output:\n" + output());
        }
      }
    } catch (...) {
      cleanup();
      throw;
    }
  }

  ~NsdServer() { cleanup(); }
  NsdServer(const NsdServer&) = delete;
  NsdServer& operator=(const NsdServer&) = delete;

  std::uint16_t port() const { return port_; }
  static const char* address() { return "127.0.0.1"; }
  const std::filesystem::path& directory() const { return dir_; }

  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    return true;
  }

  // SIGTERM, then SIGKILL if nsd is still there after `grace`.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(5)) {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + grace;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polling a child's exit
    }
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  // What nsd wrote to stdout/stderr and its log (for failure messages).
  std::string output() const {
    std::string all;
    for (const char* name : {"nsd.out", "nsd.log"}) {
      std::ifstream in(dir_ / name);
      std::stringstream ss;
      ss << in.rdbuf();
      all += ss.str();
    }
    return all;
  }

  // Sends one SOA query for the first zone; true if nsd answered it within `wait`.
  bool answers(std::chrono::milliseconds wait) const {
    return dns_soa_answered(port_, zones_.front().name, wait);
  }

 private:
  static sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
  }

  // A port free for both UDP and TCP on 127.0.0.1 right now.
  static std::uint16_t pick_free_port() {
    for (int i = 0; i < 50; ++i) {
      const int u = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      sockaddr_in a = loopback(0);
      socklen_t len = sizeof a;
      if (u < 0) break;
      if (::bind(u, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
          ::getsockname(u, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        ::close(u);
        continue;
      }
      const int t = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      const bool tcp_free = t >= 0 && ::bind(t, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
      if (t >= 0) ::close(t);
      ::close(u);
      if (tcp_free) return ntohs(a.sin_port);
    }
    throw std::runtime_error("no free port on 127.0.0.1");
  }

  void write_zones() {
    for (std::size_t i = 0; i < zones_.size(); ++i) {
      std::ofstream(dir_ / ("zone" + std::to_string(i) + ".zone")) << zones_[i].text;
    }
  }

  void write_config() {
    const std::string d = dir_.string();
    const std::string p = std::to_string(port_);
    std::ofstream conf(dir_ / "nsd.conf");
    conf << "server:\n"
         << "  ip-address: 127.0.0.1@" << p << "\n"
         << "  port: " << p << "\n"
         << "  do-ip6: no\n"
         << "  server-count: 1\n"
         << "  username: \"\"\n"
         << "  chroot: \"\"\n"
         << "  zonesdir: \"" << d << "\"\n"
         << "  database: \"\"\n"
         << "  pidfile: \"" << d << "/nsd.pid\"\n"
         << "  xfrdfile: \"" << d << "/xfrd.state\"\n"
         << "  xfrdir: \"" << d << "\"\n"
         << "  zonelistfile: \"" << d << "/zone.list\"\n"
         << "  logfile: \"" << d << "/nsd.log\"\n"
         << "  verbosity: 1\n"
         << "  hide-version: yes\n"
         << "remote-control:\n"
         << "  control-enable: no\n";
    for (std::size_t i = 0; i < zones_.size(); ++i) {
      conf << "zone:\n  name: \"" << zones_[i].name << "\"\n  zonefile: \"zone" << i << ".zone\"\n";
    }
  }

  void spawn() {
    const std::string conf = (dir_ / "nsd.conf").string();
    const std::string out = (dir_ / "nsd.out").string();
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    std::vector<std::string> args = {binary, "-d", "-c", conf};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, binary, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error(std::string("cannot start nsd: ") + std::strerror(rc));
    pid_ = pid;
  }

  bool wait_until_answering(std::chrono::milliseconds deadline_in) {
    const auto deadline = std::chrono::steady_clock::now() + deadline_in;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!running()) return false;
      if (answers(std::chrono::milliseconds(100))) return true;
    }
    return false;
  }

  void cleanup() {
    stop();
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  std::vector<NsdZone> zones_;
  std::filesystem::path dir_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace volley::test
