#include "core/feedback/original_headers.hpp"

#include "core/feedback/fields.hpp"

namespace volley::feedback {
namespace {

// Fields looked at for the named values: more than `all` keeps, since a message that went through
// many relays can carry its X-Volley-ID below a long Received chain.
constexpr std::size_t kMaxFieldsRead = 5 * kMaxHeaders;

std::string message_id(std::string_view value) {
  auto open = value.find('<');
  auto close = value.find('>', open == std::string_view::npos ? 0 : open);
  if (open == std::string_view::npos || close == std::string_view::npos) return bounded(trim(value));
  return bounded(value.substr(open, close - open + 1));
}

}  // namespace

OriginalHeaders read_original_headers(std::string_view block) {
  auto fields = parse_header_block(block, kMaxFieldsRead);
  OriginalHeaders h;
  for (const auto& f : fields) {
    if (h.all.size() < kMaxHeaders) h.all.emplace_back(f.name, f.value);
  }
  h.message_id = message_id(field_value(fields, "Message-ID"));
  h.from = field_value(fields, "From");
  h.to = field_value(fields, "To");
  h.subject = field_value(fields, "Subject");
  h.date = field_value(fields, "Date");
  h.return_path = addr_spec(field_value(fields, "Return-Path"));
  h.volley_id = trim(field_value(fields, "X-Volley-ID"));
  return h;
}

}  // namespace volley::feedback
