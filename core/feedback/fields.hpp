#pragma once
// "Name: value" field blocks as RFC 5322 headers, RFC 3464 delivery-status groups and RFC 5965
// feedback reports write them, read leniently: folded lines joined, lines that are not fields
// skipped, names compared without case, every count and length bounded.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>
#include "core/util/ascii.hpp"

namespace volley::feedback {

struct Field {
  std::string name;   // as written
  std::string value;  // unfolded (each fold becomes one space), trimmed, cut at kMaxValueLength
};
using Fields = std::vector<Field>;

// The fields of a header block: up to the first empty line (or the end), at most `max_fields`.
Fields parse_header_block(std::string_view text, std::size_t max_fields);

// Blank-line separated groups of fields (RFC 3464 §2.1), empty groups dropped, at most
// `max_groups` groups of at most `max_fields` fields each.
std::vector<Fields> parse_field_groups(std::string_view text, std::size_t max_groups, std::size_t max_fields);

// Value of the first field named `name` (any case), or "" when there is none.
std::string_view field_value(const Fields& fields, std::string_view name);

// Small text helpers shared by the report readers.
// ASCII case, as everywhere (core/util/ascii.hpp).
inline bool iequals(std::string_view a, std::string_view b) { return util::ascii_iequals(a, b); }
inline std::string lower(std::string_view text) { return util::ascii_lower(text); }
// Offset of `needle` in `hay` compared without ASCII case, or npos.
std::size_t ifind(std::string_view hay, std::string_view needle);
bool istarts_with(std::string_view text, std::string_view prefix);
std::string_view trim(std::string_view text);
// `text` without RFC 5322 comments "(...)" (nested, outside quoted strings), trimmed.
std::string strip_comments(std::string_view text);
// "rfc822; <a@b>" -> "a@b": the part after a type's ';' (if any), comments, <> and space removed.
std::string typed_address(std::string_view value);
// "dns; mx.example.com" / "smtp; 550 ..." -> the text after the first ';' (or all of it), trimmed.
std::string after_type(std::string_view value);
// The addr-spec of "Name <a@b>", "<a@b>" or "a@b", or "" when there is none.
std::string addr_spec(std::string_view value);
// `text` cut to kMaxValueLength bytes.
std::string bounded(std::string_view text);

}  // namespace volley::feedback
