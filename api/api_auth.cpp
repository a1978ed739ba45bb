#include "api/api_auth.hpp"

#include <array>
#include <memory>
#include <mutex>
#include <string_view>

#include <openssl/crypto.h>

#include "api/http_json.hpp"
#include "core/util/ascii.hpp"
#include "core/util/sha256.hpp"

namespace volley::api {

namespace {

using Digest = util::Sha256;

Digest from_hex(std::string_view hex) {
  Digest d{};
  auto nibble = [](char c) { return static_cast<unsigned char>(c <= '9' ? c - '0' : c - 'a' + 10); };
  for (std::size_t i = 0; i < d.size() && 2 * i + 1 < hex.size(); ++i)
    d[i] = static_cast<unsigned char>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
  return d;
}

struct Key {
  ApiKeyEntry entry;
  Digest digest;
};

// One version of the key list, with the digests decoded once.
struct Keys {
  explicit Keys(const ApiKeyList& entries) {
    for (const auto& k : entries) list.push_back(Key{k, from_hex(k.key_sha256)});
  }
  std::vector<Key> list;
};

class Auth {
 public:
  Auth(std::shared_ptr<ReloadableApiKeys> source, Handler next) : source_(std::move(source)), next_(std::move(next)) {}

  void handle(HttpRequest&& req, Responder respond) const {
    auto keys = current();
    if (keys->list.empty() || req.path().substr(0, 5) != "/api/") return next_(std::move(req), std::move(respond));
    const Key* key = find(*keys, req.header("authorization"));
    if (!key) {
      HttpResponse r = error_response(401, "unauthorized", "an API key is required: Authorization: Bearer <key>");
      r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"volley\"");
      return respond(std::move(r));
    }
    req.tenant = key->entry.tenant;
    req.admin = key->entry.admin;
    req.key_name = key->entry.name;
    next_(std::move(req), std::move(respond));
  }

 private:
  // The decoded list for the source's current version: decoded again only after a reload.
  std::shared_ptr<const Keys> current() const {
    auto entries = source_->get();
    std::lock_guard lock(mu_);
    if (entries != decoded_for_) {
      decoded_ = std::make_shared<const Keys>(*entries);
      decoded_for_ = std::move(entries);
    }
    return decoded_;
  }

  static const Key* find(const Keys& keys, std::optional<std::string_view> header) {
    constexpr std::string_view kScheme = "bearer ";
    if (!header || header->size() <= kScheme.size()) return nullptr;
    // The scheme is case-insensitive (RFC 9110).
    if (!util::ascii_iequals(header->substr(0, kScheme.size()), kScheme)) return nullptr;
    const std::string_view secret = header->substr(kScheme.size());
    const Digest d = util::sha256(secret);
    const Key* found = nullptr;
    for (const auto& k : keys.list)  // every key is compared, so timing says nothing about which matched
      if (CRYPTO_memcmp(k.digest.data(), d.data(), d.size()) == 0) found = &k;
    return found;
  }

  std::shared_ptr<ReloadableApiKeys> source_;
  Handler next_;
  mutable std::mutex mu_;  // the HTTP thread is the only caller today; the lock keeps it correct if not
  mutable std::shared_ptr<const ApiKeyList> decoded_for_;
  mutable std::shared_ptr<const Keys> decoded_;
};

}  // namespace

Handler make_auth_handler(std::vector<ApiKeyEntry> keys, Handler next) {
  return make_auth_handler(
      std::make_shared<ReloadableApiKeys>(std::make_shared<const ApiKeyList>(std::move(keys))), std::move(next));
}

Handler make_auth_handler(std::shared_ptr<ReloadableApiKeys> keys, Handler next) {
  return serve<Auth>(std::move(keys), std::move(next));
}

}  // namespace volley::api
