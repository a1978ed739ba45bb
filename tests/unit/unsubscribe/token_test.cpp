// Unsubscribe tokens (core/unsubscribe/token.hpp): what they carry, and that nothing but the
// token Volley made is read: one changed character, a truncation, another key all fail.
#include <catch2/catch.hpp>

#include <string>

#include "core/unsubscribe/token.hpp"

using namespace volley::unsubscribe;

namespace {

const std::string kRcpt = "0194c3b2a1f0e9d8c7b6a5f4-3";

Recipient sample() { return Recipient{"acme", kRcpt, "Jane.Doe@Example.org", "spring-sale"}; }

bool url_safe(const std::string& s) {
  for (char c : s)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
      return false;
  return true;
}

}  // namespace

TEST_CASE("token: a token reads back as the recipient it was made for", "[unsubscribe]") {
  const TokenKey key("instance secret");
  const std::string token = key.token(sample());
  CHECK(url_safe(token));
  const auto r = key.read(token);
  REQUIRE(r);
  CHECK(*r == sample());

  Recipient no_campaign = sample();
  no_campaign.campaign.clear();
  no_campaign.rcpt_id = "0194c3b2a1f0e9d8c7b6a5f4-123456789";
  const auto back = key.read(key.token(no_campaign));
  REQUIRE(back);
  CHECK(*back == no_campaign);
}

TEST_CASE("token: every one-character change is refused", "[unsubscribe]") {
  const TokenKey key("instance secret");
  const std::string token = key.token(sample());
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::size_t tried = 0;
  for (std::size_t i = 0; i < token.size(); ++i) {
    for (char c : alphabet) {
      if (c == token[i]) continue;
      std::string changed = token;
      changed[i] = c;
      ++tried;
      std::string why;
      if (key.read(changed, &why)) FAIL("accepted with position " << i << " changed to " << c);
    }
  }
  CHECK(tried == token.size() * 63);
}

TEST_CASE("token: truncated, extended, empty or foreign tokens are refused", "[unsubscribe]") {
  const TokenKey key("instance secret");
  const std::string token = key.token(sample());
  std::string why;
  for (std::size_t n = 0; n < token.size(); ++n) CHECK_FALSE(key.read(token.substr(0, n), &why));
  CHECK_FALSE(key.read(token + "A", &why));
  CHECK_FALSE(key.read(token + "AAAA", &why));
  CHECK_FALSE(key.read(token.substr(1), &why));
  CHECK_FALSE(key.read("not a token", &why));
  CHECK(why == "not base64url");
  CHECK_FALSE(key.read(token + "=", &why));
  // Another instance's secret: the same recipient, another tag.
  CHECK_FALSE(TokenKey("another secret").read(token, &why));
  CHECK(why == "wrong tag");
}

TEST_CASE("token: the tenant is signed, so a token cannot be moved to another tenant", "[unsubscribe]") {
  const TokenKey key("instance secret");
  Recipient other = sample();
  other.tenant = "globex";
  const std::string mine = key.token(sample());
  const std::string theirs = key.token(other);
  CHECK(mine != theirs);
  CHECK(key.read(theirs)->tenant == "globex");
  CHECK(key.read(mine)->tenant == "acme");
}

TEST_CASE("token: a recipient that cannot be encoded is a caller's bug", "[unsubscribe]") {
  const TokenKey key("instance secret");
  Recipient bad = sample();
  bad.rcpt_id = "not-an-id";
  CHECK_THROWS_AS(key.token(bad), std::invalid_argument);
  bad = sample();
  bad.address = std::string(300, 'a') + "@example.org";
  CHECK_THROWS_AS(key.token(bad), std::invalid_argument);
}

TEST_CASE("token: the mailto form fits a local part and is signed with its own key", "[unsubscribe]") {
  const TokenKey key("instance secret");
  const std::string local = key.mailto_local_part(kRcpt);
  CHECK(local.size() <= 64);
  CHECK(local.rfind("u+", 0) == 0);
  CHECK(key.mailto_rcpt_id(local) == kRcpt);
  // Relays may upper-case local parts.
  std::string upper = local;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CHECK(key.mailto_rcpt_id(upper) == kRcpt);
  std::string changed = local;
  changed.back() = changed.back() == '0' ? '1' : '0';
  CHECK(key.mailto_rcpt_id(changed).empty());
  CHECK(key.mailto_rcpt_id("u+" + kRcpt).empty());
  CHECK(key.mailto_rcpt_id("bounces+" + local.substr(2)).empty());
  // A VERP tag made with the instance secret itself is not an unsubscribe tag.
  const volley::delivery::ReturnPaths verp({}, "instance secret");
  CHECK(key.mailto_rcpt_id("u+" + verp.signed_id(kRcpt)).empty());
}
