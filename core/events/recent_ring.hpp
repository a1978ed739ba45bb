#pragma once
// The last events' lines, kept for GET /api/v1/events and `volleyctl events`: at most
// `max_lines` lines in one byte buffer of `max_bytes`, written round and round. Adding a line is
// a memcpy into memory that is already there: no allocation per event, and nothing long-lived
// scattered over the heap between the hot path's short-lived blocks. (A ring of per-event strings
// cost volleyd ~7 % more CPU per message at 20,000 x 10 KiB, most of it in malloc's bin searches;
// loadtest/README.md.) The oldest lines give way when either bound is reached.
#include <cstddef>
#include <string_view>
#include <vector>

namespace volley::events {

class RecentRing {
 public:
  RecentRing(std::size_t max_lines, std::size_t max_bytes);

  // A line longer than the whole buffer is not kept.
  void add(std::string_view line);

  // Newest first: f(line) until it returns false. A view is valid until the next add().
  template <class F>
  void newest_first(F f) const {
    for (std::size_t i = 1; i <= count_; ++i) {
      const Slot& s = slots_[(next_ + slots_.size() - i) % slots_.size()];
      if (!f(std::string_view(bytes_.data() + s.offset, s.size))) return;
    }
  }

  std::size_t size() const { return count_; }

 private:
  struct Slot {
    std::size_t offset = 0, size = 0;
  };
  const Slot& oldest() const { return slots_[(next_ + slots_.size() - count_) % slots_.size()]; }

  std::vector<Slot> slots_;  // a ring: next_ is the next slot written, count_ the lines held
  std::vector<char> bytes_;  // lines are written at head_, never across the end
  std::size_t next_ = 0, count_ = 0, head_ = 0;
};

}  // namespace volley::events
