#pragma once
// What an integration test needs to run real servers as child processes: spawn with output to
// a log file, signal, wait with a deadline; temporary directories that clean up after
// themselves; free loopback ports; and waiting on a condition with a deadline instead of
// sleeping. Header-only (inline) so test binaries need no extra CMake source lists.
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

extern char** environ;

namespace volley::test {

using Clock = std::chrono::steady_clock;

// Polls `done` every `poll` until it is true or `timeout` passes; returns its last value.
// This is waiting on a condition (the thing a test really waits for), bounded by a deadline.
inline bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout,
                       std::chrono::milliseconds poll = std::chrono::milliseconds(20)) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (done()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(poll);
  }
}

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline void write_file(const std::filesystem::path& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("cannot write " + path.string());
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!out) throw std::runtime_error("short write to " + path.string());
}

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
// VOLLEY_KEEP_TEST_DIRS=1 keeps it, for looking at logs after a failure.
class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "volley-test") {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/" + std::string(prefix) +
                       "-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (!::mkdtemp(buf.data()))
      throw std::system_error(errno, std::generic_category(), "mkdtemp " + tmpl);
    path_ = buf.data();
  }
  ~TempDir() {
    const char* keep = std::getenv("VOLLEY_KEEP_TEST_DIRS");
    if (keep && std::string_view(keep) == "1") return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// A port on 127.0.0.1 that is free for both TCP and UDP right now (nsd needs both), and not
// handed out before by this process. Another process could still take it before the caller
// binds it; on loopback, with the kernel choosing from its ephemeral range, that is rare.
inline std::uint16_t free_port() {
  static std::mutex mutex;
  static std::set<std::uint16_t> handed_out;
  std::lock_guard lock(mutex);
  for (int tries = 0; tries < 100; ++tries) {
    int tcp = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (tcp < 0) throw std::system_error(errno, std::generic_category(), "socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (::bind(tcp, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(tcp, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ::close(tcp);
      throw std::system_error(errno, std::generic_category(), "bind 127.0.0.1:0");
    }
    const std::uint16_t port = ntohs(addr.sin_port);
    int udp = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    const bool udp_free =
        udp >= 0 && ::bind(udp, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    if (udp >= 0) ::close(udp);
    ::close(tcp);
    if (udp_free && handed_out.insert(port).second) return port;
  }
  throw std::runtime_error("no free port found on 127.0.0.1");
}

// One child process. Its stdin is /dev/null (or a given file); stdout and stderr are appended
// to `log_path`.
// The child gets SIGKILL if the spawning thread dies (PR_SET_PDEATHSIG), so a crashed test
// leaves no servers behind; the destructor kills a child that is still running.
class ChildProcess {
 public:
  ChildProcess() = default;
  ChildProcess(const std::vector<std::string>& argv, const std::filesystem::path& log_path,
               const std::filesystem::path& stdin_path = "/dev/null") {
    start(argv, log_path, stdin_path);
  }
  ~ChildProcess() { kill_now(); }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ChildProcess(ChildProcess&& other) noexcept { *this = std::move(other); }
  ChildProcess& operator=(ChildProcess&& other) noexcept {
    if (this != &other) {
      kill_now();
      pid_ = std::exchange(other.pid_, -1);
      status_ = other.status_;
      log_path_ = std::move(other.log_path_);
      name_ = std::move(other.name_);
    }
    return *this;
  }

  // argv[0] must be a path (no PATH search).
  void start(const std::vector<std::string>& argv, const std::filesystem::path& log_path,
             const std::filesystem::path& stdin_path = "/dev/null") {
    if (argv.empty()) throw std::invalid_argument("ChildProcess: empty argv");
    kill_now();
    log_path_ = log_path;
    name_ = argv[0];
    // Everything the child touches is prepared before fork: after fork in a threaded process
    // only async-signal-safe calls are allowed.
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const std::string log = log_path.string();
    const std::string input = stdin_path.string();
    int err_pipe[2];
    if (::pipe2(err_pipe, O_CLOEXEC) != 0)
      throw std::system_error(errno, std::generic_category(), "pipe2");
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
      const int e = errno;
      ::close(err_pipe[0]);
      ::close(err_pipe[1]);
      throw std::system_error(e, std::generic_category(), "fork");
    }
    if (pid == 0) {
      ::close(err_pipe[0]);
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect
      ::setpgid(0, 0);  // a terminal's Ctrl-C goes to the test, which then cleans up
      int in = ::open(input.c_str(), O_RDONLY);
      int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (in < 0 || out < 0 || ::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(out, 2) < 0) {
        int e = errno;
        (void)!::write(err_pipe[1], &e, sizeof e);
        ::_exit(127);
      }
      // No descriptor of the test (sockets, pipes) may leak into the server it starts.
      ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      ::execve(args[0], args.data(), environ);
      int e = errno;
      (void)!::write(err_pipe[1], &e, sizeof e);
      ::_exit(127);
    }
    ::close(err_pipe[1]);
    int child_errno = 0;
    ssize_t n;
    do {
      n = ::read(err_pipe[0], &child_errno, sizeof child_errno);
    } while (n < 0 && errno == EINTR);
    ::close(err_pipe[0]);
    pid_ = pid;
    status_.reset();
    if (n == sizeof child_errno) {  // exec failed: reap and report
      wait_for(std::chrono::seconds(5));
      pid_ = -1;
      throw std::system_error(child_errno, std::generic_category(), "exec " + name_);
    }
  }

  pid_t pid() const { return pid_; }
  const std::filesystem::path& log_path() const { return log_path_; }
  std::string log() const { return read_file(log_path_); }

  bool running() {
    if (pid_ < 0 || status_) return false;
    return !reap(WNOHANG);
  }

  void signal(int sig) {
    if (pid_ > 0 && !status_) ::kill(pid_, sig);
  }

  // Waits for the child to exit; returns its wait status (see WIFEXITED...) or nullopt on
  // timeout.
  std::optional<int> wait_for(std::chrono::milliseconds timeout) {
    if (pid_ < 0) return status_;
    wait_until([&] { return status_.has_value() || reap(WNOHANG); }, timeout,
               std::chrono::milliseconds(10));
    return status_;
  }

  // SIGTERM, then SIGKILL if it has not exited within `grace`. Returns the wait status.
  std::optional<int> stop(std::chrono::milliseconds grace = std::chrono::seconds(10)) {
    if (pid_ < 0) return status_;
    signal(SIGTERM);
    if (auto st = wait_for(grace)) return st;
    signal(SIGKILL);
    return wait_for(std::chrono::seconds(10));
  }

  // SIGKILL and reap: a crash as the kernel does it.
  std::optional<int> kill_now() {
    if (pid_ < 0) return status_;
    signal(SIGKILL);
    return wait_for(std::chrono::seconds(10));
  }

  // "exited 0", "killed by signal 9", ... for failure messages.
  static std::string describe(const std::optional<int>& status) {
    if (!status) return "still running";
    if (WIFEXITED(*status)) return "exited " + std::to_string(WEXITSTATUS(*status));
    if (WIFSIGNALED(*status)) return "killed by signal " + std::to_string(WTERMSIG(*status));
    return "status " + std::to_string(*status);
  }
  std::optional<int> status() const { return status_; }

 private:
  bool reap(int flags) {
    if (status_) return true;
    int st = 0;
    pid_t r;
    do {
      r = ::waitpid(pid_, &st, flags);
    } while (r < 0 && errno == EINTR);
    if (r == pid_ || (r < 0 && errno == ECHILD)) {
      status_ = (r == pid_) ? st : -1;
      return true;
    }
    return false;
  }

  pid_t pid_ = -1;
  std::optional<int> status_;
  std::filesystem::path log_path_;
  std::string name_;
};

// Runs a program to completion with `input` on its stdin; returns (wait status, stdout+stderr).
// For short tools such as `promtool check metrics`.
inline std::pair<int, std::string> run_with_input(const std::vector<std::string>& argv,
                                                  std::string_view input,
                                                  const std::filesystem::path& scratch_dir) {
  const auto in_path = scratch_dir / "run_with_input.stdin";
  const auto out_path = scratch_dir / "run_with_input.out";
  write_file(in_path, input);
  std::filesystem::remove(out_path);
  ChildProcess child(argv, out_path, in_path);
  const auto status = child.wait_for(std::chrono::seconds(60));
  if (!status) throw std::runtime_error("timed out: " + argv.front());
  return {*status, read_file(out_path)};
}

}  // namespace volley::test
