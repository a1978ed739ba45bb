#pragma once
// The bytes of message bodies that queued work (beyond what sessions need next) may keep in
// memory, across every destination: past the budget, queued work lets go of its body and reads it
// back from the spool when due, so a backlog costs its records in memory, not its bodies.
#include <atomic>
#include <cstdint>
#include <utility>

namespace volley::delivery {

// Bytes held under the budget; shared by every destination queue (they run on several threads).
using BodyBudget = std::atomic<std::int64_t>;

// A claim on the budget, given back when the work lets go of its body (or goes).
class BudgetClaim {
 public:
  BudgetClaim() = default;
  BudgetClaim(BudgetClaim&& o) noexcept : budget_(o.budget_), bytes_(std::exchange(o.bytes_, 0)) {}
  BudgetClaim& operator=(BudgetClaim&& o) noexcept {
    if (this != &o) {
      release();
      budget_ = o.budget_;
      bytes_ = std::exchange(o.bytes_, 0);
    }
    return *this;
  }
  BudgetClaim(const BudgetClaim&) = delete;
  BudgetClaim& operator=(const BudgetClaim&) = delete;
  ~BudgetClaim() { release(); }

  // Claims bytes if the budget (limit bytes in all) has room: true and *claim holds them.
  static bool try_claim(BodyBudget& budget, std::int64_t limit, std::int64_t bytes, BudgetClaim* claim) {
    if (budget.fetch_add(bytes, std::memory_order_relaxed) + bytes <= limit) {
      *claim = BudgetClaim(&budget, bytes);
      return true;
    }
    budget.fetch_sub(bytes, std::memory_order_relaxed);
    return false;
  }

  void release() {
    if (budget_ && bytes_ != 0) budget_->fetch_sub(bytes_, std::memory_order_relaxed);
    bytes_ = 0;
  }

 private:
  BudgetClaim(BodyBudget* budget, std::int64_t bytes) : budget_(budget), bytes_(bytes) {}

  BodyBudget* budget_ = nullptr;  // outlives every claim (the delivery context's)
  std::int64_t bytes_ = 0;
};

}  // namespace volley::delivery
