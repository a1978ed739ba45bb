#include "storage/background_sync.hpp"

#include <pthread.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>

namespace volley::storage {

BackgroundSync::~BackgroundSync() {
  {
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return !running_; });
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void BackgroundSync::start(int fd) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    assert(!running_ && "BackgroundSync::start before wait() of the last sync");
    // The thread first: if it cannot be made (std::system_error), nothing waits for a sync that
    // will never run.
    if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
    fd_ = fd;
    running_ = true;
  }
  wake_.notify_one();
}

int BackgroundSync::wait() {
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [this] { return !running_; });
  return result_;
}

void BackgroundSync::run() {
  // Its own name in top, perf and loadtest/cpu_split.py (it would inherit its creator's).
  pthread_setname_np(pthread_self(), "volley.bodysync");
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || fd_ >= 0; });
    if (fd_ < 0) return;  // stopping, nothing asked for
    const int fd = fd_;
    fd_ = -1;
    lock.unlock();
    const int result = ::fdatasync(fd) == 0 ? 0 : errno;
    lock.lock();
    result_ = result;
    running_ = false;
    done_.notify_all();
  }
}

}  // namespace volley::storage
