#include "core/events/recent_ring.hpp"

#include <cstring>

namespace volley::events {

RecentRing::RecentRing(std::size_t max_lines, std::size_t max_bytes)
    : slots_(max_lines), bytes_(max_lines == 0 ? 0 : max_bytes) {}

void RecentRing::add(std::string_view line) {
  if (slots_.empty() || line.empty() || line.size() > bytes_.size()) return;
  if (head_ + line.size() > bytes_.size()) {
    // Wrap. The lines between head_ and the end are the oldest (written a lap ago): they go first.
    while (count_ > 0 && oldest().offset >= head_) --count_;
    head_ = 0;
  }
  // The oldest lines lie just ahead of head_: those the new line would cover give way.
  const std::size_t end = head_ + line.size();
  while (count_ > 0 && oldest().offset >= head_ && oldest().offset < end) --count_;
  if (count_ == slots_.size()) --count_;  // every slot in use: the oldest line's slot is reused
  std::memcpy(bytes_.data() + head_, line.data(), line.size());
  slots_[next_] = Slot{head_, line.size()};
  next_ = (next_ + 1) % slots_.size();
  ++count_;
  head_ = end;
}

}  // namespace volley::events
