#include "core/message/raw_message.hpp"

#include <cstring>
#include <vector>

#include "core/message/header_encoding.hpp"
#include "core/util/ascii.hpp"

namespace volley::message {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

RawProblem problem(std::string code, std::string what, std::size_t line) {
  return {std::move(code), what + " (line " + std::to_string(line) + ")"};
}

struct Field {
  std::string name;
  std::vector<std::string_view> lines;  // first line and its continuations, without line ends
};

}  // namespace

std::optional<RawProblem> normalise_raw_message(std::string_view raw, std::string_view date,
                                                std::string_view new_message_id, RawMessage* out) {
  std::vector<Field> fields;
  std::size_t pos = 0, line_no = 0;
  bool separator = false;
  // Header section: lines end in LF or CRLF; a CR anywhere else could end a line for one
  // reader and not for another, which is how headers get smuggled.
  while (pos < raw.size()) {
    ++line_no;
    std::size_t lf = raw.find('\n', pos);
    std::size_t end = lf == std::string_view::npos ? raw.size() : lf;
    std::string_view line = raw.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = lf == std::string_view::npos ? raw.size() : lf + 1;
    if (line.empty()) {
      separator = true;
      break;
    }
    if (line.find('\r') != std::string_view::npos) return problem("header_injection", "bare CR in header", line_no);
    if (line.find('\0') != std::string_view::npos) return problem("header_injection", "NUL in header", line_no);
    if (line.size() > kMaxLineLength) return problem("invalid_field", "header line longer than 998 octets", line_no);
    if (line.front() == ' ' || line.front() == '\t') {
      if (fields.empty()) return problem("invalid_field", "message starts with a continuation line", line_no);
      fields.back().lines.push_back(line);
      continue;
    }
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0)
      return problem("invalid_field", "header line is not a \"Name: value\" field", line_no);
    for (std::size_t i = 0; i < colon; ++i) {
      auto c = static_cast<unsigned char>(line[i]);
      if (c < 33 || c > 126) return problem("invalid_field", "invalid character in header field name", line_no);
    }
    fields.push_back({std::string(line.substr(0, colon)), {line}});
  }
  if (!separator) return RawProblem{"invalid_field", "no blank line between header and body"};
  if (fields.empty()) return RawProblem{"invalid_field", "message has no header fields"};

  bool has_from = false, has_date = false, has_message_id = false;
  std::string message_id;
  std::string msg;
  msg.reserve(raw.size() + raw.size() / 40 + 128);
  out->header_8bit = false;
  for (const auto& f : fields) {
    if (util::ascii_iequals(f.name, "Bcc")) continue;  // blind copies stay blind
    has_from = has_from || util::ascii_iequals(f.name, "From");
    has_date = has_date || util::ascii_iequals(f.name, "Date");
    if (util::ascii_iequals(f.name, "Message-ID") && !has_message_id) {
      has_message_id = true;
      std::string unfolded(f.lines[0].substr(f.name.size() + 1));
      for (std::size_t k = 1; k < f.lines.size(); ++k) unfolded += f.lines[k];
      message_id = std::string(trim(unfolded));
      if (message_id.empty()) return RawProblem{"invalid_field", "Message-ID field is empty"};
    }
    for (auto l : f.lines) {
      for (char ch : l)
        if (static_cast<unsigned char>(ch) >= 0x80) out->header_8bit = true;
      msg += l;
      msg += "\r\n";
    }
  }
  if (!has_from) return RawProblem{"invalid_field", "message has no From field"};
  if (!has_date) msg += "Date: " + std::string(date) + "\r\n";
  if (!has_message_id) {
    message_id = std::string(new_message_id);
    msg += "Message-ID: " + message_id + "\r\n";
  }
  msg += "\r\n";

  // Body: any line end (CRLF, LF or a bare CR) becomes CRLF; lines must fit SMTP's 1000-octet
  // limit. A line at a time with memchr, not a byte at a time: this runs over every body.
  std::size_t body_line = line_no + 1;
  const char* data = raw.data();
  const std::size_t n = raw.size();
  for (std::size_t i = pos; i < n; ++body_line) {
    const auto* lf_at = static_cast<const char*>(std::memchr(data + i, '\n', n - i));
    const std::size_t lf = lf_at ? static_cast<std::size_t>(lf_at - data) : n;
    const auto* cr_at = static_cast<const char*>(std::memchr(data + i, '\r', lf - i));
    std::size_t end = lf, next = lf == n ? n : lf + 1;
    if (cr_at) {
      end = static_cast<std::size_t>(cr_at - data);
      next = end + 1 < n && data[end + 1] == '\n' ? end + 2 : end + 1;
    }
    if (std::memchr(data + i, '\0', end - i)) return problem("invalid_field", "NUL in body", body_line);
    if (end - i > kMaxLineLength) return problem("invalid_field", "body line longer than 998 octets", body_line);
    msg.append(data + i, end - i);
    if (end < n || end > i) msg += "\r\n";  // a last line without its line end gets one
    i = next;
  }
  out->message = std::move(msg);
  out->message_id = std::move(message_id);
  return std::nullopt;
}

}  // namespace volley::message
