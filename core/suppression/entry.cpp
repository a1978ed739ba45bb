#include "core/suppression/entry.hpp"

#include "core/util/ascii.hpp"

namespace volley::suppression {

namespace {

constexpr char kFormat = 'S';  // first byte of every value: format 1 of a suppression entry

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
using util::ascii_lower;

// ---- value codec: kFormat, then reason, category, source, description (u32 length + bytes),
// then created_at_ms and updated_at_ms (i64); integers little-endian. Email and tenant are
// the key's.
void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void put_str(std::string& out, std::string_view s) {
  const auto n = static_cast<std::uint32_t>(s.size());
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  out.append(s);
}

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool u64(std::uint64_t* v) {
    if (in_.size() < 8) return false;
    *v = 0;
    for (int i = 0; i < 8; ++i) *v |= std::uint64_t(static_cast<unsigned char>(in_[i])) << (8 * i);
    in_.remove_prefix(8);
    return true;
  }
  bool str(std::string* s) {
    if (in_.size() < 4) return false;
    std::uint32_t n = 0;
    for (int i = 0; i < 4; ++i) n |= std::uint32_t(static_cast<unsigned char>(in_[i])) << (8 * i);
    in_.remove_prefix(4);
    if (in_.size() < n) return false;
    s->assign(in_.substr(0, n));
    in_.remove_prefix(n);
    return true;
  }
  bool done() const { return in_.empty(); }

 private:
  std::string_view in_;
};

}  // namespace

std::optional<std::size_t> normalize_into(std::string_view a, char* out, std::string* error) {
  auto fail = [&](const char* why) -> std::optional<std::size_t> {
    if (error) *error = why;
    return std::nullopt;
  };
  while (!a.empty() && is_space(a.front())) a.remove_prefix(1);
  while (!a.empty() && is_space(a.back())) a.remove_suffix(1);
  if (a.empty()) return fail("email is empty");
  if (a.size() > kMaxAddress) return fail("email is longer than 254 bytes");
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto c = static_cast<unsigned char>(a[i]);
    if (c <= 0x20 || c == 0x7f) return fail("email contains white space or control characters");
    if (c == '<' || c == '>') return fail("email must be a bare address, without < >");
    out[i] = ascii_lower(a[i]);
  }
  const auto at = a.rfind('@');
  if (at == std::string_view::npos) return fail("email has no @");
  if (at == 0) return fail("email has an empty local part");
  if (at + 1 == a.size()) return fail("email has an empty domain");
  return a.size();
}

std::optional<std::string> check_tenant(std::string_view tenant) {
  if (tenant.empty()) return "tenant is empty";
  if (tenant.size() > kMaxTenant) return "tenant is longer than 200 bytes";
  if (tenant.find('\0') != std::string_view::npos) return "tenant contains NUL";
  return std::nullopt;
}

std::string entry_key(std::string_view tenant, std::string_view email) {
  std::string k;
  k.reserve(tenant.size() + 1 + email.size());
  k.append(tenant).push_back('\0');
  k.append(email);
  return k;
}

std::string encode_entry(const Entry& e) {
  std::string out(1, kFormat);
  out.reserve(1 + 16 + e.reason.size() + e.category.size() + e.source.size() + e.description.size() + 16);
  put_str(out, e.reason);
  put_str(out, e.category);
  put_str(out, e.source);
  put_str(out, e.description);
  put_u64(out, static_cast<std::uint64_t>(e.created_at_ms));
  put_u64(out, static_cast<std::uint64_t>(e.updated_at_ms));
  return out;
}

std::optional<Entry> decode_entry(std::string_view key, std::string_view value) {
  const auto nul = key.find('\0');
  if (nul == std::string_view::npos || value.empty() || value.front() != kFormat) return std::nullopt;
  Entry e;
  e.tenant.assign(key.substr(0, nul));
  e.email.assign(key.substr(nul + 1));
  Reader r(value.substr(1));
  std::uint64_t created = 0;
  std::uint64_t updated = 0;
  if (!r.str(&e.reason) || !r.str(&e.category) || !r.str(&e.source) || !r.str(&e.description) ||
      !r.u64(&created) || !r.u64(&updated) || !r.done())
    return std::nullopt;
  e.created_at_ms = static_cast<std::int64_t>(created);
  e.updated_at_ms = static_cast<std::int64_t>(updated);
  return e;
}

std::optional<std::string> check_entry(const Entry& e) {
  struct Limit {
    const char* name;
    const std::string& value;
    std::size_t max;
  };
  for (const Limit& l : {Limit{"reason", e.reason, kMaxReason}, Limit{"category", e.category, kMaxCategory},
                         Limit{"source", e.source, kMaxSource},
                         Limit{"description", e.description, kMaxDescription}}) {
    if (l.value.size() > l.max)
      return std::string(l.name) + " is longer than " + std::to_string(l.max) + " bytes";
  }
  return check_tenant(e.tenant);
}

std::optional<std::string> normalize_address(std::string_view address, std::string* error) {
  char buf[kMaxAddress];
  const auto n = normalize_into(address, buf, error);
  if (!n) return std::nullopt;
  return std::string(buf, *n);
}

}  // namespace volley::suppression
