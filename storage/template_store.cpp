#include "storage/template_store.hpp"

#include <mutex>
#include <utility>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "core/util/ids.hpp"
#include "storage/bounded_iterator.hpp"
#include "storage/rocksdb_open.hpp"
#include "storage/rocksdb_writer.hpp"

namespace volley::storage {

using templates::StoredTemplate;

namespace {

std::string name_prefix(std::string_view tenant, std::string_view name) {
  std::string key;
  key.reserve(tenant.size() + name.size() + 6);
  key.append(tenant).push_back('\0');
  key.append(name).push_back('\0');
  return key;
}

std::string version_key(std::string_view tenant, std::string_view name, std::uint32_t version) {
  std::string key = name_prefix(tenant, name);
  for (int shift = 24; shift >= 0; shift -= 8) key.push_back(static_cast<char>((version >> shift) & 0xff));
  return key;
}

}  // namespace

struct TemplateStore::Impl {
  explicit Impl(std::unique_ptr<rocksdb::DB> opened) : db(std::move(opened)), writer(db.get()) {}
  std::unique_ptr<rocksdb::DB> db;
  std::mutex write_mu;  // versions are numbered under it
  Writer writer;        // under write_mu

  // The newest version stored under prefix (a name's), if any.
  std::optional<StoredTemplate> latest(const std::string& prefix) const {
    const std::string upper = prefix_successor(prefix);
    BoundedIterator it(*db, upper);
    it->SeekForPrev(upper);
    if (!it->Valid() || !it->key().starts_with(prefix)) return std::nullopt;
    return templates::decode_template(std::string_view(it->value().data(), it->value().size()));
  }
};

TemplateStore::TemplateStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TemplateStore::~TemplateStore() = default;

std::unique_ptr<TemplateStore> TemplateStore::open(const std::string& path, std::string* error) {
  rocksdb::Options o = base_options();
  o.max_background_jobs = 1;
  o.write_buffer_size = 4u << 20;
  auto db = open_db(path, o, "templates", error);
  if (!db) return nullptr;
  return std::unique_ptr<TemplateStore>(new TemplateStore(std::make_unique<Impl>(std::move(db))));
}

std::optional<StoredTemplate> TemplateStore::put(std::string_view tenant, StoredTemplate t, std::string* error) {
  std::lock_guard lock(impl_->write_mu);
  const auto previous = impl_->latest(name_prefix(tenant, t.name));
  t.version = previous ? previous->version + 1 : 1;
  t.created_at_ms = now_unix_ms();
  rocksdb::WriteOptions wo;
  wo.sync = true;  // answered 201 only once it is on disk
  const auto s = impl_->writer.run(
      [&] { return impl_->db->Put(wo, version_key(tenant, t.name, t.version), templates::encode_template(t)); });
  if (!s.ok()) {
    if (error) *error = "templates: write: " + s.ToString();
    return std::nullopt;
  }
  return t;
}

std::optional<StoredTemplate> TemplateStore::get(std::string_view tenant, std::string_view name,
                                                 std::optional<std::uint32_t> version) const {
  if (!version) return impl_->latest(name_prefix(tenant, name));
  std::string value;
  if (!impl_->db->Get(rocksdb::ReadOptions(), version_key(tenant, name, *version), &value).ok()) return std::nullopt;
  return templates::decode_template(value);
}

bool TemplateStore::remove(std::string_view tenant, std::string_view name, std::string* error) {
  std::lock_guard lock(impl_->write_mu);
  const std::string prefix = name_prefix(tenant, name);
  if (!impl_->latest(prefix)) return false;
  rocksdb::WriteOptions wo;
  wo.sync = true;
  const auto s = impl_->writer.run(
      [&] { return impl_->db->DeleteRange(wo, impl_->db->DefaultColumnFamily(), prefix, prefix_successor(prefix)); });
  if (!s.ok()) {
    if (error) *error = "templates: delete: " + s.ToString();
    return false;
  }
  return true;
}

std::vector<StoredTemplate> TemplateStore::list(std::string_view tenant, std::size_t limit) const {
  std::vector<StoredTemplate> out;
  std::string start(tenant);
  start.push_back('\0');
  BoundedIterator it(*impl_->db, prefix_successor(start));
  // Versions of one name are adjacent, oldest first: the last one seen of a name is its latest.
  for (it->Seek(start); it->Valid(); it->Next()) {
    auto t = templates::decode_template(std::string_view(it->value().data(), it->value().size()));
    if (!t) continue;
    if (!out.empty() && out.back().name == t->name) {
      out.back() = std::move(*t);
    } else {
      if (out.size() == limit) break;
      out.push_back(std::move(*t));
    }
  }
  return out;
}

}  // namespace volley::storage
