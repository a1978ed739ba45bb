#include "core/message/prepare.hpp"

#include <chrono>
#include <optional>
#include <stdexcept>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "core/json/members.hpp"
#include "core/message/address.hpp"
#include "core/message/header_encoding.hpp"
#include "core/message/mime_builder.hpp"
#include "core/message/raw_message.hpp"
#include "core/message/transfer_encoding.hpp"
#include "core/message/utf8.hpp"
#include "core/util/ascii.hpp"
#include "core/util/utf8.hpp"

namespace volley::message {

namespace {

using nlohmann::json;
using ::volley::json::Member;
using ::volley::json::Members;

// The members of each kind of request object, read only through these lists (member() takes a
// Member): whatever else a request holds is refused as unknown_field. "headers" and "metadata"
// are maps whose names are the client's data.
constexpr Members kMessage{"from", "to", "cc", "bcc", "reply_to", "envelope_from", "subject", "text", "html",
                           "attachments", "raw", "tags", "headers", "metadata", "campaign"};
constexpr Members kAddress{"email", "name"};
constexpr Members kAttachment{"filename", "content_type", "content", "content_id", "disposition"};

constexpr std::size_t kMaxNameOctets = 256;
constexpr std::size_t kMaxSubjectOctets = 2000;
constexpr std::size_t kMaxHeaderNameOctets = 100;
constexpr std::size_t kMaxHeaderValueOctets = 4000;
constexpr std::size_t kMaxCustomHeaders = 50;
constexpr std::size_t kMaxAttachments = 100;
constexpr std::size_t kMaxFilenameOctets = 255;
constexpr std::size_t kMaxTags = 50;
constexpr std::size_t kMaxTagOctets = 128;
constexpr std::size_t kMaxCampaignOctets = 128;
constexpr std::size_t kMaxMetadataOctets = 10 * 1024;

// Header fields the builder writes itself; a custom header may not replace or repeat them.
// Message-ID is the exception: a client may bring its own (checked) to thread replies.
const std::unordered_set<std::string> kReservedHeaders = {
    "from", "to", "cc", "bcc", "reply-to", "subject", "date", "mime-version",
    "content-type", "content-transfer-encoding", "content-disposition", "return-path"};

// Thrown inside this file only; prepare_message turns it into its result.
struct Refusal {
  PrepareError error;
};

[[noreturn]] void refuse(std::string code, std::string field, std::string message, int status = 400) {
  throw Refusal{PrepareError{status, std::move(code), std::move(message), std::move(field)}};
}

// Refuses the first member of `obj` (at `field`) that `allowed` and `also` lack.
void refuse_unknown(const json& obj, std::string_view field, std::span<const std::string_view> allowed,
                    std::span<const std::string_view> also = {}) {
  if (auto unknown = ::volley::json::unknown_member(obj, field, allowed, also))
    refuse("unknown_field", std::move(unknown->field), std::move(unknown->message));
}

std::string indexed(std::string_view field, std::size_t i) {
  return std::string(field) + "[" + std::to_string(i) + "]";
}

// A member, with JSON null treated as absent.
const json* member(const json& obj, Member key) {
  auto it = obj.find(key.name);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

const std::string& as_string(const json& v, const std::string& field) {
  if (!v.is_string()) refuse("invalid_field", field, field + " must be a string");
  const auto& s = v.get_ref<const std::string&>();
  if (!util::valid_utf8(s)) refuse("invalid_field", field, field + " is not valid UTF-8");
  return s;
}

// Text that ends up inside a header field: one line, no control characters.
void check_header_text(std::string_view s, const std::string& field, std::size_t max_octets, bool allow_tab) {
  if (s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos)
    refuse("header_injection", field, field + " contains CR, LF or NUL");
  if (has_control_chars(s) || (!allow_tab && s.find('\t') != std::string_view::npos))
    refuse("invalid_field", field, field + " contains control characters");
  if (s.size() > max_octets)
    refuse("invalid_field", field, field + " is longer than " + std::to_string(max_octets) + " octets");
}

// Plain text for events and metrics (tags, campaign): no control characters at all.
void check_label(std::string_view s, const std::string& field, std::size_t max_octets) {
  if (s.empty()) refuse("invalid_field", field, field + " must not be empty");
  if (s.find_first_of(std::string_view("\t\r\n\0", 4)) != std::string_view::npos || has_control_chars(s))
    refuse("invalid_field", field, field + " contains control characters");
  if (s.size() > max_octets)
    refuse("invalid_field", field, field + " is longer than " + std::to_string(max_octets) + " octets");
}

Mailbox parse_addr_spec(const std::string& spec, const std::string& field) {
  std::string why;
  auto box = parse_address(spec, &why);
  if (!box) {
    bool injection = spec.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos;
    refuse(injection ? "header_injection" : "invalid_address", field, field + ": " + why);
  }
  return *box;
}

// "a@b" or {"email": "a@b", "name": "A"}.
Mailbox mailbox(const json& v, const std::string& field) {
  if (v.is_string()) return parse_addr_spec(as_string(v, field), field);
  if (!v.is_object())
    refuse("invalid_field", field, field + " must be an address string or an {\"email\", \"name\"} object");
  refuse_unknown(v, field, kAddress.names());
  const json* email = member(v, kAddress("email"));
  if (!email) refuse("missing_field", field + ".email", field + ".email is required");
  Mailbox box = parse_addr_spec(as_string(*email, field + ".email"), field + ".email");
  if (const json* name = member(v, kAddress("name"))) {
    const std::string& n = as_string(*name, field + ".name");
    check_header_text(n, field + ".name", kMaxNameOctets, false);
    box.display_name = n;
  }
  return box;
}

// One mailbox or an array of them; absent -> empty.
std::vector<Mailbox> mailbox_list(const json& req, Member member_name, std::size_t max) {
  const std::string key(member_name.name);
  const json* v = member(req, member_name);
  if (!v) return {};
  if (!v->is_array()) return {mailbox(*v, key)};
  if (v->size() > max)
    refuse("too_many_recipients", key, key + " has more than " + std::to_string(max) + " entries");
  std::vector<Mailbox> out;
  out.reserve(v->size());
  for (std::size_t i = 0; i < v->size(); ++i) out.push_back(mailbox((*v)[i], indexed(key, i)));
  return out;
}

bool is_dot_atom_text(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.' || s.find("..") != std::string_view::npos) return false;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              std::string_view("!#$%&'*+-/=?^_`{|}~").find(ch) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

// RFC 5322 msg-id without the obsolete forms: "<" dot-atom-text "@" (dot-atom-text / "[" dtext "]") ">".
bool is_msg_id(std::string_view s) {
  if (s.size() < 5 || s.size() > 250 || s.front() != '<' || s.back() != '>') return false;
  s = s.substr(1, s.size() - 2);
  std::size_t at = s.find('@');
  if (at == std::string_view::npos) return false;
  std::string_view left = s.substr(0, at), right = s.substr(at + 1);
  if (!is_dot_atom_text(left)) return false;
  if (right.size() >= 2 && right.front() == '[' && right.back() == ']') {
    for (char ch : right.substr(1, right.size() - 2))
      if (ch < 33 || ch > 126 || ch == '[' || ch == ']' || ch == '\\') return false;
    return true;
  }
  return is_dot_atom_text(right);
}

std::string new_message_id_value(const std::string& hostname) {
  std::string id = "<" + random_hex(16);
  id += '@';
  id += is_dot_atom_text(hostname) ? hostname : std::string("localhost");
  id += '>';
  return id;
}

bool any_8bit(std::string_view s) { return !is_ascii(s); }

struct Envelope {
  Mailbox from;
  std::vector<Mailbox> to, cc, bcc;
};

// from/to/cc/bcc/envelope_from: common to both forms.
Envelope read_envelope(const json& req, const PrepareOptions& opts, PreparedMessage& out) {
  Envelope env;
  const json* from = member(req, kMessage("from"));
  if (!from) refuse("missing_field", "from", "from is required");
  env.from = mailbox(*from, "from");
  env.to = mailbox_list(req, kMessage("to"), opts.max_recipients);
  env.cc = mailbox_list(req, kMessage("cc"), opts.max_recipients);
  env.bcc = mailbox_list(req, kMessage("bcc"), opts.max_recipients);

  std::size_t total = 0;
  std::unordered_set<std::string> seen;
  for (const auto* list : {&env.to, &env.cc, &env.bcc}) {
    for (const auto& box : *list) {
      if (++total > opts.max_recipients)
        refuse("too_many_recipients", list == &env.to ? "to" : list == &env.cc ? "cc" : "bcc",
               "more than " + std::to_string(opts.max_recipients) + " recipients in to, cc and bcc");
      std::string key = box.local + "@" + box.domain_key();
      if (seen.insert(key).second) {
        out.recipients.push_back(box.address());
        out.needs_smtputf8 = out.needs_smtputf8 || box.needs_smtputf8();
      }
    }
  }
  if (out.recipients.empty()) refuse("missing_field", "to", "at least one recipient (to, cc or bcc) is required");

  if (const json* ef = member(req, kMessage("envelope_from"))) {
    const std::string& s = as_string(*ef, "envelope_from");
    if (!s.empty()) {  // "" asks for the null reverse-path (MAIL FROM:<>)
      Mailbox box = parse_addr_spec(s, "envelope_from");
      out.envelope_from = box.address();
      out.needs_smtputf8 = out.needs_smtputf8 || box.needs_smtputf8();
    }
  } else {
    out.envelope_from = env.from.address();
    out.needs_smtputf8 = out.needs_smtputf8 || env.from.needs_smtputf8();
  }
  return env;
}

void read_labels(const json& req, PreparedMessage& out) {
  if (const json* tags = member(req, kMessage("tags"))) {
    if (!tags->is_array()) refuse("invalid_field", "tags", "tags must be an array of strings");
    if (tags->size() > kMaxTags) refuse("invalid_field", "tags", "more than " + std::to_string(kMaxTags) + " tags");
    for (std::size_t i = 0; i < tags->size(); ++i) {
      std::string field = indexed("tags", i);
      const std::string& t = as_string((*tags)[i], field);
      check_label(t, field, kMaxTagOctets);
      out.tags.push_back(t);
    }
  }
  out.metadata_json = "{}";
  if (const json* md = member(req, kMessage("metadata"))) {
    if (!md->is_object()) refuse("invalid_field", "metadata", "metadata must be an object");
    try {
      out.metadata_json = md->dump();
    } catch (const json::type_error&) {
      refuse("invalid_field", "metadata", "metadata contains text that is not valid UTF-8");
    }
    if (out.metadata_json.size() > kMaxMetadataOctets)
      refuse("invalid_field", "metadata", "metadata is larger than " + std::to_string(kMaxMetadataOctets) + " octets");
  }
  if (const json* c = member(req, kMessage("campaign"))) {
    const std::string& s = as_string(*c, "campaign");
    check_label(s, "campaign", kMaxCampaignOctets);
    out.campaign = s;
  }
}

[[noreturn]] void refuse_too_large(const PrepareOptions& opts) {
  refuse("too_large", "", "message is larger than " + std::to_string(opts.max_message_size) + " octets", 413);
}

std::string date_value(const PrepareOptions& opts) {
  std::int64_t now = opts.now_unix;
  if (now == 0)
    now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
              .count();
  return rfc5322_date(now);
}

void prepare_raw(const json& req, const json& raw, const PrepareOptions& opts, PreparedMessage& out) {
  for (Member key : {kMessage("subject"), kMessage("text"), kMessage("html"), kMessage("headers"),
                     kMessage("attachments"), kMessage("reply_to")}) {
    const std::string field(key.name);
    if (member(req, key)) refuse("invalid_field", field, field + " cannot be combined with raw");
  }
  if (!raw.is_string()) refuse("invalid_field", "raw", "raw must be a string");
  const auto& text = raw.get_ref<const std::string&>();  // any bytes: 8bit bodies are allowed
  if (text.size() > opts.max_message_size) refuse_too_large(opts);
  RawMessage rm;
  if (auto problem = normalise_raw_message(text, date_value(opts), new_message_id_value(opts.hostname), &rm))
    refuse(problem->code, "raw", "raw: " + problem->message);
  out.message = std::move(rm.message);
  out.message_id = std::move(rm.message_id);
  out.needs_smtputf8 = out.needs_smtputf8 || rm.header_8bit;
}

// "content_id": an RFC 5322 msg-id given without its <> ("logo@example.com"), what the html's
// "cid:" URLs name (RFC 2392); unique within the message. "disposition": "inline" (the default
// with a content_id: an image the html shows, in its multipart/related) or "attachment".
void read_inline(const json& a, const std::string& field, AttachmentPart& part,
                 const std::vector<AttachmentPart>& earlier) {
  std::string disposition;
  if (const json* d = member(a, kAttachment("disposition"))) {
    disposition = as_string(*d, field + ".disposition");
    if (disposition != "inline" && disposition != "attachment")
      refuse("invalid_field", field + ".disposition", field + ".disposition must be \"inline\" or \"attachment\"");
  }
  if (const json* cid = member(a, kAttachment("content_id"))) {
    part.content_id = as_string(*cid, field + ".content_id");
    check_header_text(part.content_id, field + ".content_id", 248, false);
    if (!is_msg_id("<" + part.content_id + ">"))
      refuse("invalid_field", field + ".content_id",
             field + ".content_id must be an RFC 5322 msg-id without <>, such as logo@example.com");
    for (std::size_t j = 0; j < earlier.size(); ++j)
      if (earlier[j].content_id == part.content_id)
        refuse("invalid_field", field + ".content_id",
               field + ".content_id repeats attachments[" + std::to_string(j) + "].content_id");
  }
  part.inline_disposition = disposition == "inline" || (disposition.empty() && !part.content_id.empty());
  if (part.inline_disposition && part.content_id.empty())
    refuse("missing_field", field + ".content_id", field + ": an inline part needs a content_id for the html to refer to");
}

std::vector<AttachmentPart> read_attachments(const json& req, const PrepareOptions& opts,
                                                  std::size_t* encoded_size) {
  std::vector<AttachmentPart> parts;
  const json* list = member(req, kMessage("attachments"));
  if (!list) return parts;
  if (!list->is_array()) refuse("invalid_field", "attachments", "attachments must be an array");
  if (list->size() > kMaxAttachments)
    refuse("invalid_field", "attachments", "more than " + std::to_string(kMaxAttachments) + " attachments");
  for (std::size_t i = 0; i < list->size(); ++i) {
    const json& a = (*list)[i];
    std::string field = indexed("attachments", i);
    if (!a.is_object()) refuse("invalid_field", field, field + " must be an object");
    refuse_unknown(a, field, kAttachment.names());
    AttachmentPart part;

    const json* filename = member(a, kAttachment("filename"));
    if (!filename) refuse("missing_field", field + ".filename", field + ".filename is required");
    part.filename = as_string(*filename, field + ".filename");
    if (part.filename.empty()) refuse("invalid_field", field + ".filename", field + ".filename must not be empty");
    check_header_text(part.filename, field + ".filename", kMaxFilenameOctets, false);

    part.content_type = "application/octet-stream";
    if (const json* ct = member(a, kAttachment("content_type"))) {
      const std::string& s = as_string(*ct, field + ".content_type");
      check_header_text(s, field + ".content_type", 200, true);
      std::string why;
      part.content_type = normalise_content_type(s, &why);
      if (part.content_type.empty()) refuse("invalid_field", field + ".content_type", field + ": " + why);
    }

    const json* content = member(a, kAttachment("content"));
    if (!content) refuse("missing_field", field + ".content", field + ".content is required");
    if (!content->is_string()) refuse("invalid_field", field + ".content", field + ".content must be a base64 string");
    const auto& b64 = content->get_ref<const std::string&>();
    *encoded_size += b64.size();
    if (*encoded_size / 4 * 3 > opts.max_message_size) refuse_too_large(opts);
    std::size_t bad = 0;
    auto data = base64_decode(b64, &bad);
    if (!data)
      refuse("invalid_field", field + ".content",
             field + ".content is not valid base64 (at offset " + std::to_string(bad) + ")");
    part.data = std::move(*data);
    read_inline(a, field, part, parts);
    parts.push_back(std::move(part));
  }
  return parts;
}

std::string read_custom_headers(const json& req, std::string* message_id) {
  std::string out;
  const json* headers = member(req, kMessage("headers"));
  if (!headers) return out;
  if (!headers->is_object()) refuse("invalid_field", "headers", "headers must be an object of name: value");
  if (headers->size() > kMaxCustomHeaders)
    refuse("invalid_field", "headers", "more than " + std::to_string(kMaxCustomHeaders) + " headers");
  for (const auto& [name, value] : headers->items()) {
    std::string field = "headers." + name;
    if (name.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos)
      refuse("header_injection", field, "header name contains CR, LF or NUL");
    if (name.empty() || name.size() > kMaxHeaderNameOctets)
      refuse("invalid_field", field, "header name must be 1 to " + std::to_string(kMaxHeaderNameOctets) + " characters");
    for (char ch : name)
      if (ch < 33 || ch > 126 || ch == ':')  // RFC 5322 ftext
        refuse("invalid_field", field, "\"" + name + "\" is not a valid header field name");
    const std::string& v = as_string(value, field);
    check_header_text(v, field, kMaxHeaderValueOctets, true);
    std::string key = util::ascii_lower(name);
    if (kReservedHeaders.count(key))
      refuse("invalid_field", field, name + " is set by Volley and cannot be given in headers");
    if (key == "message-id") {
      std::string id(v);
      while (!id.empty() && (id.front() == ' ' || id.front() == '\t')) id.erase(0, 1);
      while (!id.empty() && (id.back() == ' ' || id.back() == '\t')) id.pop_back();
      if (!is_msg_id(id)) refuse("invalid_field", field, "Message-ID must look like <id@domain>");
      *message_id = id;
      continue;
    }
    out += unstructured_field(name, v);
  }
  return out;
}

void prepare_built(const json& req, const Envelope& env, const PrepareOptions& opts, PreparedMessage& out) {
  std::vector<Mailbox> reply_to = mailbox_list(req, kMessage("reply_to"), opts.max_recipients);
  std::optional<std::string> subject;
  if (const json* s = member(req, kMessage("subject"))) {
    subject = as_string(*s, "subject");
    check_header_text(*subject, "subject", kMaxSubjectOctets, true);
  }
  MimeContent content;
  if (const json* t = member(req, kMessage("text"))) content.text = as_string(*t, "text");
  if (const json* h = member(req, kMessage("html"))) content.html = as_string(*h, "html");
  std::size_t size = (content.text ? content.text->size() : 0) + (content.html ? content.html->size() : 0);
  if (size > opts.max_message_size) refuse_too_large(opts);
  content.attachments = read_attachments(req, opts, &size);
  if (!content.text && !content.html && content.attachments.empty())
    refuse("missing_field", "text", "one of text, html or attachments is required");
  for (std::size_t i = 0; i < content.attachments.size(); ++i)
    if (content.attachments[i].inline_disposition && !content.html)
      refuse("invalid_field", indexed("attachments", i) + ".content_id",
             indexed("attachments", i) + " is inline: an inline part needs html that shows it");
  std::string custom = read_custom_headers(req, &out.message_id);
  if (out.message_id.empty()) out.message_id = new_message_id_value(opts.hostname);

  std::string head = address_list_field("From", {env.from});
  if (!env.to.empty()) head += address_list_field("To", env.to);
  if (!env.cc.empty()) head += address_list_field("Cc", env.cc);
  if (!reply_to.empty()) head += address_list_field("Reply-To", reply_to);
  if (subject) head += unstructured_field("Subject", *subject);
  head += "Date: " + date_value(opts) + "\r\n";
  head += "Message-ID: " + out.message_id + "\r\n";
  head += custom;
  // Header addresses in UTF-8 (RFC 6532) can only travel over SMTPUTF8.
  const bool head_8bit = any_8bit(head);
  out.needs_smtputf8 = out.needs_smtputf8 || head_8bit;

  MimeEntity mime = build_mime(content);
  // Reserved, then appended to: a move of `head` into it would drop the reservation, and the
  // body's append would then copy the whole message once more to grow. The 3 bytes past the
  // message are for the terminator smtp::into_wire_data appends in place.
  out.message.clear();
  out.message.reserve(head.size() + mime.headers.size() + 2 + mime.body.size() + 3);
  out.message += head;
  out.message += mime.headers;
  out.message += "\r\n";
  out.message += mime.body;
  // Every part's body is 7bit text, quoted-printable or base64: ASCII by construction, so only the
  // headers are looked at (a scan of the whole message was 0.6 % of volleyd's CPU at 100 KiB).
  out.body_8bit = head_8bit || any_8bit(mime.headers);
}

}  // namespace

PrepareResult prepare_message(const nlohmann::json& req, const PrepareOptions& opts,
                              std::span<const std::string_view> caller_members) {
  try {
    if (!req.is_object()) refuse("invalid_json", "", "request body must be a JSON object");
    refuse_unknown(req, "", kMessage.names(), caller_members);
    PreparedMessage out;
    Envelope env = read_envelope(req, opts, out);
    read_labels(req, out);
    if (const nlohmann::json* raw = member(req, kMessage("raw"))) {
      prepare_raw(req, *raw, opts, out);
      out.body_8bit = any_8bit(out.message);
    } else {
      prepare_built(req, env, opts, out);
    }
    if (out.message.size() > opts.max_message_size) refuse_too_large(opts);
    return out;
  } catch (const Refusal& r) {
    return r.error;
  } catch (const nlohmann::json::exception& e) {
    return PrepareError{400, "invalid_json", e.what(), ""};
  }
}

}  // namespace volley::message
