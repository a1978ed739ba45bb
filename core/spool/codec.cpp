#include "core/spool/codec.hpp"

#include <limits>
#include <utility>
#include <vector>

namespace volley::spool {

namespace {

enum class Kind : std::uint8_t { message = 'M', recipient = 'R', idempotency = 'I' };

constexpr std::uint8_t kFlagBody8bit = 0x01;
constexpr std::uint8_t kFlagSmtputf8 = 0x02;
constexpr std::uint8_t kKnownFlags = kFlagBody8bit | kFlagSmtputf8;

class Writer {
 public:
  explicit Writer(Kind kind, std::uint8_t version = kRecordFormatVersion) {
    out_.push_back(static_cast<char>(version));
    out_.push_back(static_cast<char>(kind));
  }
  void u64(std::uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7F) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void i64(std::int64_t v) {
    // Zig-zag, so small negative numbers stay short.
    u64((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
  }
  void byte(std::uint8_t b) { out_.push_back(static_cast<char>(b)); }
  void str(std::string_view s) {
    u64(s.size());
    out_.append(s);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

// Every read checks the remaining length first; the first failure sticks, so a decoder reads
// all fields and checks once at the end.
class Reader {
 public:
  // Accepts versions kRecordFormatVersion..newest of this kind.
  Reader(std::string_view in, Kind kind, std::uint8_t newest = kRecordFormatVersion) : in_(in) {
    std::uint8_t k = 0;
    if (!byte(&version_) || !byte(&k)) return;
    if (version_ < kRecordFormatVersion || version_ > newest) {
      fail("unsupported record version " + std::to_string(version_));
    } else if (k != static_cast<std::uint8_t>(kind)) {
      fail("wrong record kind");
    }
  }

  bool byte(std::uint8_t* out) {
    if (!error_.empty()) return false;
    if (pos_ >= in_.size()) return fail("truncated record"), false;
    *out = static_cast<std::uint8_t>(in_[pos_++]);
    return true;
  }
  bool u64(std::uint64_t* out) {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      std::uint8_t b = 0;
      if (!byte(&b)) return false;
      // The tenth byte may only carry the top bit of a 64-bit value.
      if (shift == 63 && b > 1) return fail("varint overflow"), false;
      v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        *out = v;
        return true;
      }
    }
    return fail("varint too long"), false;
  }
  bool u32(std::uint32_t* out) {
    std::uint64_t v = 0;
    if (!u64(&v)) return false;
    if (v > std::numeric_limits<std::uint32_t>::max()) return fail("u32 out of range"), false;
    *out = static_cast<std::uint32_t>(v);
    return true;
  }
  bool i64(std::int64_t* out) {
    std::uint64_t v = 0;
    if (!u64(&v)) return false;
    *out = static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
    return true;
  }
  bool str(std::string* out) {
    std::uint64_t n = 0;
    if (!u64(&n)) return false;
    if (n > in_.size() - pos_) return fail("string longer than record"), false;
    out->assign(in_.substr(pos_, static_cast<std::size_t>(n)));
    pos_ += static_cast<std::size_t>(n);
    return true;
  }
  bool strings(std::vector<std::string>* out) {
    std::uint64_t n = 0;
    if (!u64(&n)) return false;
    // Each string takes at least its length byte: a count beyond the bytes left is corrupt,
    // and checking it first keeps a hostile count from reserving gigabytes.
    if (n > in_.size() - pos_) return fail("list longer than record"), false;
    out->clear();
    out->reserve(static_cast<std::size_t>(n));
    for (std::uint64_t i = 0; i < n; ++i) {
      if (!str(&out->emplace_back())) return false;
    }
    return true;
  }

  bool signatures(dkim::SignatureInfos* out) {
    std::uint64_t n = 0;
    if (!u64(&n)) return false;
    // Each takes at least three length bytes (see strings()).
    if (n > (in_.size() - pos_) / 3) return fail("list longer than record"), false;
    out->resize(static_cast<std::size_t>(n));
    for (auto& d : *out) {
      if (!str(&d.domain) || !str(&d.selector) || !str(&d.algorithm)) return false;
    }
    return true;
  }

  // Whether every field was read and nothing is left over.
  bool finish(std::string* error) {
    if (error_.empty() && pos_ != in_.size()) fail("trailing bytes after record");
    if (!error_.empty() && error) *error = error_;
    return error_.empty();
  }
  void fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
  }
  std::uint8_t version() const { return version_; }

 private:
  std::uint8_t version_ = 0;
  std::string_view in_;
  std::size_t pos_ = 0;
  std::string error_;
};

}  // namespace

std::string encode_message(const MessageRecord& m) {
  Writer w(Kind::message, kMessageFormatVersion);
  w.str(m.id);
  w.str(m.envelope_from);
  w.str(m.tenant);
  w.str(m.campaign);
  w.u64(m.tags.size());
  for (const auto& t : m.tags) w.str(t);
  w.str(m.metadata_json);
  w.str(m.message_id_header);
  w.i64(m.received_at_ms);
  w.u64(m.message_size);
  w.byte(static_cast<std::uint8_t>((m.body_8bit ? kFlagBody8bit : 0) |
                                   (m.needs_smtputf8 ? kFlagSmtputf8 : 0)));
  w.u64(m.recipient_count);
  w.str(m.pool);
  w.u64(m.dkim.size());
  for (const auto& d : m.dkim) {
    w.str(d.domain);
    w.str(d.selector);
    w.str(d.algorithm);
  }
  w.i64(m.send_at_ms);
  return w.take();
}

std::optional<MessageRecord> decode_message(std::string_view bytes, std::string* error) {
  Reader r(bytes, Kind::message, kMessageFormatVersion);
  MessageRecord m;
  std::uint8_t flags = 0;
  (void)(r.str(&m.id) && r.str(&m.envelope_from) && r.str(&m.tenant) && r.str(&m.campaign) &&
         r.strings(&m.tags) && r.str(&m.metadata_json) && r.str(&m.message_id_header) &&
         r.i64(&m.received_at_ms) && r.u64(&m.message_size) && r.byte(&flags) &&
         r.u32(&m.recipient_count));
  if (r.version() >= 2) r.str(&m.pool);  // version 1 records predate pools: the default pool
  if (r.version() >= 3) r.signatures(&m.dkim);  // older records predate DKIM: unsigned
  if (r.version() >= 4) r.i64(&m.send_at_ms);    // older records predate scheduling: at once
  if ((flags & ~kKnownFlags) != 0) r.fail("unknown message flags");
  if (!r.finish(error)) return std::nullopt;
  m.body_8bit = (flags & kFlagBody8bit) != 0;
  m.needs_smtputf8 = (flags & kFlagSmtputf8) != 0;
  return m;
}

std::string encode_recipient(const RecipientRecord& rc) {
  Writer w(Kind::recipient);
  w.str(rc.id);
  w.str(rc.message_id);
  w.str(rc.recipient);
  w.str(rc.domain);
  w.byte(static_cast<std::uint8_t>(rc.state));
  w.u64(rc.attempts);
  w.i64(rc.next_attempt_ms);
  w.str(rc.last_reply);
  return w.take();
}

std::optional<RecipientRecord> decode_recipient(std::string_view bytes, std::string* error) {
  Reader r(bytes, Kind::recipient);
  RecipientRecord rc;
  std::uint8_t state = 0;
  (void)(r.str(&rc.id) && r.str(&rc.message_id) && r.str(&rc.recipient) && r.str(&rc.domain) &&
         r.byte(&state) && r.u32(&rc.attempts) && r.i64(&rc.next_attempt_ms) &&
         r.str(&rc.last_reply));
  if (state > static_cast<std::uint8_t>(RecipientState::deferred))
    r.fail("unknown recipient state");
  if (!r.finish(error)) return std::nullopt;
  rc.state = static_cast<RecipientState>(state);
  return rc;
}

std::string encode_idempotency(const IdempotencyEntry& e) {
  Writer w(Kind::idempotency, kIdempotencyFormatVersion);
  w.i64(e.at_ms);
  w.str(e.response_json);
  w.str(e.request_digest);
  return w.take();
}

std::optional<IdempotencyEntry> decode_idempotency(std::string_view bytes, std::string* error) {
  Reader r(bytes, Kind::idempotency, kIdempotencyFormatVersion);
  IdempotencyEntry e;
  (void)(r.i64(&e.at_ms) && r.str(&e.response_json));
  if (r.version() >= 2) r.str(&e.request_digest);  // version 1 entries predate digests
  if (!r.finish(error)) return std::nullopt;
  return e;
}

}  // namespace volley::spool
