#pragma once
// The per-tenant suppression list: addresses Volley must not mail again (hard bounces,
// complaints, entries made through the API). Persistent in its own RocksDB; thread-safe.
// What an entry is and how it is stored (core/suppression/entry.hpp) is pure code in core.
//
// contains() is on the injection hot path (every recipient of every message, on the HTTP thread,
// and on the submission listeners' io thread): it is one lookup in an in-memory index under a shared lock, without allocating.
// The index holds only the addresses and their reasons, loaded at open; the rest of an entry
// (description, times, ...) stays in RocksDB and find()/list() read it there.
//
// RocksDB keys are tenant '\0' normalised address, so a tenant's entries are one prefix,
// ordered by address.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/suppression/entry.hpp"

namespace volley::storage {

struct Added {
  bool created = false;  // false: an entry for the address existed and was updated
  suppression::Entry entry;           // as stored (the existing entry's created_at is kept)
};

struct Page {
  std::vector<suppression::Entry> entries;              // ordered by email
  std::optional<std::string> next_cursor;  // the last email of this page when more may follow
};

class SuppressionList {
 public:
  // Opens (creating if needed) the list at path and loads its index. nullptr and *error on
  // failure. Records that cannot be decoded are skipped and counted (skipped_at_open()).
  static std::unique_ptr<SuppressionList> open(const std::string& path, std::string* error);
  ~SuppressionList();
  SuppressionList(const SuppressionList&) = delete;
  SuppressionList& operator=(const SuppressionList&) = delete;

  // Adds or updates entries in one write (WriteOptions.sync = sync): all or nothing. Each
  // entry's email is normalised; updated_at is entry.updated_at_ms or now when 0; created_at is
  // the existing entry's, else entry.created_at_ms, else updated_at. nullopt and *error when an
  // entry is invalid (nothing written; the error names the entry's index when there are several)
  // or the write fails. When one address appears twice, the later entry wins.
  std::optional<std::vector<Added>> add(std::vector<suppression::Entry> entries, bool sync, std::string* error);
  std::optional<Added> add(suppression::Entry entry, bool sync, std::string* error);

  // true when the address was on the tenant's list (and is now removed).
  bool remove(std::string_view tenant, std::string_view email, bool sync = true);

  std::optional<suppression::Entry> find(std::string_view tenant, std::string_view email) const;
  // Whether the address is on the tenant's list; the entry's reason in *reason when given.
  bool contains(std::string_view tenant, std::string_view email, std::string* reason = nullptr) const;

  // Up to limit entries of the tenant's list after the address `cursor` ("" = from the start).
  Page list(std::string_view tenant, std::string_view cursor, std::size_t limit) const;

  std::size_t size(std::string_view tenant) const;
  std::size_t total() const;
  std::size_t skipped_at_open() const;

 private:
  struct Impl;
  explicit SuppressionList(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace volley::storage
