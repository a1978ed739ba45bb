#pragma once
// A RocksDB iterator with an upper bound, and the bound's storage kept alive as long as it (the
// ReadOptions only point at it). A bound stops a walk at the end of its range instead of letting
// it read on, through tombstones, into the keys beyond.
#include <memory>
#include <string>
#include <string_view>

#include <rocksdb/db.h>

namespace volley::storage {

class BoundedIterator {
 public:
  // Unpositioned: Seek() it. fill_cache = false for one-off walks, so that they do not push the
  // working set out of the block cache.
  BoundedIterator(rocksdb::DB& db, std::string upper_bound, bool fill_cache = true)
      : upper_(std::move(upper_bound)), upper_slice_(upper_) {
    rocksdb::ReadOptions ro;
    ro.iterate_upper_bound = &upper_slice_;
    ro.fill_cache = fill_cache;
    it_.reset(db.NewIterator(ro));
  }
  BoundedIterator(const BoundedIterator&) = delete;
  BoundedIterator& operator=(const BoundedIterator&) = delete;

  rocksdb::Iterator* operator->() { return it_.get(); }

 private:
  std::string upper_;
  rocksdb::Slice upper_slice_;
  std::unique_ptr<rocksdb::Iterator> it_;
};

// The least key above every key that starts with prefix: "m/" -> "m0".
inline std::string prefix_successor(std::string_view prefix) {
  std::string upper(prefix);
  upper.back() = static_cast<char>(upper.back() + 1);
  return upper;
}

// Visits (key, value) of every key that starts with prefix, in key order, as string_views valid
// during the call; the walk's status (not ok when it failed). One-off walks: the block
// cache is not filled.
template <class Fn>
rocksdb::Status scan_prefix(rocksdb::DB& db, std::string_view prefix, Fn&& visit) {
  BoundedIterator it(db, prefix_successor(prefix), /*fill_cache=*/false);
  for (it->Seek(rocksdb::Slice(prefix.data(), prefix.size())); it->Valid(); it->Next()) {
    visit(std::string_view(it->key().data(), it->key().size()),
          std::string_view(it->value().data(), it->value().size()));
  }
  return it->status();
}

}  // namespace volley::storage
