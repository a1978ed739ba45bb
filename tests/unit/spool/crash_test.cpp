// Process-crash safety: whatever commit() acknowledged is on disk when the process dies at an
// arbitrary moment. (Power loss is the WAL fsync's job, which a test cannot pull the plug on.)
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "storage/rocksdb_spool.hpp"
#include "tests/unit/spool/spool_fixtures.hpp"

using namespace volley::spool;
using volley::spool::testing::make_message;
using volley::spool::testing::TempDir;

namespace {

std::string id_for(int n) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "crash%06d", n);
  return buf;
}
std::size_t body_size_for(int n) { return 100 + static_cast<std::size_t>(n) * 7919 % 30000; }
std::uint32_t recipients_for(int n) { return 1 + static_cast<std::uint32_t>(n % 3); }

// The child: commits batches of 1..16 messages as fast as it can and reports each
// acknowledged batch as one write() of "id\n" lines (below PIPE_BUF, so never torn).
[[noreturn]] void commit_until_killed(const std::string& path, int out) {
  std::string error;
  auto spool = volley::storage::open_spool(path, &error);
  if (!spool) {
    std::string line = "E " + error + "\n";
    (void)!::write(out, line.data(), line.size());
    ::_exit(2);
  }
  int next = 0;
  for (int round = 0; next < 200000; ++round) {
    std::vector<NewMessage> messages;
    for (int i = 0; i < 1 + round % 16; ++i, ++next) {
      messages.push_back(make_message(id_for(next), recipients_for(next), body_size_for(next)));
    }
    CommitBatch batch;
    for (const auto& m : messages) batch.messages.push_back(&m);
    batch.idempotency.emplace_back("key-" + std::to_string(round), "{}");
    batch.now_ms = round;
    if (!spool->commit(batch, &error)) {
      std::string line = "E " + error + "\n";
      (void)!::write(out, line.data(), line.size());
      ::_exit(3);
    }
    std::string acked;
    for (const auto& m : messages) acked += m.message.id + "\n";
    if (::write(out, acked.data(), acked.size()) != static_cast<ssize_t>(acked.size())) ::_exit(4);
  }
  ::_exit(0);
}

}  // namespace

TEST_CASE("spool: every acknowledged message survives SIGKILL", "[spool][crash]") {
  const unsigned seed = std::random_device{}();
  INFO("seed " << seed);
  std::mt19937 rng(seed);

  for (int run = 0; run < 3; ++run) {
    TempDir dir;
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::close(fds[0]);
      commit_until_killed(dir.path(), fds[1]);
    }
    ::close(fds[1]);

    const std::size_t kill_after = 1 + rng() % 500;
    INFO("run " << run << ": kill after " << kill_after << " acknowledged messages");
    std::vector<std::string> acked;
    std::string pending;
    bool killed = false;
    bool child_error = false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (;;) {
      pollfd pfd{fds[0], POLLIN, 0};
      int ready = ::poll(&pfd, 1, 1000);
      if (std::chrono::steady_clock::now() > deadline) break;
      if (ready <= 0) continue;
      char buf[4096];
      ssize_t n = ::read(fds[0], buf, sizeof buf);
      if (n <= 0) break;  // EOF: the child is gone and everything it wrote has been read
      pending.append(buf, static_cast<std::size_t>(n));
      for (std::size_t nl; (nl = pending.find('\n')) != std::string::npos;) {
        std::string line = pending.substr(0, nl);
        pending.erase(0, nl + 1);
        if (line.rfind("E ", 0) == 0) {
          UNSCOPED_INFO("child: " << line);
          child_error = true;
        } else {
          acked.push_back(line);
        }
      }
      if (!killed && acked.size() >= kill_after) {
        ::kill(pid, SIGKILL);
        killed = true;
      }
    }
    if (!killed) ::kill(pid, SIGKILL);  // deadline passed: do not leave it running
    ::close(fds[0]);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE_FALSE(child_error);
    REQUIRE(killed);
    REQUIRE(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGKILL);
    CHECK(pending.empty());  // acknowledgements are written whole

    std::string error;
    auto spool = volley::storage::open_spool(dir.path(), &error);
    INFO(error);
    REQUIRE(spool);
    std::set<std::string> stored;
    spool->for_each_message([&](MessageRecord&& m) { stored.insert(m.id); });
    std::set<std::string> rcpts;
    spool->for_each_recipient([&](RecipientRecord&& r) { rcpts.insert(r.id); });
    std::size_t missing = 0;
    for (std::size_t i = 0; i < acked.size(); ++i) {
      const std::string& id = acked[i];
      REQUIRE(id == id_for(static_cast<int>(i)));  // acknowledged in order
      const NewMessage expect = make_message(id, recipients_for(static_cast<int>(i)),
                                             body_size_for(static_cast<int>(i)));
      bool ok = stored.count(id) == 1 && spool->load_body(id) == expect.wire_data;
      for (const auto& r : expect.recipients) ok = ok && rcpts.count(r.id) == 1;
      if (!ok) ++missing;
    }
    CHECK(missing == 0);
    CHECK(stored.size() >= acked.size());  // plus whatever was written but not yet reported
  }
}
