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

}  // namespace volley::storage
