#include "core/dkim/signer.hpp"

#include <algorithm>
#include <array>
#include <optional>

#include "core/message/address.hpp"
#include "core/message/transfer_encoding.hpp"
#include "core/util/ascii.hpp"

namespace volley::dkim {

namespace {

constexpr std::size_t kMaxColumns = 78;

bool contains_name(const std::vector<std::string>& names, std::string_view name) {
  return std::any_of(names.begin(), names.end(), [&](const std::string& n) { return util::ascii_iequals(n, name); });
}

// Builds a header field folded at kMaxColumns: an atom starting with a space may have that
// space turned into a fold (CRLF SP); one without may be preceded by a fold where the syntax
// allows whitespace (between the names of h=, inside base64).
class Folder {
 public:
  explicit Folder(std::string start) : out_(std::move(start)) { column_ = column_of(out_); }

  void add(std::string_view atom) {
    if (column_ + atom.size() > kMaxColumns && column_ > 1) {
      out_ += "\r\n";
      column_ = 0;
      if (atom.front() != ' ') {
        out_ += ' ';
        column_ = 1;
      }
    }
    out_ += atom;
    column_ += atom.size();
  }
  // Adds text cut wherever a line is full (base64).
  void add_breakable(std::string_view text) {
    while (!text.empty()) {
      const std::size_t room = column_ < kMaxColumns ? kMaxColumns - column_ : 0;
      if (room == 0) {
        out_ += "\r\n ";
        column_ = 1;
        continue;
      }
      const auto piece = text.substr(0, room);
      out_ += piece;
      column_ += piece.size();
      text.remove_prefix(piece.size());
    }
  }
  std::string take() { return std::move(out_); }

  static std::size_t column_of(std::string_view text) {
    const auto nl = text.rfind('\n');
    return nl == std::string_view::npos ? text.size() : text.size() - nl - 1;
  }

 private:
  std::string out_;
  std::size_t column_ = 0;
};

std::string b64(const util::Sha256& digest) {
  return message::base64_encode(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

// The addr-spec of a From: value: inside the last <...>, or the whole value without comments.
std::string from_address(std::string_view value) {
  std::string unfolded;
  int depth = 0;
  bool quoted = false;
  for (char c : value) {
    if (c == '\r' || c == '\n') continue;
    if (quoted) {
      if (c == '"') quoted = false;
      unfolded += c;
      continue;
    }
    if (c == '(') ++depth;
    else if (c == ')' && depth > 0) --depth;
    else if (depth == 0) {
      if (c == '"') quoted = true;
      unfolded += c;
    }
  }
  std::string_view v(unfolded);
  const auto open = v.rfind('<');
  if (open != std::string_view::npos) {
    const auto close = v.find('>', open);
    if (close == std::string_view::npos) return {};
    v = v.substr(open + 1, close - open - 1);
  } else if (v.find(',') != std::string_view::npos) {
    return {};  // several addresses
  }
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return std::string(v);
}

}  // namespace

const std::vector<std::string>& default_signed_headers() {
  static const std::vector<std::string> names{
      "From",         "To",          "Cc",          "Subject",
      "Date",         "Message-ID",  "MIME-Version", "Content-Type",
      "Content-Transfer-Encoding", "Reply-To", "List-Unsubscribe", "List-Unsubscribe-Post",
      "In-Reply-To",  "References",  "Feedback-ID"};
  return names;
}

const std::vector<std::string>& default_over_signed_headers() {
  static const std::vector<std::string> names{"From", "Subject", "List-Unsubscribe", "List-Unsubscribe-Post"};
  return names;
}

std::vector<std::string> signed_header_names(const std::vector<HeaderField>& fields,
                                             const std::vector<std::string>& headers,
                                             const std::vector<std::string>& over_sign) {
  std::vector<std::string> out;
  std::vector<std::string> seen;  // each configured name once, whatever its spelling
  bool has_from = false;
  for (const auto& f : fields) has_from = has_from || util::ascii_iequals(f.name(), "from");
  if (!has_from) return out;
  // An over-signed name is signed even when `headers` does not list it.
  std::vector<std::string> all = headers;
  all.insert(all.end(), over_sign.begin(), over_sign.end());
  for (const auto& name : all) {
    // X-Volley-ID differs per recipient: signing it would break every recipient but one.
    if (util::ascii_iequals(name, "x-volley-id") || contains_name(seen, name)) continue;
    seen.push_back(name);
    const auto count = static_cast<std::size_t>(
        std::count_if(fields.begin(), fields.end(), [&](const HeaderField& f) { return util::ascii_iequals(f.name(), name); }));
    const std::size_t times = count + (contains_name(over_sign, name) ? 1 : 0);
    for (std::size_t i = 0; i < times; ++i) out.push_back(util::ascii_lower(name));
  }
  return out;
}

std::string signed_headers_data(const std::vector<HeaderField>& fields, const std::vector<std::string>& names, Canon c) {
  std::string out;
  std::vector<bool> used(fields.size(), false);
  for (const auto& name : names) {
    for (std::size_t i = fields.size(); i-- > 0;) {
      if (used[i] || !util::ascii_iequals(fields[i].name(), name)) continue;
      used[i] = true;
      out += canonical_header(c, fields[i].raw);
      break;
    }
  }
  return out;
}

std::string complete_signature(const PrivateKey& key, Canon header_canon, std::string_view headers_data,
                               std::string unsigned_field) {
  std::string data(headers_data);
  std::string own = canonical_header(header_canon, unsigned_field + "\r\n");
  own.resize(own.size() - 2);  // the signature field is hashed without its CRLF (§3.7)
  data += own;
  const std::string signature = sign_data(key, data);
  Folder folder(std::move(unsigned_field));
  folder.add_breakable(message::base64_encode(signature));
  return folder.take() + "\r\n";
}

std::string from_domain(const std::vector<HeaderField>& fields) {
  const HeaderField* from = nullptr;
  for (const auto& f : fields) {
    if (!util::ascii_iequals(f.name(), "from")) continue;
    if (from) return {};  // two From fields: whose domain would it be?
    from = &f;
  }
  if (!from) return {};
  const auto address = from_address(std::string_view(from->raw).substr(from->name_size + 1));
  std::string error;
  const auto mailbox = message::parse_address(address, &error);
  return mailbox ? mailbox->domain_key() : std::string();
}

SignResult Signer::sign(std::string_view message, bool wire_form, std::string_view tenant, std::int64_t now) const {
  SignResult result;
  const auto parts = split_message(message, wire_form);
  if (!parts) {
    result.error = "the header cannot be read";
    return result;
  }
  const std::string domain = from_domain(parts->fields);
  if (domain.empty()) {
    result.error = "no single From: address to sign for";
    return result;
  }
  // One body hash per body canonicalisation, whatever the number of keys.
  std::array<std::optional<std::string>, 2> body_hashes;
  for (const auto& k : keys_) {
    const bool domain_matches =
        domain == k.domain ||
        (k.subdomains && domain.size() > k.domain.size() + 1 && domain.ends_with(k.domain) &&
         domain[domain.size() - k.domain.size() - 1] == '.');
    if (!domain_matches || (!k.tenant.empty() && k.tenant != tenant)) continue;
    auto& bh = body_hashes[k.canonicalization.body == Canon::relaxed ? 1 : 0];
    if (!bh) bh = b64(body_hash(k.canonicalization.body, parts->body, wire_form));
    const auto names = signed_header_names(parts->fields, k.headers, k.over_sign);
    Folder field("DKIM-Signature:");
    field.add(" v=1;");
    field.add(std::string(" a=") + algorithm_name(k.key.algorithm()) + ";");
    field.add(" c=" + to_string(k.canonicalization) + ";");
    field.add(" d=" + k.domain + ";");
    field.add(" s=" + k.selector + ";");
    field.add(" t=" + std::to_string(now) + ";");
    if (k.expiration.count() > 0) field.add(" x=" + std::to_string(now + k.expiration.count()) + ";");
    for (std::size_t i = 0; i < names.size(); ++i) {
      const bool last = i + 1 == names.size();
      field.add((i == 0 ? " h=" : "") + names[i] + (last ? ";" : ":"));
    }
    field.add(" bh=" + *bh + ";");
    field.add(" b=");
    const auto data = signed_headers_data(parts->fields, names, k.canonicalization.header);
    result.fields += complete_signature(k.key, k.canonicalization.header, data, field.take());
    result.signatures.push_back(SignatureInfo{k.domain, k.selector, algorithm_name(k.key.algorithm())});
  }
  return result;
}

}  // namespace volley::dkim
