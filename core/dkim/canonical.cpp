#include "core/dkim/canonical.hpp"

#include <cstring>
#include <memory>
#include <stdexcept>

#include <openssl/evp.h>

#include "core/util/ascii.hpp"

namespace volley::dkim {

namespace {

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

// Relaxed canonicalisation changes a line (already cut of its trailing WSP) only where it has a
// tab or two spaces in a row.
bool needs_relaxing(std::string_view content) {
  return std::memchr(content.data(), '\t', content.size()) != nullptr ||
         ::memmem(content.data(), content.size(), "  ", 2) != nullptr;
}

// Feeds the canonical body to SHA-256, holding back empty lines until a line with content shows
// they are not trailing. Most lines come out of canonicalisation as they went in: those are hashed
// straight from the message in runs as long as they stay contiguous (no copy); only lines that
// change are rewritten, into a small buffer hashed once per 16 KiB.
class BodyHasher {
 public:
  explicit BodyHasher(Canon c) : canon_(c), ctx_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {
    if (!ctx_ || EVP_DigestInit_ex2(ctx_.get(), util::sha256_method(), nullptr) != 1)
      throw std::runtime_error("SHA-256 is not available");
  }

  // One line without its CRLF; crlf_follows: the two bytes after it in memory are its CRLF.
  void line(std::string_view content, bool crlf_follows) {
    bool trimmed = false;
    if (canon_ == Canon::relaxed) {
      // Whitespace at the end of a line goes; a line left empty is an empty line.
      while (!content.empty() && is_wsp(content.back())) {
        content.remove_suffix(1);
        trimmed = true;
      }
    }
    if (content.empty()) {
      ++empty_lines_;
      return;
    }
    if (empty_lines_ > 0) {
      close_run();
      for (; empty_lines_ > 0; --empty_lines_) buffer_ += "\r\n";
    }
    any_ = true;
    if (crlf_follows && !trimmed && (canon_ == Canon::simple || !needs_relaxing(content))) {
      extend_run(content.data(), content.size() + 2);
      return;
    }
    close_run();
    if (canon_ == Canon::simple) {
      buffer_ += content;
    } else {
      // Runs of WSP become one SP (none is left at the end).
      std::size_t i = 0;
      while (i < content.size()) {
        if (is_wsp(content[i])) {
          buffer_ += ' ';
          while (i < content.size() && is_wsp(content[i])) ++i;
          continue;
        }
        const std::size_t start = i;
        while (i < content.size() && !is_wsp(content[i])) ++i;
        buffer_.append(content.substr(start, i - start));
      }
    }
    buffer_ += "\r\n";
    if (buffer_.size() >= kFlushAt) flush();
  }

  util::Sha256 finish() {
    close_run();
    // An empty body is CRLF in simple form and nothing in relaxed form (RFC 6376 §3.4.3, §3.4.4
    // with erratum 1384).
    if (!any_ && canon_ == Canon::simple) buffer_ += "\r\n";
    flush();
    util::Sha256 digest{};
    unsigned int size = 0;
    if (EVP_DigestFinal_ex(ctx_.get(), digest.data(), &size) != 1 || size != digest.size())
      throw std::runtime_error("SHA-256 failed");
    return digest;
  }

 private:
  static constexpr std::size_t kFlushAt = 16 * 1024;

  // Unchanged bytes go into the run; what is buffered was earlier in the body, so it goes first.
  void extend_run(const char* data, std::size_t size) {
    if (run_size_ > 0 && run_ + run_size_ == data) {
      run_size_ += size;
      return;
    }
    close_run();
    flush();
    run_ = data;
    run_size_ = size;
  }

  void close_run() {
    if (run_size_ == 0) return;
    update(run_, run_size_);
    run_size_ = 0;
  }

  void flush() {
    if (buffer_.empty()) return;
    update(buffer_.data(), buffer_.size());
    buffer_.clear();
  }

  void update(const char* data, std::size_t size) {
    if (EVP_DigestUpdate(ctx_.get(), data, size) != 1) throw std::runtime_error("SHA-256 failed");
  }

  Canon canon_;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx_;
  std::string buffer_;
  const char* run_ = nullptr;
  std::size_t run_size_ = 0;
  std::size_t empty_lines_ = 0;
  bool any_ = false;
};

}  // namespace

std::optional<Canonicalization> parse_canonicalization(std::string_view text) {
  auto one = [](std::string_view s) -> std::optional<Canon> {
    if (s == "relaxed") return Canon::relaxed;
    if (s == "simple") return Canon::simple;
    return std::nullopt;
  };
  const auto slash = text.find('/');
  const auto header = one(text.substr(0, slash));
  const auto body = slash == std::string_view::npos ? std::optional<Canon>(Canon::simple) : one(text.substr(slash + 1));
  if (!header || !body) return std::nullopt;
  return Canonicalization{*header, *body};
}

std::string to_string(Canonicalization c) {
  auto one = [](Canon x) { return x == Canon::relaxed ? "relaxed" : "simple"; };
  return std::string(one(c.header)) + "/" + one(c.body);
}

std::string canonical_header(Canon c, std::string_view field) {
  if (c == Canon::simple) return std::string(field);
  const auto colon = field.find(':');
  std::string_view name = field.substr(0, colon);
  while (!name.empty() && is_wsp(name.back())) name.remove_suffix(1);
  std::string out = util::ascii_lower(name);
  out += ':';
  if (colon == std::string_view::npos) return out + "\r\n";
  // Unfold (CR and LF go), WSP runs become one SP, none at either end of the value.
  bool pending_space = false;
  bool started = false;
  for (char ch : field.substr(colon + 1)) {
    if (ch == '\r' || ch == '\n') continue;
    if (is_wsp(ch)) {
      pending_space = started;
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    started = true;
    out += ch;
  }
  out += "\r\n";
  return out;
}

util::Sha256 body_hash(Canon c, std::string_view body, bool dot_stuffed) {
  BodyHasher hasher(c);
  std::size_t pos = 0;
  while (pos < body.size()) {
    const auto eol = body.find("\r\n", pos);
    std::string_view line = body.substr(pos, (eol == std::string_view::npos ? body.size() : eol) - pos);
    pos = eol == std::string_view::npos ? body.size() : eol + 2;
    if (dot_stuffed && !line.empty() && line.front() == '.') line.remove_prefix(1);
    hasher.line(line, eol != std::string_view::npos);
  }
  return hasher.finish();
}

}  // namespace volley::dkim
