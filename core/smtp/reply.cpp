#include "core/smtp/reply.hpp"

#include <utility>

#include "core/util/utf8.hpp"

namespace volley::smtp {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Length of an RFC 3463 code ("class.subject.detail", subject and detail 1-3 digits) at the start
// of `text`, followed by a space or the end; 0 when there is none. The class must be 2, 4 or 5
// and equal the reply's first digit, so "550 4.1.1" or "354 2.0.0" carry no enhanced code.
std::size_t enhanced_code_length(std::string_view text, int code) {
  const char cls = static_cast<char>('0' + code / 100);
  if (cls != '2' && cls != '4' && cls != '5') return 0;
  if (text.size() < 5 || text[0] != cls || text[1] != '.') return 0;
  std::size_t pos = 2;
  for (int part = 0; part < 2; ++part) {
    std::size_t digits = 0;
    while (pos < text.size() && is_digit(text[pos])) ++pos, ++digits;
    if (digits == 0 || digits > 3) return 0;
    if (part == 0) {
      if (pos >= text.size() || text[pos] != '.') return 0;
      ++pos;
    }
  }
  if (pos < text.size() && text[pos] != ' ') return 0;
  return pos;
}

// `line` without a leading copy of `enhanced` (and the spaces after it).
std::string_view strip_enhanced(std::string_view line, const std::string& enhanced) {
  if (enhanced.empty() || line.substr(0, enhanced.size()) != enhanced) return line;
  if (line.size() > enhanced.size() && line[enhanced.size()] != ' ') return line;
  line.remove_prefix(enhanced.size());
  while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
  return line;
}

// Appends `text` with control characters and invalid UTF-8 replaced by '?', so the result is one
// line of valid UTF-8 that can go into logs and JSON as is. Stops at `limit` bytes of output;
// false when it had to.
bool append_printable(std::string& out, std::string_view text, std::size_t limit) {
  std::size_t i = 0;
  for (; i < text.size() && out.size() < limit;) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
      ++i;
    } else if (std::size_t n = c >= 0x80 ? util::utf8_sequence_length(text, i) : 0; n > 0) {
      out.append(text.substr(i, n));
      i += n;
    } else {
      out += c == '\t' ? ' ' : '?';
      ++i;
    }
  }
  return i == text.size();
}

// A short printable excerpt of hostile input, for error messages.
std::string excerpt(std::string_view text) {
  constexpr std::size_t kMax = 40;
  std::string out;
  if (!append_printable(out, text, kMax)) out += "...";
  return out;
}

}  // namespace

std::string Reply::text() const {
  // Servers often repeat the enhanced code on every line ("550-5.1.1 ...", "550 5.1.1 ..."):
  // every copy of the first line's code is removed, not only the first.
  std::string out;
  for (const auto& line : lines) {
    auto t = strip_enhanced(line, enhanced);
    if (t.empty()) continue;
    if (!out.empty()) out += ' ';
    out.append(t);
  }
  return out;
}

std::string Reply::summary() const {
  // Bounded: a hostile reply may hold 512 lines of 4 KiB, which has no place in a log line.
  constexpr std::size_t kMaxSummary = 1024;
  std::string out = std::to_string(code);
  if (!enhanced.empty()) out += ' ' + enhanced;
  if (auto t = text(); !t.empty()) {
    out += ' ';
    if (!append_printable(out, t, kMaxSummary)) out += "...";
  }
  return out;
}

Reply Reply::synthetic(int code, std::string enhanced, std::string text) {
  Reply r;
  r.code = code;
  // Shaped like a parsed reply: the enhanced code leads the first line's text.
  r.lines.push_back(enhanced.empty() ? std::move(text) : enhanced + ' ' + text);
  r.enhanced = std::move(enhanced);
  return r;
}

void ReplyParser::feed(std::string_view bytes) {
  while (!failed() && !bytes.empty()) {
    const auto nl = bytes.find('\n');
    const auto piece = bytes.substr(0, nl);
    // kMaxLineLength + 1 leaves room for the CR of a CRLF that has not been completed yet.
    if (partial_.size() + piece.size() > kMaxLineLength + 1) {
      fail("reply line longer than " + std::to_string(kMaxLineLength) + " bytes");
      return;
    }
    if (nl == std::string_view::npos) {
      partial_.append(piece);
      return;
    }
    bytes.remove_prefix(nl + 1);
    if (partial_.empty()) {
      take_line(piece);  // the common case: a whole line in one read, no copy
    } else {
      partial_.append(piece);
      std::string line = std::move(partial_);
      partial_.clear();
      take_line(line);
    }
  }
}

std::optional<Reply> ReplyParser::next() {
  if (done_.empty()) return std::nullopt;
  Reply r = std::move(done_.front());
  done_.pop_front();
  return r;
}

void ReplyParser::fail(std::string error) {
  error_ = std::move(error);
  partial_.clear();
  current_.reset();
}

void ReplyParser::take_line(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() > kMaxLineLength) {
    fail("reply line longer than " + std::to_string(kMaxLineLength) + " bytes");
    return;
  }
  if (line.size() < 3 || !is_digit(line[0]) || !is_digit(line[1]) || !is_digit(line[2])) {
    fail("reply does not start with a 3-digit code: \"" + excerpt(line) + '"');
    return;
  }
  const int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  if (code < 200 || code > 599) {
    fail("reply code " + std::to_string(code) + " out of range 200..599");
    return;
  }
  bool last = true;
  if (line.size() > 3) {
    if (line[3] == '-') {
      last = false;
    } else if (line[3] != ' ') {
      fail("no space or '-' after reply code: \"" + excerpt(line) + '"');
      return;
    }
  }
  const auto text = line.size() > 4 ? line.substr(4) : std::string_view{};

  if (!current_) {
    current_.emplace();
    current_->code = code;
    if (auto n = enhanced_code_length(text, code)) current_->enhanced = std::string(text.substr(0, n));
  } else if (code != current_->code) {
    fail("reply code changed from " + std::to_string(current_->code) + " to " + std::to_string(code) +
         " inside a multi-line reply");
    return;
  } else if (current_->lines.size() >= kMaxLines) {
    fail("reply longer than " + std::to_string(kMaxLines) + " lines");
    return;
  }
  current_->lines.emplace_back(text);
  if (last) {
    done_.push_back(std::move(*current_));
    current_.reset();
  }
}

}  // namespace volley::smtp
