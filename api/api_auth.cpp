#include "api/api_auth.hpp"

#include <array>
#include <memory>
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

class Auth {
 public:
  Auth(std::vector<ApiKeyEntry> keys, Handler next) : next_(std::move(next)) {
    for (auto& k : keys) {
      const Digest d = from_hex(k.key_sha256);
      keys_.push_back(Key{std::move(k), d});
    }
  }

  void handle(HttpRequest&& req, Responder respond) const {
    if (keys_.empty() || req.path().substr(0, 5) != "/api/") return next_(std::move(req), std::move(respond));
    const Key* key = find(req.header("authorization"));
    if (!key) {
      HttpResponse r = error_response(401, "unauthorized", "an API key is required: Authorization: Bearer <key>");
      r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"volley\"");
      return respond(std::move(r));
    }
    req.tenant = key->entry.tenant;
    req.admin = key->entry.admin;
    next_(std::move(req), std::move(respond));
  }

 private:
  const Key* find(std::optional<std::string_view> header) const {
    constexpr std::string_view kScheme = "bearer ";
    if (!header || header->size() <= kScheme.size()) return nullptr;
    // The scheme is case-insensitive (RFC 9110).
    if (!util::ascii_iequals(header->substr(0, kScheme.size()), kScheme)) return nullptr;
    const std::string_view secret = header->substr(kScheme.size());
    const Digest d = util::sha256(secret);
    const Key* found = nullptr;
    for (const auto& k : keys_)  // every key is compared, so timing says nothing about which matched
      if (CRYPTO_memcmp(k.digest.data(), d.data(), d.size()) == 0) found = &k;
    return found;
  }

  std::vector<Key> keys_;
  Handler next_;
};

}  // namespace

Handler make_auth_handler(std::vector<ApiKeyEntry> keys, Handler next) {
  auto auth = std::make_shared<const Auth>(std::move(keys), std::move(next));
  return [auth](HttpRequest&& req, Responder respond) { auth->handle(std::move(req), std::move(respond)); };
}

}  // namespace volley::api
