#pragma once
// A durable FIFO of event objects per webhook endpoint, on a RocksDB of its own.
//
// Every event gets the next sequence number of its endpoint; keys are
// "q/<endpoint>\0<seq, 8 bytes big-endian>" so an iterator walks an endpoint's events in order.
// Two small records per endpoint, "t/<endpoint>" (last appended seq) and "h/<endpoint>" (last
// acknowledged seq), are written in the same WriteBatch as the events they account for: the
// numbering survives a restart even when the queue is empty, depth() is their difference, and
// open() needs no scan of the events.
//
// Writes are not fsync'd: the WAL is written before append() returns, so a process crash
// loses nothing; a machine crash can lose the last appends (they are events, not mail).
//
// Not thread-safe: one owner (the webhook actor) calls everything.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace volley::storage {

class EventQueue {
 public:
  // Creates the directory (and parents) when missing. nullptr with *error on failure.
  static std::unique_ptr<EventQueue> open(const std::string& path, std::string* error);
  ~EventQueue();
  EventQueue(const EventQueue&) = delete;
  EventQueue& operator=(const EventQueue&) = delete;

  // Appends events (in order) with one WriteBatch. Endpoint names must not contain '\0'.
  bool append(const std::string& endpoint, const std::vector<std::string>& events,
              std::string* error = nullptr);

  struct Batch {
    std::vector<std::string> events;
    std::uint64_t last_seq = 0;  // of the last event in events; 0 when empty
    std::size_t bytes = 0;       // sum of the events' sizes
  };
  // The oldest unacknowledged events: at most max_events, and at most max_bytes unless the
  // first event alone is bigger (it is returned alone, or the queue would be stuck).
  Batch peek(const std::string& endpoint, std::size_t max_events, std::size_t max_bytes) const;

  // Deletes every event up to and including last_seq (values past the last appended are capped).
  bool ack(const std::string& endpoint, std::uint64_t last_seq, std::string* error = nullptr);

  std::uint64_t depth(const std::string& endpoint) const;
  // Endpoints holding unacknowledged events (e.g. to warn about ones no longer configured).
  std::vector<std::string> endpoints_with_events() const;

 private:
  struct Impl;
  explicit EventQueue(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace volley::storage
