#pragma once
// Writing header fields: RFC 2047 encoded words for non-ASCII text, folding to 78 columns where
// the text allows it (never past 998), RFC 2231 parameters, and the RFC 5322 date.
// Inputs must already be checked: valid UTF-8, no CR/LF/NUL or other control characters
// (TAB allowed in unstructured text).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/message/address.hpp"

namespace volley::message {

constexpr std::size_t kFoldColumn = 78;
constexpr std::size_t kMaxLineLength = 998;

// "Name: value\r\n" for an unstructured field (Subject, custom fields). Leading and trailing
// whitespace of the value is dropped; words with non-ASCII (or that look like encoded words,
// or are, with the whitespace before them, too long to ever fit a line) become base64 encoded
// words; a line holding an encoded word stays within kFoldColumn unless the field name alone
// leaves no room for one.
std::string unstructured_field(std::string_view name, std::string_view value);

// "Name: a, \"B, C\" <b@x>, =?utf-8?B?...?= <c@y>\r\n" for an address-list field.
std::string address_list_field(std::string_view name, const std::vector<Mailbox>& boxes);

// One MIME parameter: `attr="value"` when ASCII and short, else RFC 2231 `attr*=utf-8''...`,
// split into `attr*0*=`, `attr*1*=` ... sections that each fit a line. Returns the sections.
std::vector<std::string> mime_parameter(std::string_view attr, std::string_view value);

// "Name: value;\r\n param;\r\n param\r\n", with parameters folded onto their own lines
// when the line would pass kFoldColumn.
std::string field_with_parameters(std::string_view name, std::string_view value,
                                  const std::vector<std::string>& params);

// RFC 5322 date-time in UTC: "Tue, 01 Jul 2025 12:00:00 +0000".
std::string rfc5322_date(std::int64_t unix_seconds);

}  // namespace volley::message
