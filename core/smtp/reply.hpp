#pragma once
// SMTP replies (RFC 5321 §4.2) and their enhanced status codes (RFC 3463), parsed from a byte
// stream that may be split anywhere and may be hostile.
#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/smtp/stage.hpp"

namespace volley::smtp {

struct Reply {
  int code = 0;                    // 200..599
  std::string enhanced;            // "5.1.1" when the first line carries one, else ""
  std::vector<std::string> lines;  // text of each line, without code, separator and CRLF
  Stage stage = Stage::none;       // the command it answered, when the client knows it

  bool positive() const { return code >= 200 && code < 400; }
  bool transient() const { return code >= 400 && code < 500; }
  bool permanent() const { return code >= 500; }
  // Text of all lines joined with a space (enhanced code of the first line removed).
  std::string text() const;
  // "550 5.1.1 text" — one line, safe to log and to put in JSON.
  std::string summary() const;
  // A reply Volley makes itself for a local failure (timeout, lost connection, unsupported feature).
  static Reply synthetic(int code, std::string enhanced, std::string text);
};

// Incremental reply parser. Accepts LF or CRLF line ends from peers; refuses lines over
// kMaxLineLength, replies over kMaxLines lines, non-numeric codes and a code that changes inside
// a multi-line reply: a peer that does so is broken, and the session ends with a protocol error.
class ReplyParser {
 public:
  static constexpr std::size_t kMaxLineLength = 4096;
  static constexpr std::size_t kMaxLines = 512;

  // Consumes bytes; completed replies become available through next().
  void feed(std::string_view bytes);
  std::optional<Reply> next();
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  // Bytes received but not yet part of a complete line (STARTTLS must see none).
  std::size_t buffered() const { return partial_.size(); }

 private:
  void take_line(std::string_view line);
  void fail(std::string error);
  std::string partial_;
  std::optional<Reply> current_;
  std::deque<Reply> done_;
  std::string error_;
};

}  // namespace volley::smtp
