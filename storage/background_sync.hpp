#pragma once
// Makes a file's written bytes durable (fdatasync) on a thread of its own, while the caller does
// something else.
//
// Why: a group commit syncs two files, the body segment and RocksDB's WAL; one after the other
// they were 0.95 ms of a request's 3 ms at 10,000 msg/s (loadtest/README.md, issue 14, eleventh
// round). Side by side they take the longer of the two. The spool makes that safe by checksumming
// each body in its record (storage/body_segments.hpp), not by ordering the syncs.
#include <condition_variable>
#include <mutex>
#include <thread>

namespace volley::storage {

class BackgroundSync {
 public:
  BackgroundSync() = default;
  // Waits for a sync in progress, then stops the thread.
  ~BackgroundSync();
  BackgroundSync(const BackgroundSync&) = delete;
  BackgroundSync& operator=(const BackgroundSync&) = delete;

  // Starts fdatasync(fd) on the thread (started with the first call). One at a time: wait()
  // before the next start(); fd must stay open until then.
  void start(int fd);
  // Waits for the sync started last: 0, or the errno it failed with.
  int wait();

 private:
  void run();

  std::mutex mutex_;
  std::condition_variable wake_;  // a sync asked for, or stopping
  std::condition_variable done_;  // the sync asked for is done
  int fd_ = -1;                   // the file to sync; -1 when none is asked for
  bool running_ = false;          // asked for and not yet done
  int result_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace volley::storage
