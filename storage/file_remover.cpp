#include "storage/file_remover.hpp"

#include <pthread.h>
#include <unistd.h>

#include <utility>

namespace volley::storage {

FileRemover::~FileRemover() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void FileRemover::remove(std::string path) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(std::move(path));
    if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
  }
  wake_.notify_one();
}

void FileRemover::wait_idle() {
  std::unique_lock<std::mutex> lock(mutex_);
  idle_.wait(lock, [this] { return queue_.empty() && !busy_; });
}

void FileRemover::run() {
  // Its own name in top, perf and loadtest/cpu_split.py (it would inherit its creator's).
  pthread_setname_np(pthread_self(), "volley.unlink");
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    // Stopping drains the queue first: a removal asked for is done before the owner goes.
    if (queue_.empty()) return;
    std::string path = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    ::unlink(path.c_str());  // a file already gone is what was wanted
    lock.lock();
    busy_ = false;
    if (queue_.empty()) idle_.notify_all();
  }
}

}  // namespace volley::storage
