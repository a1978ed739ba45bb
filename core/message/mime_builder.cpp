#include "core/message/mime_builder.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

#include <openssl/rand.h>

#include "core/message/header_encoding.hpp"
#include "core/message/transfer_encoding.hpp"
#include "core/util/ascii.hpp"

namespace volley::message {

namespace {

struct Part {
  std::string headers;
  std::string body;  // ends with CRLF (or is empty)
};

Part text_part(std::string_view subtype, std::string_view text) {
  bool seven_bit = false;
  std::string crlf = to_crlf(text, &seven_bit);  // a final CRLF added below changes no line
  if (crlf.size() < 2 || crlf.compare(crlf.size() - 2, 2, "\r\n") != 0) crlf += "\r\n";
  Part p;
  p.headers = "Content-Type: text/" + std::string(subtype) + "; charset=utf-8\r\n";
  if (seven_bit) {
    p.headers += "Content-Transfer-Encoding: 7bit\r\n";
    p.body = std::move(crlf);
  } else {
    p.headers += "Content-Transfer-Encoding: quoted-printable\r\n";
    p.body = quoted_printable_encode(crlf);
  }
  return p;
}

Part attachment_part(const AttachmentPart& a) {
  Part p;
  p.headers = field_with_parameters("Content-Type", a.content_type, mime_parameter("name", a.filename));
  p.headers += field_with_parameters("Content-Disposition", a.inline_disposition ? "inline" : "attachment",
                                     mime_parameter("filename", a.filename));
  if (!a.content_id.empty()) p.headers += "Content-ID: <" + a.content_id + ">\r\n";
  p.headers += "Content-Transfer-Encoding: base64\r\n";
  p.body = base64_encode_lines(a.data);
  return p;
}

// "=_" can never occur in quoted-printable or base64 output.
std::string random_boundary() { return "=_vly_" + random_hex(16); }

// `type_parameter`: multipart/related's type= (RFC 2387 §3.1), the root part's media type.
Part multipart(std::string_view subtype, const std::vector<Part>& parts, std::string_view type_parameter = {}) {
  std::string boundary;
  bool clash;
  do {  // a 7bit text part could, in theory, hold the boundary
    boundary = random_boundary();
    clash = false;
    for (const auto& p : parts) clash = clash || p.body.find(boundary) != std::string::npos;
  } while (clash);
  Part m;
  m.headers = "Content-Type: multipart/" + std::string(subtype) + ";";
  if (!type_parameter.empty()) m.headers += " type=\"" + std::string(type_parameter) + "\";";
  m.headers += "\r\n boundary=\"" + boundary + "\"\r\n";
  for (const auto& p : parts) {
    m.body += "--" + boundary + "\r\n";
    m.body += p.headers;
    m.body += "\r\n";
    m.body += p.body;
    m.body += "\r\n";  // belongs to the next delimiter, so the part keeps its own last CRLF
  }
  m.body += "--" + boundary + "--\r\n";
  return m;
}

bool is_token_char(unsigned char c) {  // RFC 2045 token
  if (c <= 32 || c >= 127) return false;
  return std::string_view("()<>@,;:\\\"/[]?=").find(static_cast<char>(c)) == std::string_view::npos;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_token_char(static_cast<unsigned char>(c))) return false;
  return true;
}

}  // namespace

MimeEntity build_mime(const MimeContent& c) {
  // The html with the images it shows: multipart/related, html first (the root, RFC 2387 §3.2).
  std::optional<Part> html;
  if (c.html) {
    html = text_part("html", *c.html);
    std::vector<Part> related;
    for (const auto& a : c.attachments)
      if (a.inline_disposition) related.push_back(attachment_part(a));
    if (!related.empty()) {
      related.insert(related.begin(), std::move(*html));
      html = multipart("related", related, "text/html");
    }
  }
  const bool any_attachment = std::any_of(c.attachments.begin(), c.attachments.end(),
                                          [](const AttachmentPart& a) { return !a.inline_disposition; });
  const bool any_inline = std::any_of(c.attachments.begin(), c.attachments.end(),
                                      [](const AttachmentPart& a) { return a.inline_disposition; });
  if (!c.html && any_inline)
    throw std::invalid_argument("build_mime: inline parts need html");

  std::optional<Part> body;
  if (c.text && html)
    body = multipart("alternative", {text_part("plain", *c.text), std::move(*html)});
  else if (c.text)
    body = text_part("plain", *c.text);
  else if (html)
    body = std::move(*html);

  Part top;
  if (!any_attachment) {
    if (!body) throw std::invalid_argument("build_mime: nothing to build");
    top = std::move(*body);
  } else {
    std::vector<Part> parts;
    if (body) parts.push_back(std::move(*body));
    for (const auto& a : c.attachments)
      if (!a.inline_disposition) parts.push_back(attachment_part(a));
    top = multipart("mixed", parts);
  }
  return {"MIME-Version: 1.0\r\n" + top.headers, std::move(top.body)};
}

std::string normalise_content_type(std::string_view value, std::string* error) {
  auto fail = [&](const char* why) {
    if (error) *error = why;
    return std::string();
  };
  for (char ch : value) {
    auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80 || (c < 0x20 && c != '\t') || c == 0x7F) return fail("content_type must be printable ASCII");
  }
  std::size_t semi = value.find(';');
  std::string_view type = trim(value.substr(0, semi));
  std::size_t slash = type.find('/');
  if (slash == std::string_view::npos || !is_token(type.substr(0, slash)) || !is_token(type.substr(slash + 1)))
    return fail("content_type must look like type/subtype");
  std::string out = util::ascii_lower(type);
  if (out.rfind("multipart/", 0) == 0 || out.rfind("message/", 0) == 0)
    return fail("multipart/* and message/* cannot be sent as attachments");
  // Parameters: attr=token or attr="quoted string", re-emitted as given.
  std::string_view rest = semi == std::string_view::npos ? std::string_view() : value.substr(semi + 1);
  while (!trim(rest).empty()) {
    rest = trim(rest);
    std::size_t eq = rest.find('=');
    if (eq == std::string_view::npos) return fail("content_type parameter without =");
    std::string_view attr = trim(rest.substr(0, eq));
    if (!is_token(attr)) return fail("content_type parameter name is not a token");
    const std::string lower = util::ascii_lower(attr);
    if (lower == "name" || lower.rfind("name*", 0) == 0)
      return fail("content_type must not carry a name parameter (use filename)");
    rest = trim(rest.substr(eq + 1));
    std::string_view val;
    if (!rest.empty() && rest.front() == '"') {
      std::size_t i = 1;
      while (i < rest.size() && rest[i] != '"') i += rest[i] == '\\' ? 2 : 1;
      if (i >= rest.size()) return fail("content_type has an unterminated quoted string");
      val = rest.substr(0, i + 1);
      rest = rest.substr(i + 1);
    } else {
      std::size_t end = rest.find(';');
      val = trim(rest.substr(0, end));
      if (!is_token(val)) return fail("content_type parameter value is not a token");
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
    }
    rest = trim(rest);
    if (!rest.empty()) {
      if (rest.front() != ';') return fail("content_type parameters must be separated by ;");
      rest.remove_prefix(1);
    }
    out += "; ";
    out += attr;
    out += '=';
    out += val;
  }
  if (out.size() > 200) return fail("content_type longer than 200 characters");
  return out;
}

std::string random_hex(std::size_t bytes) {
  // OpenSSL's generator, drawn 4 KiB at a time per thread: each RAND_bytes call costs a getpid()
  // system call (OpenSSL's fork check), which showed in the injection profile at one Message-ID
  // and boundary per message.
  thread_local std::array<unsigned char, 4096> pool;
  thread_local std::size_t left = 0;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * bytes);
  while (bytes > 0) {
    if (left == 0) {
      if (RAND_bytes(pool.data(), static_cast<int>(pool.size())) != 1) throw std::runtime_error("RAND_bytes failed");
      left = pool.size();
    }
    const std::size_t take = std::min(bytes, left);
    const unsigned char* from = pool.data() + pool.size() - left;
    for (std::size_t i = 0; i < take; ++i) {
      out += kHex[from[i] >> 4];
      out += kHex[from[i] & 15];
    }
    // Used bytes are wiped: what made one id is not readable from memory later.
    std::fill_n(pool.data() + pool.size() - left, take, static_cast<unsigned char>(0));
    left -= take;
    bytes -= take;
  }
  return out;
}

}  // namespace volley::message
