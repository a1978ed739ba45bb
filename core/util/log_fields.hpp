#pragma once
// volleyd's own log lines carry their facts as key=value fields after the sentence:
//   "delivery: TLSA lookup failed; the host is not used | domain=example.com host=mx1.example.com error=SERVFAIL"
// People read the sentence; `[log] format = "json"` turns the fields into members of the line's
// object (parse_log_fields), so a log shipper filters on domain= or error= without parsing prose.
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace volley::util {

// Between a line's sentence and its fields.
inline constexpr std::string_view kLogFieldsMark = " | ";

// Characters of one value kept (a peer's reply can be long; the log is not the place for all of it).
inline constexpr std::size_t kMaxLogFieldValue = 512;

// " key=value" appended to out; the value in double quotes (with '"' and '\' escaped, control bytes
// as \xNN) when it is empty or holds a space, '"', '=' , '\' or a control byte.
void append_log_field(std::string& out, std::string_view key, std::string_view value);

namespace detail {
template <class V>
std::string log_value(const V& v) {
  if constexpr (std::is_convertible_v<const V&, std::string_view>)
    return std::string(std::string_view(v));
  else
    return fmt::format("{}", v);
}
inline void append_log_fields(std::string&) {}
template <class V, class... Rest>
void append_log_fields(std::string& out, std::string_view key, const V& value, const Rest&... rest) {
  append_log_field(out, key, log_value(value));
  append_log_fields(out, rest...);
}
}  // namespace detail

// " | k1=v1 k2=v2" from alternating keys and values (anything fmt formats):
//   spdlog::warn("spool: commit failed{}", util::log_fields("error", e, "messages", n));
template <class... KV>
std::string log_fields(const KV&... kv) {
  static_assert(sizeof...(KV) >= 2 && sizeof...(KV) % 2 == 0, "log_fields takes key, value pairs");
  std::string out(kLogFieldsMark.substr(0, kLogFieldsMark.size() - 1));  // " |"; each field adds " k=v"
  detail::append_log_fields(out, kv...);
  return out;
}

struct LogLine {
  std::string_view text;                                    // the sentence, without the fields
  std::vector<std::pair<std::string, std::string>> fields;  // in their order, values unquoted
};

// A line split into its sentence and fields; a line without a well-formed field list after the
// last " | " is all text.
LogLine parse_log_fields(std::string_view line);

}  // namespace volley::util
