#include "core/dns/wire.hpp"

#include <arpa/inet.h>

#include <cstdlib>
#include <memory>

#include "core/dns/names.hpp"

// ldns defines bool/true/false unless <stdbool.h> came first, and a dprintf macro.
#include <stdbool.h>
#include <ldns/ldns.h>
#undef dprintf

namespace volley::dns {

namespace {

struct PktFree {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
using PktPtr = std::unique_ptr<ldns_pkt, PktFree>;

struct CFree {
  void operator()(void* p) const { std::free(p); }
};

constexpr std::uint16_t class_in = 1;

bool is_plain_name_char(std::uint8_t c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// Wire-format labels (as ldns stores a DNAME rdf: uncompressed, root-terminated) to text.
std::optional<std::string> dname_to_string(const ldns_rdf* rdf) {
  if (rdf == nullptr || ldns_rdf_get_type(rdf) != LDNS_RDF_TYPE_DNAME) return std::nullopt;
  const std::uint8_t* p = ldns_rdf_data(rdf);
  const std::size_t size = ldns_rdf_size(rdf);
  std::string out;
  std::size_t i = 0;
  while (i < size) {
    const std::size_t len = p[i++];
    if (len == 0) return out;
    if (len > 63 || i + len > size) return std::nullopt;
    if (!out.empty()) out.push_back('.');
    for (std::size_t k = 0; k < len; ++k) {
      std::uint8_t c = p[i + k];
      if (c >= 'A' && c <= 'Z') c = static_cast<std::uint8_t>(c - 'A' + 'a');
      if (is_plain_name_char(c)) {
        out.push_back(static_cast<char>(c));
      } else {
        const char esc[] = {'\\', static_cast<char>('0' + c / 100),
                            static_cast<char>('0' + c / 10 % 10), static_cast<char>('0' + c % 10)};
        out.append(esc, sizeof esc);
      }
    }
    i += len;
  }
  return std::nullopt;  // no terminating root label
}

std::optional<std::uint32_t> rdf_uint32(const ldns_rdf* rdf) {
  if (rdf == nullptr || ldns_rdf_size(rdf) != 4) return std::nullopt;
  const std::uint8_t* d = ldns_rdf_data(rdf);
  return (std::uint32_t{d[0]} << 24) | (std::uint32_t{d[1]} << 16) | (std::uint32_t{d[2]} << 8) |
         std::uint32_t{d[3]};
}

std::optional<std::string> address_to_string(const ldns_rdf* rdf, int family, std::size_t size) {
  if (rdf == nullptr || ldns_rdf_size(rdf) != size) return std::nullopt;
  char buf[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(family, ldns_rdf_data(rdf), buf, sizeof buf) == nullptr) return std::nullopt;
  return std::string(buf);
}

// A TXT record's character-strings (each a length byte and its bytes), concatenated.
std::optional<std::string> txt_strings(const ldns_rr* rr) {
  std::string out;
  for (std::size_t i = 0; i < ldns_rr_rd_count(rr); ++i) {
    const ldns_rdf* rdf = ldns_rr_rdf(rr, i);
    if (rdf == nullptr || ldns_rdf_size(rdf) < 1) return std::nullopt;
    const std::uint8_t* d = ldns_rdf_data(rdf);
    if (std::size_t{d[0]} + 1 != ldns_rdf_size(rdf)) return std::nullopt;
    out.append(reinterpret_cast<const char*>(d + 1), d[0]);
  }
  return out;
}

// A TLSA record's usage, selector and matching type into `rec`; its association data returned.
std::optional<std::string> tlsa_fields(const ldns_rr* rr, Record& rec) {
  if (ldns_rr_rd_count(rr) != 4) return std::nullopt;
  std::uint8_t* fields[] = {&rec.usage, &rec.selector, &rec.mtype};
  for (std::size_t i = 0; i < 3; ++i) {
    const ldns_rdf* rdf = ldns_rr_rdf(rr, i);
    if (rdf == nullptr || ldns_rdf_size(rdf) != 1) return std::nullopt;
    *fields[i] = ldns_rdf_data(rdf)[0];
  }
  const ldns_rdf* data = ldns_rr_rdf(rr, 3);
  if (data == nullptr) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(ldns_rdf_data(data)), ldns_rdf_size(data));
}

// One record of interest, nullopt for any other (or malformed) record: callers skip those.
std::optional<Record> to_record(const ldns_rr* rr) {
  if (ldns_rr_get_class(rr) != class_in) return std::nullopt;
  auto owner = dname_to_string(ldns_rr_owner(rr));
  if (!owner) return std::nullopt;
  Record rec;
  rec.name = std::move(*owner);
  rec.ttl = ldns_rr_ttl(rr);
  std::optional<std::string> data;
  switch (ldns_rr_get_type(rr)) {
    case LDNS_RR_TYPE_A:
      rec.type = RrType::a;
      if (ldns_rr_rd_count(rr) == 1) data = address_to_string(ldns_rr_rdf(rr, 0), AF_INET, 4);
      break;
    case LDNS_RR_TYPE_AAAA:
      rec.type = RrType::aaaa;
      if (ldns_rr_rd_count(rr) == 1) data = address_to_string(ldns_rr_rdf(rr, 0), AF_INET6, 16);
      break;
    case LDNS_RR_TYPE_CNAME:
      rec.type = RrType::cname;
      if (ldns_rr_rd_count(rr) == 1) data = dname_to_string(ldns_rr_rdf(rr, 0));
      break;
    case LDNS_RR_TYPE_PTR:
      rec.type = RrType::ptr;
      if (ldns_rr_rd_count(rr) == 1) data = dname_to_string(ldns_rr_rdf(rr, 0));
      break;
    case LDNS_RR_TYPE_MX: {
      rec.type = RrType::mx;
      if (ldns_rr_rd_count(rr) != 2) break;
      const ldns_rdf* pref = ldns_rr_rdf(rr, 0);
      if (pref == nullptr || ldns_rdf_size(pref) != 2) break;
      rec.preference = ldns_rdf2native_int16(pref);
      data = dname_to_string(ldns_rr_rdf(rr, 1));
      break;
    }
    case LDNS_RR_TYPE_TXT:
      rec.type = RrType::txt;
      data = txt_strings(rr);
      break;
    case LDNS_RR_TYPE_TLSA:
      rec.type = RrType::tlsa;
      data = tlsa_fields(rr, rec);
      break;
    default: break;
  }
  if (!data) return std::nullopt;
  rec.data = std::move(*data);
  return rec;
}

std::vector<Record> to_records(const ldns_rr_list* list) {
  std::vector<Record> out;
  if (list == nullptr) return out;
  const std::size_t n = ldns_rr_list_rr_count(list);
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (auto rec = to_record(ldns_rr_list_rr(list, i))) out.push_back(std::move(*rec));
  }
  return out;
}

std::optional<std::uint32_t> soa_negative_ttl(const ldns_rr_list* authority) {
  if (authority == nullptr) return std::nullopt;
  for (std::size_t i = 0; i < ldns_rr_list_rr_count(authority); ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(authority, i);
    if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA || ldns_rr_get_class(rr) != class_in) continue;
    if (ldns_rr_rd_count(rr) != 7) continue;
    if (auto minimum = rdf_uint32(ldns_rr_rdf(rr, 6))) {
      return std::min(ldns_rr_ttl(rr), *minimum);
    }
  }
  return std::nullopt;
}

std::nullopt_t fail(std::string* why, const char* text) {
  if (why != nullptr) *why = text;
  return std::nullopt;
}

}  // namespace

const char* to_string(RrType t) {
  switch (t) {
    case RrType::a: return "A";
    case RrType::cname: return "CNAME";
    case RrType::soa: return "SOA";
    case RrType::ptr: return "PTR";
    case RrType::mx: return "MX";
    case RrType::txt: return "TXT";
    case RrType::aaaa: return "AAAA";
    case RrType::tlsa: return "TLSA";
  }
  return "?";
}

std::string rcode_name(std::uint8_t code) {
  switch (code) {
    case rcode::noerror: return "NOERROR";
    case rcode::formerr: return "FORMERR";
    case rcode::servfail: return "SERVFAIL";
    case rcode::nxdomain: return "NXDOMAIN";
    case rcode::notimp: return "NOTIMP";
    case rcode::refused: return "REFUSED";
    default: return "RCODE " + std::to_string(code);
  }
}

std::optional<std::vector<std::uint8_t>> encode_query(std::uint16_t id, std::string_view name,
                                                      RrType type, bool edns0, bool dnssec) {
  // Validating first also keeps ldns's text parser away from escapes and odd characters.
  auto normal = normalize_host_name(name);
  if (!normal) return std::nullopt;
  ldns_rdf* owner = ldns_dname_new_frm_str(normal->c_str());
  if (owner == nullptr) return std::nullopt;
  PktPtr pkt(ldns_pkt_query_new(owner, static_cast<ldns_rr_type>(type), LDNS_RR_CLASS_IN, LDNS_RD));
  if (!pkt) return std::nullopt;
  ldns_pkt_set_id(pkt.get(), id);
  if (edns0 || dnssec) ldns_pkt_set_edns_udp_size(pkt.get(), edns_udp_size);
  if (dnssec) {
    ldns_pkt_set_ad(pkt.get(), true);
    ldns_pkt_set_edns_do(pkt.get(), true);
  }
  std::uint8_t* raw = nullptr;
  std::size_t size = 0;
  const ldns_status st = ldns_pkt2wire(&raw, pkt.get(), &size);
  std::unique_ptr<std::uint8_t, CFree> owned(raw);
  if (st != LDNS_STATUS_OK || raw == nullptr) return std::nullopt;
  return std::vector<std::uint8_t>(raw, raw + size);
}

std::optional<Response> decode_response(std::span<const std::uint8_t> wire, std::string* why) {
  if (wire.size() < 12) return fail(why, "shorter than a DNS header");
  if (wire.size() > max_message_size) return fail(why, "longer than a DNS message");
  ldns_pkt* raw = nullptr;
  const ldns_status st = ldns_wire2pkt(&raw, wire.data(), wire.size());
  PktPtr pkt(raw);
  if (st != LDNS_STATUS_OK || !pkt) {
    if (why != nullptr) *why = std::string("malformed: ") + ldns_get_errorstr_by_id(st);
    return std::nullopt;
  }
  if (!ldns_pkt_qr(pkt.get())) return fail(why, "not a response (QR clear)");
  if (ldns_pkt_get_opcode(pkt.get()) != LDNS_PACKET_QUERY) return fail(why, "not a QUERY response");
  Response r;
  r.id = ldns_pkt_id(pkt.get());
  r.rcode = static_cast<std::uint8_t>(ldns_pkt_get_rcode(pkt.get()) & 0x0f);
  r.truncated = ldns_pkt_tc(pkt.get());
  r.authenticated = ldns_pkt_ad(pkt.get());
  if (const ldns_rr_list* q = ldns_pkt_question(pkt.get())) {
    for (std::size_t i = 0; i < ldns_rr_list_rr_count(q); ++i) {
      const ldns_rr* rr = ldns_rr_list_rr(q, i);
      auto name = dname_to_string(ldns_rr_owner(rr));
      if (!name) return fail(why, "malformed question name");
      r.questions.push_back(Question{std::move(*name),
                                     static_cast<std::uint16_t>(ldns_rr_get_type(rr)),
                                     static_cast<std::uint16_t>(ldns_rr_get_class(rr))});
    }
  }
  r.answers = to_records(ldns_pkt_answer(pkt.get()));
  r.additional = to_records(ldns_pkt_additional(pkt.get()));
  r.negative_ttl = soa_negative_ttl(ldns_pkt_authority(pkt.get()));
  return r;
}

bool answers_query(const Response& response, std::uint16_t id, std::string_view name, RrType type) {
  if (response.id != id || response.questions.size() != 1) return false;
  const Question& q = response.questions.front();
  return q.qclass == class_in && q.type == static_cast<std::uint16_t>(type) && q.name == name;
}

}  // namespace volley::dns
