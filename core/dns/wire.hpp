#pragma once
// DNS messages as plain C++ values: encode a query to wire bytes, decode a response from wire
// bytes. ldns does the parsing behind this interface; its headers stay in wire.cpp.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace volley::dns {

enum class RrType : std::uint16_t {
  a = 1,
  cname = 5,
  soa = 6,
  ptr = 12,  // the doctor's reverse lookups (FCrDNS of the sources)
  mx = 15,
  txt = 16,
  aaaa = 28,
  tlsa = 52,
};
const char* to_string(RrType t);

namespace rcode {
inline constexpr std::uint8_t noerror = 0;
inline constexpr std::uint8_t formerr = 1;
inline constexpr std::uint8_t servfail = 2;
inline constexpr std::uint8_t nxdomain = 3;
inline constexpr std::uint8_t notimp = 4;
inline constexpr std::uint8_t refused = 5;
}  // namespace rcode
// "NOERROR", "SERVFAIL", ..., or "RCODE 9" for ones without a name here.
std::string rcode_name(std::uint8_t rcode);

// Names below are always lower case, without the trailing dot (the root is ""); bytes that are
// not letters, digits, '-' or '_' are written as \DDD, so a hostile label can never pass for
// a different name.
struct Question {
  std::string name;
  std::uint16_t type = 0;
  std::uint16_t qclass = 0;
};

// One class-IN record of a type listed in RrType other than SOA; other records are skipped.
struct Record {
  std::string name;
  RrType type = RrType::a;
  std::uint32_t ttl = 0;
  std::uint16_t preference = 0;  // MX only
  // A/AAAA: address literal; MX: exchange; CNAME, PTR: target; TXT: the record's character-strings
  // concatenated (any bytes); TLSA: the certificate association data (binary).
  std::string data;
  std::uint8_t usage = 0;     // TLSA only (RFC 6698 §2.1)
  std::uint8_t selector = 0;  // TLSA only
  std::uint8_t mtype = 0;     // TLSA only
};

struct Response {
  std::uint16_t id = 0;
  std::uint8_t rcode = 0;  // the header's 4 bits
  bool truncated = false;
  // The AD bit: the resolver validated every record in the answer and authority sections with
  // DNSSEC (RFC 4035 §3.2.3). Only worth trusting from a validating resolver on a trusted path.
  bool authenticated = false;
  std::vector<Question> questions;
  std::vector<Record> answers;
  std::vector<Record> additional;
  // From an SOA in the authority section: min(its TTL, its MINIMUM), how long a negative
  // answer may be cached (RFC 2308 §5).
  std::optional<std::uint32_t> negative_ttl;
};

// Largest message accepted (the TCP length prefix's range).
inline constexpr std::size_t max_message_size = 65535;
// EDNS0 UDP payload size advertised (the DNS flag day 2020 value: no IP fragmentation).
inline constexpr std::uint16_t edns_udp_size = 1232;

// A recursive (RD) class-IN query; nullopt if `name` is not a valid host name (see names.hpp).
// `dnssec` asks for authenticated data: the AD bit in the query (RFC 6840 §5.7) and EDNS0's DO
// bit (RFC 3225), so a validating resolver says whether it validated the answer (EDNS0 implied).
std::optional<std::vector<std::uint8_t>> encode_query(std::uint16_t id, std::string_view name,
                                                      RrType type, bool edns0 = true,
                                                      bool dnssec = false);

// nullopt (and `why`, when given) for anything that is not a well-formed DNS response.
std::optional<Response> decode_response(std::span<const std::uint8_t> wire,
                                        std::string* why = nullptr);

// True when `response` answers exactly the query (id, name, type, class IN) it claims to.
bool answers_query(const Response& response, std::uint16_t id, std::string_view name, RrType type);

}  // namespace volley::dns
