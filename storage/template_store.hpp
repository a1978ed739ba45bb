#pragma once
// Stored templates (docs/templates.md), per tenant and versioned, in their own RocksDB; every
// write is synced before it returns. Thread-safe; reads are one lookup (the injection API reads
// on the HTTP thread, once per request that names a template).
//
// Keys are tenant '\0' name '\0' version (4 bytes, big-endian), so a template's versions are
// one ordered prefix and a tenant's templates another.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/template/stored.hpp"

namespace volley::storage {

class TemplateStore {
 public:
  // Opens (creating if needed) the store at path; nullptr and *error on failure.
  static std::unique_ptr<TemplateStore> open(const std::string& path, std::string* error);
  ~TemplateStore();
  TemplateStore(const TemplateStore&) = delete;
  TemplateStore& operator=(const TemplateStore&) = delete;

  // Stores t as the next version of its name (1 after none or after remove), created now;
  // returns it as stored. nullopt and *error when the write fails.
  std::optional<templates::StoredTemplate> put(std::string_view tenant, templates::StoredTemplate t,
                                               std::string* error);
  // The latest version, or the given one; nullopt when there is none.
  std::optional<templates::StoredTemplate> get(std::string_view tenant, std::string_view name,
                                               std::optional<std::uint32_t> version = std::nullopt) const;
  // Removes every version; false when there was none (or the write failed: *error).
  bool remove(std::string_view tenant, std::string_view name, std::string* error = nullptr);
  // The latest version of each of the tenant's templates, by name; at most limit.
  std::vector<templates::StoredTemplate> list(std::string_view tenant, std::size_t limit) const;

 private:
  struct Impl;
  explicit TemplateStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace volley::storage
