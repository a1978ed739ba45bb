#include "core/suppression/address_table.hpp"

#include <cstring>
#include <functional>
#include <utility>

namespace volley::suppression {

namespace {

// A record: the value (4 bytes, native order), the key's length (1 byte), the key's bytes.
constexpr std::size_t kHeader = sizeof(std::uint32_t) + 1;

char* tombstone() {
  static char mark;
  return &mark;
}

bool is_record(const char* slot) { return slot != nullptr && slot != tombstone(); }

std::string_view key_of(const char* record) {
  return {record + kHeader, static_cast<unsigned char>(record[sizeof(std::uint32_t)])};
}

std::uint32_t value_of(const char* record) {
  std::uint32_t v;
  std::memcpy(&v, record, sizeof v);
  return v;
}

void set_value(char* record, std::uint32_t v) { std::memcpy(record, &v, sizeof v); }

char* make_record(std::string_view key, std::uint32_t value) {
  char* r = new char[kHeader + key.size()];
  set_value(r, value);
  r[sizeof(std::uint32_t)] = static_cast<char>(static_cast<unsigned char>(key.size()));
  std::memcpy(r + kHeader, key.data(), key.size());
  return r;
}

std::size_t hash_of(std::string_view key) { return std::hash<std::string_view>{}(key); }

}  // namespace

AddressTable::~AddressTable() { clear(); }

AddressTable::AddressTable(AddressTable&& other) noexcept
    : slots_(std::move(other.slots_)),
      size_(std::exchange(other.size_, 0)),
      tombstones_(std::exchange(other.tombstones_, 0)) {
  other.slots_.clear();
}

AddressTable& AddressTable::operator=(AddressTable&& other) noexcept {
  if (this != &other) {
    clear();
    slots_ = std::move(other.slots_);
    other.slots_.clear();
    size_ = std::exchange(other.size_, 0);
    tombstones_ = std::exchange(other.tombstones_, 0);
  }
  return *this;
}

void AddressTable::clear() {
  for (char* s : slots_) {
    if (is_record(s)) delete[] s;
  }
  slots_.clear();
  size_ = 0;
  tombstones_ = 0;
}

// Linear probing over a power-of-two table kept under 70 % full (tombstones included), so an
// empty slot always ends the probe; the loop is bounded by the table's size all the same.
std::size_t AddressTable::slot_of(std::string_view key) const {
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = hash_of(key) & mask;
  std::size_t first_free = slots_.size();
  for (std::size_t probes = 0; probes < slots_.size(); ++probes, i = (i + 1) & mask) {
    const char* s = slots_[i];
    if (s == nullptr) return first_free < slots_.size() ? first_free : i;
    if (s == tombstone()) {
      if (first_free == slots_.size()) first_free = i;
      continue;
    }
    if (key_of(s) == key) return i;
  }
  return first_free;
}

void AddressTable::grow() {
  std::size_t capacity = 16;
  while (capacity * 7 < (size_ + 1) * 20) capacity *= 2;  // rehashed to at most 35 % full
  std::vector<char*> old = std::exchange(slots_, std::vector<char*>(capacity, nullptr));
  tombstones_ = 0;
  const std::size_t mask = capacity - 1;
  for (char* s : old) {
    if (!is_record(s)) continue;
    std::size_t i = hash_of(key_of(s)) & mask;
    while (slots_[i] != nullptr) i = (i + 1) & mask;  // fewer records than slots: ends
    slots_[i] = s;
  }
}

bool AddressTable::put(std::string_view key, std::uint32_t value) {
  if ((size_ + tombstones_ + 1) * 10 > slots_.size() * 7) grow();
  const std::size_t i = slot_of(key);
  char*& slot = slots_[i];
  if (is_record(slot)) {
    set_value(slot, value);
    return false;
  }
  if (slot == tombstone()) --tombstones_;
  slot = make_record(key, value);
  ++size_;
  return true;
}

bool AddressTable::erase(std::string_view key) {
  if (slots_.empty()) return false;
  const std::size_t i = slot_of(key);
  if (i >= slots_.size() || !is_record(slots_[i]) || key_of(slots_[i]) != key) return false;
  delete[] slots_[i];
  slots_[i] = tombstone();
  --size_;
  ++tombstones_;
  return true;
}

std::optional<std::uint32_t> AddressTable::find(std::string_view key) const {
  if (slots_.empty()) return std::nullopt;
  const std::size_t i = slot_of(key);
  if (i >= slots_.size() || !is_record(slots_[i]) || key_of(slots_[i]) != key) return std::nullopt;
  return value_of(slots_[i]);
}

}  // namespace volley::suppression
