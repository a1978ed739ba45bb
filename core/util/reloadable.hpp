#pragma once
// A value that a reload (SIGHUP, POST /api/v1/reload) replaces while other threads read it. A
// reader takes a reference-counted snapshot and keeps using it to the end of its work (a batch, a
// request); the old value lives until its last reader lets go. Reads are a short lock-free path
// in practice (libstdc++ guards the pointer with a spin bit), so it suits per-request use, not a
// per-byte loop.
#include <atomic>
#include <memory>
#include <utility>

namespace volley::util {

template <class T>
class Reloadable {
 public:
  explicit Reloadable(std::shared_ptr<const T> value) : value_(std::move(value)) {}
  std::shared_ptr<const T> get() const { return value_.load(std::memory_order_acquire); }
  void set(std::shared_ptr<const T> value) { value_.store(std::move(value), std::memory_order_release); }

 private:
  std::atomic<std::shared_ptr<const T>> value_;
};

}  // namespace volley::util
