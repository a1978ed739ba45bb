#pragma once
// Unlinks files on a thread of its own, for callers that must not wait for it.
//
// Why: unlinking a 64 MiB body segment took 25-37 ms on ext4 (its blocks freed, its cached pages
// dropped), measured inside volleyd with `perf trace` (loadtest/README.md, issue 14); on the
// spool's thread that stalled every injection request in flight for as long. Nothing waits for
// the removal: a file handed over here is already garbage (no record names it), and one left by a
// crash is removed at the next open like any other segment nothing names.
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

namespace volley::storage {

class FileRemover {
 public:
  FileRemover() = default;
  // Removes what is still queued, then stops the thread.
  ~FileRemover();
  FileRemover(const FileRemover&) = delete;
  FileRemover& operator=(const FileRemover&) = delete;

  // Queues path for unlinking; the thread starts with the first.
  void remove(std::string path);
  // Returns once everything queued before the call is unlinked (tests, shutdown).
  void wait_idle();

 private:
  void run();

  std::mutex mutex_;
  std::condition_variable wake_;  // work queued, or stopping
  std::condition_variable idle_;  // queue empty and nothing being unlinked
  std::deque<std::string> queue_;
  bool busy_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace volley::storage
