#include "core/spool/codec.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <random>
#include <string>

using namespace volley::spool;

namespace {

MessageRecord full_message() {
  MessageRecord m;
  m.id = "0189abcdef0123456789abcd";
  m.envelope_from = "bounces+x@example.org";
  m.tenant = "acme";
  m.campaign = std::string("bin\0ary\xff", 8);
  m.tags = {"", "one", std::string(300, 't')};
  m.metadata_json = R"({"user":42,"nested":{"a":[1,2]}})";
  m.message_id_header = "<abc@example.org>";
  m.received_at_ms = -12345;
  m.message_size = std::numeric_limits<std::uint64_t>::max();
  m.body_8bit = true;
  m.needs_smtputf8 = true;
  m.recipient_count = std::numeric_limits<std::uint32_t>::max();
  m.pool = "shared";
  m.dkim = {{"example.com", "s2026r", "rsa-sha256"}, {"example.com", "s2026e", "ed25519-sha256"}};
  m.send_at_ms = 1798099200000;
  return m;
}

RecipientRecord full_recipient() {
  RecipientRecord r;
  r.id = "0189abcdef0123456789abcd-7";
  r.message_id = "0189abcdef0123456789abcd";
  r.recipient = "Jörg@Exämple.org";
  r.domain = "xn--exmple-cua.org";
  r.state = RecipientState::deferred;
  r.attempts = 17;
  r.next_attempt_ms = std::numeric_limits<std::int64_t>::max();
  r.last_reply = "451 4.7.1 greylisted";
  return r;
}

}  // namespace

TEST_CASE("codec: message records round-trip", "[spool][codec]") {
  const MessageRecord m = full_message();
  auto back = decode_message(encode_message(m));
  REQUIRE(back);
  CHECK(*back == m);

  const MessageRecord defaults;
  auto back2 = decode_message(encode_message(defaults));
  REQUIRE(back2);
  CHECK(*back2 == defaults);

  MessageRecord flags_apart;
  flags_apart.body_8bit = false;
  flags_apart.needs_smtputf8 = true;
  flags_apart.received_at_ms = std::numeric_limits<std::int64_t>::min();
  CHECK(*decode_message(encode_message(flags_apart)) == flags_apart);
}

// A version 2 record is the version 3 record without its last field (the DKIM signatures), a
// version 1 record the version 2 record without its pool.
TEST_CASE("codec: version 1 and 2 message records (before pools, before DKIM) still read", "[spool][codec]") {
  MessageRecord m = full_message();
  m.pool = "dedicated";  // shorter than 128 bytes: one length byte
  m.dkim.clear();        // an empty list: one count byte
  m.send_at_ms = 0;      // one byte
  const std::string v4 = encode_message(m);
  const std::string v3 = "\x03" + v4.substr(1, v4.size() - 2);
  const std::string v2 = "\x02" + v3.substr(1, v3.size() - 2);
  auto back2 = decode_message(v2);
  REQUIRE(back2);
  CHECK(*back2 == m);
  const std::string v1 = "\x01" + v2.substr(1, v2.size() - 1 - (1 + m.pool.size()));
  auto back = decode_message(v1);
  REQUIRE(back);
  m.pool.clear();
  CHECK(*back == m);
  CHECK_FALSE(decode_message(v1 + "x"));
  CHECK_FALSE(decode_message(v2 + "x"));
}

// A version 3 record is the version 4 record without its last field (send_at).
TEST_CASE("codec: version 3 message records (before send_at) still read, as due at once", "[spool][codec]") {
  MessageRecord m = full_message();
  m.send_at_ms = 0;  // one byte
  const std::string v4 = encode_message(m);
  REQUIRE(static_cast<std::uint8_t>(v4[0]) == 4);
  const std::string v3 = "\x03" + v4.substr(1, v4.size() - 2);
  auto back = decode_message(v3);
  REQUIRE(back);
  CHECK(*back == m);
  CHECK_FALSE(decode_message(v3 + "x"));
  m.send_at_ms = -1;  // a negative instant still round-trips (it means "at once")
  CHECK(decode_message(encode_message(m))->send_at_ms == -1);
}

TEST_CASE("codec: a DKIM list longer than the record is refused", "[spool][codec]") {
  MessageRecord m = full_message();
  m.dkim.clear();
  m.send_at_ms = 0;
  std::string bytes = encode_message(m);
  bytes[bytes.size() - 2] = '\x7f';  // 127 signatures, none there (send_at is the last byte)
  std::string why;
  CHECK_FALSE(decode_message(bytes, &why));
  CHECK(why == "list longer than record");
}

TEST_CASE("codec: recipient records round-trip", "[spool][codec]") {
  const RecipientRecord r = full_recipient();
  auto back = decode_recipient(encode_recipient(r));
  REQUIRE(back);
  CHECK(*back == r);

  const RecipientRecord defaults;
  CHECK(*decode_recipient(encode_recipient(defaults)) == defaults);
}

TEST_CASE("codec: idempotency entries round-trip", "[spool][codec]") {
  IdempotencyEntry e{1700000000123, R"({"ids":["a","b"]})", std::string("\x00\xff digest", 9)};
  auto back = decode_idempotency(encode_idempotency(e));
  REQUIRE(back);
  CHECK(back->at_ms == e.at_ms);
  CHECK(back->response_json == e.response_json);
  CHECK(back->request_digest == e.request_digest);
}

TEST_CASE("codec: version 1 idempotency entries (before digests) still read, without a digest", "[spool][codec]") {
  const IdempotencyEntry e{42, "{}", "d"};
  const std::string v2 = encode_idempotency(e);
  REQUIRE(static_cast<std::uint8_t>(v2[0]) == 2);
  // A version 1 entry is the version 2 entry without its last field (the digest).
  const std::string v1 = "\x01" + v2.substr(1, v2.size() - 1 - (1 + e.request_digest.size()));
  auto back = decode_idempotency(v1);
  REQUIRE(back);
  CHECK(back->at_ms == 42);
  CHECK(back->response_json == "{}");
  CHECK(back->request_digest.empty());
  CHECK_FALSE(decode_idempotency(v1 + "x"));
}

TEST_CASE("codec: records are compact", "[spool][codec]") {
  RecipientRecord r;
  r.id = "0189abcdef0123456789abcd-0";
  r.message_id = "0189abcdef0123456789abcd";
  r.recipient = "a@b.example";
  r.domain = "b.example";
  // Fields plus one length byte each, two header bytes, state, attempts, next attempt.
  CHECK(encode_recipient(r).size() == 2 + (1 + 26) + (1 + 24) + (1 + 11) + (1 + 9) + 1 + 1 + 1 + 1);
}

TEST_CASE("codec: every truncation is rejected", "[spool][codec]") {
  const std::string m = encode_message(full_message());
  const std::string r = encode_recipient(full_recipient());
  const std::string i = encode_idempotency({5, "{}"});
  for (std::size_t n = 0; n < m.size(); ++n) {
    std::string why;
    CHECK_FALSE(decode_message(std::string_view(m).substr(0, n), &why));
    CHECK_FALSE(why.empty());
  }
  for (std::size_t n = 0; n < r.size(); ++n)
    CHECK_FALSE(decode_recipient(std::string_view(r).substr(0, n)));
  for (std::size_t n = 0; n < i.size(); ++n)
    CHECK_FALSE(decode_idempotency(std::string_view(i).substr(0, n)));
}

TEST_CASE("codec: malformed records are rejected with a reason", "[spool][codec]") {
  std::string why;

  SECTION("trailing bytes") {
    CHECK_FALSE(decode_recipient(encode_recipient(full_recipient()) + "x", &why));
    CHECK(why == "trailing bytes after record");
  }
  SECTION("unknown version") {
    std::string bytes = encode_message(full_message());
    bytes[0] = 5;
    CHECK_FALSE(decode_message(bytes, &why));
    CHECK(why == "unsupported record version 5");
    std::string rcpt = encode_recipient(full_recipient());
    rcpt[0] = 2;  // recipients are still at version 1
    CHECK_FALSE(decode_recipient(rcpt, &why));
    CHECK(why == "unsupported record version 2");
  }
  SECTION("wrong kind") {
    CHECK_FALSE(decode_message(encode_recipient(full_recipient()), &why));
    CHECK(why == "wrong record kind");
    CHECK_FALSE(decode_idempotency(encode_message(full_message())));
  }
  SECTION("string longer than the record") {
    std::string bytes{"\x01R\xff\xff\xff\xff\x0f", 7};  // id length 2^32-1
    CHECK_FALSE(decode_recipient(bytes, &why));
    CHECK(why == "string longer than record");
  }
  SECTION("hostile list count") {
    // id, envelope, tenant, campaign empty; then 2^63 tags.
    std::string bytes{"\x01M\x00\x00\x00\x00\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", 16};
    CHECK_FALSE(decode_message(bytes, &why));
    CHECK(why == "list longer than record");
  }
  SECTION("overlong varint") {
    std::string bytes{"\x01I", 2};
    bytes += std::string(10, '\x80');
    bytes += '\x00';
    CHECK_FALSE(decode_idempotency(bytes, &why));
    CHECK(why == "varint overflow");
  }
  SECTION("unknown recipient state") {
    RecipientRecord r;
    std::string bytes = encode_recipient(r);  // 2 header + 4 empty strings, then the state
    REQUIRE(bytes[6] == 0);
    bytes[6] = 2;
    CHECK_FALSE(decode_recipient(bytes, &why));
    CHECK(why == "unknown recipient state");
  }
  SECTION("attempts beyond 32 bits") {
    RecipientRecord r;
    std::string bytes = encode_recipient(r).substr(0, 7);
    bytes += std::string{"\x80\x80\x80\x80\x10", 5};  // 2^32
    bytes += std::string{"\x00\x00", 2};
    CHECK_FALSE(decode_recipient(bytes, &why));
    CHECK(why == "u32 out of range");
  }
  SECTION("unknown flag bits") {
    MessageRecord m;
    m.tags.clear();
    std::string bytes = encode_message(m);
    // ... received_at (0), message_size (0), flags, recipient_count (0), pool (""), dkim ([]),
    // send_at (0) end the record.
    REQUIRE(bytes[bytes.size() - 5] == 0);
    bytes[bytes.size() - 5] = 0x04;
    CHECK_FALSE(decode_message(bytes, &why));
    CHECK(why == "unknown message flags");
  }
}

TEST_CASE("codec: random and mutated input never crashes", "[spool][codec]") {
  std::mt19937 rng(20240611);
  const std::string valid[] = {encode_message(full_message()), encode_recipient(full_recipient()),
                               encode_idempotency({7, "{\"a\":1}"})};
  std::size_t decoded = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string bytes = valid[round % 3];
    if (round % 4 == 0) {
      bytes.resize(rng() % 64);
      for (auto& c : bytes) c = static_cast<char>(rng());
      if (bytes.size() > 1) bytes[0] = 1;  // get past the version check most of the time
    } else {
      for (int flips = 1 + static_cast<int>(rng() % 4); flips > 0; --flips) {
        bytes[rng() % bytes.size()] = static_cast<char>(rng());
      }
    }
    // Whatever the outcome, it must be a clean yes or no.
    decoded += decode_message(bytes).has_value();
    decoded += decode_recipient(bytes).has_value();
    decoded += decode_idempotency(bytes).has_value();
  }
  CHECK(decoded < 3 * 20000);
}
