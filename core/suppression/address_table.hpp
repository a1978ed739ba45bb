#pragma once
// The in-memory index of one tenant's suppression list: normalised address -> a small value
// (the list's id of the entry's reason). Read for every recipient of every injected message, and
// sized for millions of entries, so it is an open-addressing table of pointers to packed records
// (value, length, bytes in one allocation): about 45 bytes an entry for a 25-byte address, where
// std::unordered_map<std::string, ...> costs over 100. Not thread-safe: the owner locks.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace volley::suppression {

class AddressTable {
 public:
  // Keys longer than this cannot be stored (an addr-spec is at most 254 bytes).
  static constexpr std::size_t kMaxKey = 255;

  AddressTable() = default;
  ~AddressTable();
  AddressTable(AddressTable&& other) noexcept;
  AddressTable& operator=(AddressTable&& other) noexcept;
  AddressTable(const AddressTable&) = delete;
  AddressTable& operator=(const AddressTable&) = delete;

  // Inserts or overwrites; true when the key was new. key.size() <= kMaxKey.
  bool put(std::string_view key, std::uint32_t value);
  bool erase(std::string_view key);
  std::optional<std::uint32_t> find(std::string_view key) const;
  std::size_t size() const { return size_; }

 private:
  std::size_t slot_of(std::string_view key) const;  // the key's slot, or the first free one
  void grow();
  void clear();

  std::vector<char*> slots_;  // nullptr = never used, tombstone() = erased, else a record
  std::size_t size_ = 0;
  std::size_t tombstones_ = 0;
};

}  // namespace volley::suppression
