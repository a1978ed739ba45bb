#include "storage/event_queue.hpp"

#include <algorithm>
#include <map>
#include <string_view>
#include <utility>

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include "storage/bounded_iterator.hpp"
#include "storage/rocksdb_open.hpp"
#include "storage/rocksdb_writer.hpp"

namespace volley::storage {

namespace {

constexpr std::string_view kEventPrefix = "q/";
constexpr std::string_view kTailPrefix = "t/";
constexpr std::string_view kHeadPrefix = "h/";

void put_u64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xFF));
}

std::uint64_t get_u64(std::string_view in) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8 && i < in.size(); ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}

std::string u64_value(std::uint64_t v) {
  std::string s;
  put_u64(s, v);
  return s;
}

std::string meta_key(std::string_view prefix, const std::string& endpoint) {
  std::string k(prefix);
  k += endpoint;
  return k;
}

// "q/<endpoint>\0": the endpoint's events, and nothing else, start with it.
std::string event_prefix(const std::string& endpoint) {
  std::string k(kEventPrefix);
  k += endpoint;
  k.push_back('\0');
  return k;
}

std::string event_key(const std::string& endpoint, std::uint64_t seq) {
  std::string k = event_prefix(endpoint);
  put_u64(k, seq);
  return k;
}

// A small queue that is written and deleted within seconds when the endpoint is up: the
// defaults, with a modest write buffer and no compression (events are short JSON).
rocksdb::Options queue_options() {
  rocksdb::Options o = storage::base_options();
  o.max_background_jobs = 1;
  o.write_buffer_size = 8u << 20;
  o.max_total_wal_size = 64u << 20;
  o.compression = rocksdb::kNoCompression;
  return o;
}

rocksdb::WriteOptions unsynced() {
  rocksdb::WriteOptions wo;
  wo.sync = false;
  return wo;
}

bool fail(std::string* error, std::string why) {
  if (error) *error = std::move(why);
  return false;
}

}  // namespace

struct EventQueue::Impl {
  struct Counters {
    std::uint64_t head = 0;  // last acknowledged
    std::uint64_t tail = 0;  // last appended
  };

  explicit Impl(std::unique_ptr<rocksdb::DB> opened) : db(std::move(opened)), writer(db.get()) {}

  std::unique_ptr<rocksdb::DB> db;
  storage::Writer writer;
  std::map<std::string, Counters> counters;

  // Loads the head and tail of every endpoint ever written.
  bool recover(std::string* error) {
    for (auto prefix : {kTailPrefix, kHeadPrefix}) {
      BoundedIterator it(*db, prefix_successor(prefix));
      for (it->Seek(rocksdb::Slice(prefix.data(), prefix.size())); it->Valid(); it->Next()) {
        std::string name(it->key().data() + prefix.size(), it->key().size() - prefix.size());
        const std::uint64_t v = get_u64(std::string_view(it->value().data(), it->value().size()));
        auto& c = counters[name];
        (prefix == kTailPrefix ? c.tail : c.head) = v;
      }
      if (!it->status().ok()) return fail(error, "event queue: recovery: " + it->status().ToString());
    }
    return true;
  }

  Counters get(const std::string& endpoint) const {
    auto it = counters.find(endpoint);
    return it == counters.end() ? Counters{} : it->second;
  }
};

EventQueue::EventQueue(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EventQueue::~EventQueue() = default;

std::unique_ptr<EventQueue> EventQueue::open(const std::string& path, std::string* error) {
  auto db = storage::open_db(path, queue_options(), "event queue", error);
  if (!db) return nullptr;
  auto impl = std::make_unique<Impl>(std::move(db));
  if (!impl->recover(error)) return nullptr;
  return std::unique_ptr<EventQueue>(new EventQueue(std::move(impl)));
}

bool EventQueue::append(const std::string& endpoint, const std::vector<std::string>& events,
                        std::string* error) {
  if (endpoint.find('\0') != std::string::npos) return fail(error, "event queue: NUL in endpoint name");
  if (events.empty()) return true;
  Impl::Counters c = impl_->get(endpoint);
  rocksdb::WriteBatch wb;
  for (const auto& e : events) wb.Put(event_key(endpoint, ++c.tail), e);
  wb.Put(meta_key(kTailPrefix, endpoint), u64_value(c.tail));
  auto s = impl_->writer.run([&] { return impl_->db->Write(unsynced(), &wb); });
  if (!s.ok()) return fail(error, "event queue: append: " + s.ToString());
  impl_->counters[endpoint] = c;
  return true;
}

EventQueue::Batch EventQueue::peek(const std::string& endpoint, std::size_t max_events,
                                   std::size_t max_bytes) const {
  Batch batch;
  const Impl::Counters c = impl_->get(endpoint);
  if (c.tail == c.head || max_events == 0) return batch;
  const std::string start = event_key(endpoint, c.head + 1);
  // Upper bound: the last appended key's successor. Seeking past the acknowledged range means the
  // iterator never walks the tombstones acks left behind.
  BoundedIterator it(*impl_->db, event_key(endpoint, c.tail) + std::string(1, '\0'));
  const std::size_t prefix_len = event_prefix(endpoint).size();
  for (it->Seek(start); it->Valid() && batch.events.size() < max_events; it->Next()) {
    const std::size_t size = it->value().size();
    if (!batch.events.empty() && batch.bytes + size > max_bytes) break;
    batch.events.emplace_back(it->value().data(), size);
    batch.bytes += size;
    batch.last_seq = get_u64(std::string_view(it->key().data() + prefix_len, it->key().size() - prefix_len));
  }
  return batch;
}

bool EventQueue::ack(const std::string& endpoint, std::uint64_t last_seq, std::string* error) {
  Impl::Counters c = impl_->get(endpoint);
  const std::uint64_t upto = std::min(last_seq, c.tail);
  if (upto <= c.head) return true;
  rocksdb::WriteBatch wb;
  for (std::uint64_t seq = c.head + 1; seq <= upto; ++seq) wb.Delete(event_key(endpoint, seq));
  wb.Put(meta_key(kHeadPrefix, endpoint), u64_value(upto));
  auto s = impl_->writer.run([&] { return impl_->db->Write(unsynced(), &wb); });
  if (!s.ok()) return fail(error, "event queue: ack: " + s.ToString());
  impl_->counters[endpoint].head = upto;
  return true;
}

std::uint64_t EventQueue::depth(const std::string& endpoint) const {
  const Impl::Counters c = impl_->get(endpoint);
  return c.tail - c.head;
}

std::vector<std::string> EventQueue::endpoints_with_events() const {
  std::vector<std::string> out;
  for (const auto& [name, c] : impl_->counters) {
    if (c.tail > c.head) out.push_back(name);
  }
  return out;
}

}  // namespace volley::storage
