#include "storage/suppression_list.hpp"

#include <algorithm>
#include <cstring>
#include <functional>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>
#include <utility>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "storage/bounded_iterator.hpp"
#include "storage/rocksdb_open.hpp"
#include "storage/rocksdb_writer.hpp"
#include "core/suppression/address_table.hpp"
#include "core/suppression/entry.hpp"
#include "core/util/ids.hpp"

namespace volley::storage {

using namespace volley::suppression;  // the entry, its limits and its stored form (core)

namespace {

rocksdb::Options list_options() {
  rocksdb::Options o = storage::base_options();
  o.max_background_jobs = 1;
  o.write_buffer_size = 8u << 20;
  // find() mostly asks about addresses that are there; lookups that miss are answered from
  // the in-memory index. A Bloom filter still spares the odd miss a data block read.
  storage::add_bloom_filter(o);
  return o;
}

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

}  // namespace

struct SuppressionList::Impl {
  explicit Impl(std::unique_ptr<rocksdb::DB> opened) : db(std::move(opened)), writer(db.get()) {}

  std::unique_ptr<rocksdb::DB> db;
  storage::Writer writer;  // under write_mu
  std::size_t skipped = 0;

  // Writers take write_mu for the whole operation (RocksDB read, synced write, index update) so
  // that "keep created_at" is decided against a stable state; the index lock mu is taken
  // exclusively only for the in-memory update, never across an fsync, so readers on the io
  // thread never wait for the disk.
  std::mutex write_mu;
  mutable std::shared_mutex mu;
  std::unordered_map<std::string, AddressTable, StringHash, std::equal_to<>> tenants;
  // Reasons are few and repeated ("hard_bounce", "complaint"): each entry keeps an index.
  std::vector<std::string> reasons;
  std::unordered_map<std::string, std::uint32_t, StringHash, std::equal_to<>> reason_ids;
  std::size_t total = 0;

  // Under mu, exclusively.
  void index(std::string_view tenant, std::string_view email, std::string_view reason) {
    auto r = reason_ids.find(reason);
    if (r == reason_ids.end()) {
      r = reason_ids.emplace(std::string(reason), static_cast<std::uint32_t>(reasons.size())).first;
      reasons.emplace_back(reason);
    }
    auto t = tenants.find(tenant);
    if (t == tenants.end()) t = tenants.emplace(std::string(tenant), AddressTable()).first;
    if (t->second.put(email, r->second)) ++total;
  }

  void unindex(std::string_view tenant, std::string_view email) {
    auto t = tenants.find(tenant);
    if (t == tenants.end() || !t->second.erase(email)) return;
    --total;
    if (t->second.size() == 0) tenants.erase(t);
  }

  std::optional<Entry> get(const std::string& key) const {
    std::string value;
    if (!db->Get(rocksdb::ReadOptions(), key, &value).ok()) return std::nullopt;
    return decode_entry(key, value);
  }
};

SuppressionList::SuppressionList(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SuppressionList::~SuppressionList() = default;

std::unique_ptr<SuppressionList> SuppressionList::open(const std::string& path, std::string* error) {
  auto db = storage::open_db(path, list_options(), "suppression list", error);
  if (!db) return nullptr;
  auto impl = std::make_unique<Impl>(std::move(db));

  rocksdb::ReadOptions ro;
  ro.fill_cache = false;  // a one-off walk
  std::unique_ptr<rocksdb::Iterator> it(impl->db->NewIterator(ro));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string_view key(it->key().data(), it->key().size());
    const std::string_view value(it->value().data(), it->value().size());
    const auto entry = decode_entry(key, value);
    if (!entry || entry->email.size() > kMaxAddress) {
      ++impl->skipped;
      continue;
    }
    impl->index(entry->tenant, entry->email, entry->reason);
  }
  if (!it->status().ok()) {
    if (error) *error = "suppression list: load " + path + ": " + it->status().ToString();
    return nullptr;
  }
  it.reset();
  return std::unique_ptr<SuppressionList>(new SuppressionList(std::move(impl)));
}

std::optional<std::vector<Added>> SuppressionList::add(std::vector<Entry> entries, bool sync, std::string* error) {
  auto fail = [&](std::size_t i, const std::string& why) -> std::optional<std::vector<Added>> {
    if (error) *error = entries.size() > 1 ? "entry " + std::to_string(i) + ": " + why : why;
    return std::nullopt;
  };
  const std::int64_t now = now_unix_ms();
  std::lock_guard writer(impl_->write_mu);

  // Entries are applied as if one after another: a later entry for the same address sees the
  // earlier one as existing.
  std::unordered_map<std::string, Entry> pending;
  std::vector<Added> out;
  out.reserve(entries.size());
  rocksdb::WriteBatch batch;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    Entry& e = entries[i];
    std::string why;
    auto email = normalize_address(e.email, &why);
    if (!email) return fail(i, why);
    e.email = std::move(*email);
    if (auto bad = check_entry(e)) return fail(i, *bad);

    std::string key = entry_key(e.tenant, e.email);
    std::optional<Entry> existing;
    if (auto p = pending.find(key); p != pending.end()) {
      existing = p->second;
    } else {
      existing = impl_->get(key);
    }
    if (e.updated_at_ms == 0) e.updated_at_ms = now;
    if (existing) {
      e.created_at_ms = existing->created_at_ms;
    } else if (e.created_at_ms == 0) {
      e.created_at_ms = e.updated_at_ms;
    }
    batch.Put(key, encode_entry(e));
    out.push_back(Added{!existing, e});
    pending.insert_or_assign(std::move(key), e);
  }

  rocksdb::WriteOptions wo;
  wo.sync = sync;
  const auto s = impl_->writer.run([&] { return impl_->db->Write(wo, &batch); });
  if (!s.ok()) {
    if (error) *error = "suppression list: write: " + s.ToString();
    return std::nullopt;
  }
  std::unique_lock lock(impl_->mu);
  for (const auto& [key, e] : pending) impl_->index(e.tenant, e.email, e.reason);
  return out;
}

std::optional<Added> SuppressionList::add(Entry entry, bool sync, std::string* error) {
  std::vector<Entry> one;
  one.push_back(std::move(entry));
  auto added = add(std::move(one), sync, error);
  if (!added) return std::nullopt;
  return std::move(added->front());
}

bool SuppressionList::remove(std::string_view tenant, std::string_view email, bool sync) {
  auto normal = normalize_address(email, nullptr);
  if (!normal || check_tenant(tenant)) return false;
  std::lock_guard writer(impl_->write_mu);
  if (!contains(tenant, *normal)) return false;
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  if (!impl_->writer.run([&] { return impl_->db->Delete(wo, entry_key(tenant, *normal)); }).ok()) return false;
  std::unique_lock lock(impl_->mu);
  impl_->unindex(tenant, *normal);
  return true;
}

std::optional<Entry> SuppressionList::find(std::string_view tenant, std::string_view email) const {
  auto normal = normalize_address(email, nullptr);
  if (!normal || check_tenant(tenant)) return std::nullopt;
  return impl_->get(entry_key(tenant, *normal));
}

bool SuppressionList::contains(std::string_view tenant, std::string_view email, std::string* reason) const {
  char buf[kMaxAddress];
  const auto n = normalize_into(email, buf, nullptr);
  if (!n) return false;
  std::shared_lock lock(impl_->mu);
  const auto t = impl_->tenants.find(tenant);
  if (t == impl_->tenants.end()) return false;
  const auto found = t->second.find(std::string_view(buf, *n));
  if (!found) return false;
  if (reason) *reason = impl_->reasons[*found];
  return true;
}

Page SuppressionList::list(std::string_view tenant, std::string_view cursor, std::size_t limit) const {
  Page page;
  if (limit == 0 || check_tenant(tenant)) return page;
  std::string start = entry_key(tenant, "");
  std::string upper = prefix_successor(start);  // just past every "tenant\0..." key
  if (!cursor.empty()) {
    auto normal = normalize_address(cursor, nullptr);
    start.append(normal ? std::string_view(*normal) : cursor);
  }
  BoundedIterator it(*impl_->db, std::move(upper));
  it->Seek(start);
  if (!cursor.empty() && it->Valid() && it->key() == rocksdb::Slice(start)) it->Next();
  for (; it->Valid(); it->Next()) {
    if (page.entries.size() == limit) {  // one more exists: the page is not the last
      page.next_cursor = page.entries.back().email;
      break;
    }
    const std::string_view key(it->key().data(), it->key().size());
    if (auto e = decode_entry(key, std::string_view(it->value().data(), it->value().size())))
      page.entries.push_back(std::move(*e));
  }
  return page;
}

std::size_t SuppressionList::size(std::string_view tenant) const {
  std::shared_lock lock(impl_->mu);
  const auto t = impl_->tenants.find(tenant);
  return t == impl_->tenants.end() ? 0 : t->second.size();
}

std::size_t SuppressionList::total() const {
  std::shared_lock lock(impl_->mu);
  return impl_->total;
}

std::size_t SuppressionList::skipped_at_open() const { return impl_->skipped; }

}  // namespace volley::storage
