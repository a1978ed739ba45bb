#include "core/schedule/zone.hpp"

#include <algorithm>
#include <utility>

#include "core/schedule/civil.hpp"

namespace volley::schedule {

struct ZoneBuilder {
  Zone zone;
  void add(std::int64_t at_s, std::int32_t offset_s) {
    if (!zone.changes_.empty() && at_s <= zone.changes_.back().at_s) return;
    const std::int32_t before = zone.changes_.empty() ? zone.initial_ : zone.changes_.back().offset_s;
    if (offset_s == before) return;  // an abbreviation or isdst change only: no new offset
    zone.changes_.push_back({at_s, offset_s});
  }
};

namespace {

constexpr std::int64_t kExpandUntilYear = 2200;

class Bytes {
 public:
  explicit Bytes(std::string_view in) : in_(in) {}
  bool skip(std::size_t n) {
    if (n > in_.size() - pos_) return false;
    pos_ += n;
    return true;
  }
  bool be(std::size_t n, std::int64_t* out) {
    if (n > in_.size() - pos_) return false;
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(in_[pos_ + i]);
    pos_ += n;
    // Sign-extend n-byte two's complement.
    if (n < 8 && (v >> (n * 8 - 1)) != 0) v |= ~std::uint64_t{0} << (n * 8);
    *out = static_cast<std::int64_t>(v);
    return true;
  }
  std::size_t pos() const { return pos_; }
  std::string_view rest() const { return in_.substr(pos_); }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
};

struct Header {
  char version = 0;
  std::int64_t isutcnt = 0, isstdcnt = 0, leapcnt = 0, timecnt = 0, typecnt = 0, charcnt = 0;
};

bool read_header(Bytes& b, Header* h) {
  const auto rest = b.rest();
  if (rest.size() < 44 || rest.substr(0, 4) != "TZif") return false;
  h->version = rest[4];
  b.skip(20);
  return b.be(4, &h->isutcnt) && b.be(4, &h->isstdcnt) && b.be(4, &h->leapcnt) && b.be(4, &h->timecnt) &&
         b.be(4, &h->typecnt) && b.be(4, &h->charcnt) && h->typecnt >= 1 && h->typecnt <= 256 &&
         h->timecnt >= 0 && h->timecnt <= 100000 && h->charcnt >= 0 && h->leapcnt >= 0 && h->isstdcnt >= 0 &&
         h->isutcnt >= 0;
}

// ---- the POSIX TZ footer ----

struct PosixRule {  // Mm.w.d/time
  int month = 0, week = 0, weekday = 0;
  std::int64_t time_s = 7200;
};

struct Posix {
  std::int32_t std_offset = 0;  // seconds east of UTC
  bool has_dst = false;
  std::int32_t dst_offset = 0;
  PosixRule start, end;
};

class PosixReader {
 public:
  explicit PosixReader(std::string_view s) : s_(s) {}
  bool name() {
    if (pos_ < s_.size() && s_[pos_] == '<') {
      const auto close = s_.find('>', pos_);
      if (close == std::string_view::npos) return false;
      pos_ = close + 1;
      return true;
    }
    const std::size_t start = pos_;
    while (pos_ < s_.size() && ((s_[pos_] >= 'A' && s_[pos_] <= 'Z') || (s_[pos_] >= 'a' && s_[pos_] <= 'z'))) ++pos_;
    return pos_ - start >= 3;
  }
  // [+-]hh[:mm[:ss]] in seconds (hours up to 167, as RFC 8536 allows for rule times).
  bool hms(std::int64_t* out) {
    int sign = 1;
    if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) sign = s_[pos_++] == '-' ? -1 : 1;
    std::int64_t parts[3] = {0, 0, 0};
    for (int i = 0; i < 3; ++i) {
      if (i > 0) {
        if (pos_ >= s_.size() || s_[pos_] != ':') break;
        ++pos_;
      }
      const std::size_t start = pos_;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9' && pos_ - start < 3)
        parts[i] = parts[i] * 10 + (s_[pos_++] - '0');
      if (pos_ == start) return false;
    }
    if (parts[0] > 167 || parts[1] > 59 || parts[2] > 59) return false;
    *out = sign * (parts[0] * 3600 + parts[1] * 60 + parts[2]);
    return true;
  }
  bool number(int* out) {
    const std::size_t start = pos_;
    int v = 0;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9' && pos_ - start < 3) v = v * 10 + (s_[pos_++] - '0');
    *out = v;
    return pos_ != start;
  }
  bool rule(PosixRule* r) {
    // Only the Mm.w.d form: it is what every zone in tzdata uses (Jn and n are not).
    if (!eat('M') || !number(&r->month) || !eat('.') || !number(&r->week) || !eat('.') || !number(&r->weekday))
      return false;
    if (r->month < 1 || r->month > 12 || r->week < 1 || r->week > 5 || r->weekday > 6) return false;
    if (eat('/')) return hms(&r->time_s);
    return true;
  }
  bool eat(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool at_end() const { return pos_ == s_.size(); }
  bool at_comma() const { return pos_ < s_.size() && s_[pos_] == ','; }

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
};

std::optional<Posix> parse_posix(std::string_view s) {
  PosixReader r(s);
  Posix p;
  std::int64_t v = 0;
  if (!r.name() || !r.hms(&v)) return std::nullopt;
  p.std_offset = static_cast<std::int32_t>(-v);  // POSIX counts west of UTC
  if (r.at_end()) return p;
  if (!r.name()) return std::nullopt;
  p.has_dst = true;
  p.dst_offset = p.std_offset + 3600;
  if (!r.at_end() && !r.at_comma()) {
    if (!r.hms(&v)) return std::nullopt;
    p.dst_offset = static_cast<std::int32_t>(-v);
  }
  if (!r.eat(',') || !r.rule(&p.start) || !r.eat(',') || !r.rule(&p.end) || !r.at_end()) return std::nullopt;
  return p;
}

// The UTC instant of a rule's transition in `year`, given the offset in effect before it.
std::int64_t rule_instant(const PosixRule& r, std::int64_t year, std::int32_t offset_before) {
  const std::int64_t first = days_from_civil(year, r.month, 1);
  int day = 1 + (r.weekday - weekday_from_days(first) + 7) % 7 + (r.week - 1) * 7;
  while (day > days_in_month(year, r.month)) day -= 7;
  return (first + day - 1) * 86400 + r.time_s - offset_before;
}

}  // namespace

Zone Zone::fixed(std::int32_t offset_s) {
  Zone z;
  z.initial_ = offset_s;
  return z;
}

std::optional<Zone> Zone::parse(std::string_view tzif, std::string* error) {
  auto fail = [error](const char* why) -> std::optional<Zone> {
    if (error) *error = why;
    return std::nullopt;
  };
  Bytes b(tzif);
  Header h;
  if (!read_header(b, &h)) return fail("not a TZif file");
  std::size_t time_size = 4;
  if (h.version >= '2') {
    // Skip the 32-bit block; the 64-bit one follows with its own header.
    const std::int64_t v1 = h.timecnt * 5 + h.typecnt * 6 + h.charcnt + h.leapcnt * 8 + h.isstdcnt + h.isutcnt;
    if (!b.skip(static_cast<std::size_t>(v1)) || !read_header(b, &h)) return fail("truncated TZif file");
    time_size = 8;
  }
  std::vector<std::int64_t> times(static_cast<std::size_t>(h.timecnt));
  std::vector<std::int64_t> indices(times.size());
  for (auto& t : times)
    if (!b.be(time_size, &t)) return fail("truncated TZif file");
  for (auto& i : indices)
    if (!b.be(1, &i) || i < 0 || i >= h.typecnt) return fail("bad TZif transition type");
  std::vector<std::int32_t> offsets(static_cast<std::size_t>(h.typecnt));
  for (auto& o : offsets) {
    std::int64_t v = 0;
    if (!b.be(4, &v) || !b.skip(2) || v < -25 * 3600 || v > 26 * 3600) return fail("bad TZif offset");
    o = static_cast<std::int32_t>(v);
  }
  const std::size_t tail = static_cast<std::size_t>(h.charcnt + h.leapcnt * (time_size + 4) + h.isstdcnt + h.isutcnt);
  if (!b.skip(tail)) return fail("truncated TZif file");

  ZoneBuilder zb;
  // Before the first transition: the first type (RFC 8536 3.2, "local time type 0").
  zb.zone.initial_ = offsets[0];
  for (std::size_t i = 0; i < times.size(); ++i) zb.add(times[i], offsets[static_cast<std::size_t>(indices[i])]);

  if (h.version >= '2') {
    const auto rest = b.rest();
    if (rest.size() < 2 || rest.front() != '\n' || rest.back() != '\n') return fail("bad TZif footer");
    const auto footer = rest.substr(1, rest.size() - 2);
    if (!footer.empty()) {
      const auto posix = parse_posix(footer);
      if (!posix) return fail("TZif footer is not a POSIX TZ rule this parser knows");
      const std::int64_t last = zb.zone.changes_.empty() ? 0 : zb.zone.changes_.back().at_s;
      if (!posix->has_dst) {
        zb.add(last + 1, posix->std_offset);
      } else {
        for (std::int64_t y = civil_from_days(last / 86400).year; y <= kExpandUntilYear; ++y) {
          const std::int64_t on = rule_instant(posix->start, y, posix->std_offset);
          const std::int64_t off = rule_instant(posix->end, y, posix->dst_offset);
          // Southern hemisphere zones start DST late in the year: keep each year's two in order.
          std::pair<std::int64_t, std::int32_t> two[2] = {{on, posix->dst_offset}, {off, posix->std_offset}};
          if (off < on) std::swap(two[0], two[1]);
          for (const auto& [at, offset] : two)
            if (at > last) zb.add(at, offset);
        }
      }
    }
  }
  return std::move(zb.zone);
}

std::int32_t Zone::offset_at(std::int64_t utc_s) const {
  auto it = std::upper_bound(changes_.begin(), changes_.end(), utc_s,
                             [](std::int64_t t, const Change& c) { return t < c.at_s; });
  return it == changes_.begin() ? initial_ : std::prev(it)->offset_s;
}

std::optional<std::int64_t> Zone::next_change_after(std::int64_t utc_s) const {
  auto it = std::upper_bound(changes_.begin(), changes_.end(), utc_s,
                             [](std::int64_t t, const Change& c) { return t < c.at_s; });
  if (it == changes_.end()) return std::nullopt;
  return it->at_s;
}

}  // namespace volley::schedule
