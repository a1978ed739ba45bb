// The signing stage's work on a batch: each message signed once, in place, in wire form.
#include <catch2/catch.hpp>

#include <string>

#include "actors/dkim_signer.hpp"
#include "core/smtp/wire.hpp"

using namespace volley;

namespace {

spool::NewMessage message(const std::string& id, const std::string& from, const std::string& tenant = "default") {
  spool::NewMessage m;
  m.message.id = id;
  m.message.tenant = tenant;
  const std::string text = "From: " + from + "\r\nSubject: hi\r\n\r\n.dot\r\nbody\r\n";
  m.wire_data = smtp::to_wire_data(text);
  m.message.message_size = text.size();
  return m;
}

}  // namespace

TEST_CASE("a batch's messages are signed in place, the others left as they were") {
  std::string error;
  auto key = dkim::generate_key(dkim::Algorithm::ed25519_sha256, 0, &error);
  REQUIRE(key);
  dkim::SigningKey k;
  k.domain = "example.com";
  k.selector = "s1";
  k.key = *key;
  const dkim::Signer signer({k});

  InjectBatch batch;
  batch.messages.push_back(message("m1", "a@example.com"));
  batch.messages.push_back(message("m2", "a@example.org"));
  const auto unsigned_first = batch.messages[0].wire_data;
  const auto unsigned_second = batch.messages[1].wire_data;
  const auto size_before = batch.messages[0].message.message_size;
  DkimSignStats stats;
  REQUIRE(sign_batch(signer, batch, 1700000000, &stats));

  const auto& first = batch.messages[0];
  REQUIRE(first.wire_data.size() > unsigned_first.size());
  CHECK(first.wire_data.rfind("DKIM-Signature: v=1; a=ed25519-sha256;", 0) == 0);
  CHECK(first.wire_data.substr(first.wire_data.size() - unsigned_first.size()) == unsigned_first);
  CHECK(first.message.message_size == size_before + (first.wire_data.size() - unsigned_first.size()));
  CHECK(first.message.dkim == dkim::SignatureInfos{{"example.com", "s1", "ed25519-sha256"}});
  CHECK(batch.messages[1].wire_data == unsigned_second);
  CHECK(batch.messages[1].message.dkim.empty());
  CHECK(stats.signatures.size() == 1);
  CHECK(stats.message_seconds.size() == 1);
}
