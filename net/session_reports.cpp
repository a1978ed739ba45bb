#include "net/session_reports.hpp"

#include <mutex>
#include <utility>  // before Boost.Asio (see build-facts)

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <caf/send.hpp>

namespace volley {

namespace asio = boost::asio;

namespace {

// An Asio service: one per io_context, gone with it. The mutex is for io_contexts run by more
// than one thread (Volley runs its one on one thread, where it is never contended).
class SessionReporter final : public asio::io_context::service {
 public:
  static asio::io_context::id id;

  explicit SessionReporter(asio::io_context& io) : service(io), io_(io) {}

  void report(const caf::actor& owner, std::uint64_t session, SessionEvent ev) {
    std::lock_guard lock(mutex_);
    // Nothing pending: no flush is posted either (flush takes all under the lock).
    if (pending_.empty()) asio::post(io_, [this] { flush(); });
    Batch* batch = nullptr;
    for (auto& b : pending_)  // a handful of owners per turn: the destinations with traffic
      if (b.owner == owner) batch = &b;
    if (batch == nullptr) batch = &pending_.emplace_back(Batch{owner, {}});
    batch->reports.push_back(SessionReport{session, std::move(ev)});
  }

 private:
  struct Batch {
    caf::actor owner;
    SessionReports reports;
  };

  void flush() {
    std::vector<Batch> batches;
    {
      std::lock_guard lock(mutex_);
      batches.swap(pending_);
    }
    for (auto& b : batches) caf::anon_send(b.owner, session_atom::value, std::move(b.reports));
  }

  // The io_context goes: reports not yet sent have nobody left to run them.
  void shutdown() override {
    std::lock_guard lock(mutex_);
    pending_.clear();
  }

  asio::io_context& io_;
  std::mutex mutex_;
  std::vector<Batch> pending_;
};

asio::io_context::id SessionReporter::id;

}  // namespace

void report_session_event(asio::io_context& io, const caf::actor& owner, std::uint64_t id, SessionEvent ev) {
  asio::use_service<SessionReporter>(io).report(owner, id, std::move(ev));
}

}  // namespace volley
