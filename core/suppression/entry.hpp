#pragma once
// One entry of the per-tenant suppression list, and the pure rules around it: the limits, the
// normal form addresses are kept and compared in, and the stored form of an entry (its key,
// tenant '\0' normalised address, so a tenant's entries are one prefix, ordered by address; and
// its value). The list itself, on RocksDB, is the storage layer's (storage/suppression_list.hpp).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace volley::suppression {

inline constexpr std::size_t kMaxReason = 200;
inline constexpr std::size_t kMaxDescription = 500;
inline constexpr std::size_t kMaxCategory = 200;
inline constexpr std::size_t kMaxSource = 64;
inline constexpr std::size_t kMaxTenant = 200;
inline constexpr std::size_t kMaxAddress = 254;  // RFC 5321 path minus its angle brackets

struct Entry {
  std::string email;        // normalised (see normalize_address)
  std::string tenant;
  std::string reason;       // "hard_bounce", "complaint", "manual", ...
  std::string category;     // bounce category ("bad-mailbox") or feedback type ("abuse")
  std::string source;       // "async_bounce", "bounce", "complaint", "api"
  std::string description;  // e.g. the SMTP reply
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;

  bool operator==(const Entry&) const = default;
};

// The form addresses are kept and compared in: surrounding white space trimmed, ASCII
// lower-cased (local part included: a list errs on the side of not mailing). nullopt and *error
// when it is empty, too long, has no local part or domain, or holds white space or control
// characters.
std::optional<std::string> normalize_address(std::string_view address, std::string* error);

// normalize_address() into out (at least kMaxAddress bytes): the length, or nullopt and
// *error. For lookups that must not allocate (SuppressionList::contains).
std::optional<std::size_t> normalize_into(std::string_view address, char* out, std::string* error);

// Why a tenant name cannot be stored (empty, too long, holds NUL); nullopt when it can.
std::optional<std::string> check_tenant(std::string_view tenant);
// Why an entry with a normalised email cannot be stored (a field too long, a bad tenant).
std::optional<std::string> check_entry(const Entry& e);

// The stored form: the key of a tenant's address, and the value holding the rest of the entry.
std::string entry_key(std::string_view tenant, std::string_view email);
std::string encode_entry(const Entry& e);
// nullopt when the key or value is not one entry_key()/encode_entry() made.
std::optional<Entry> decode_entry(std::string_view key, std::string_view value);

}  // namespace volley::suppression
