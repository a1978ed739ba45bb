#pragma once
// volleyd's own log lines carry their facts as key=value fields after the sentence:
//   "delivery: TLSA lookup failed; the host is not used | domain=example.com host=mx1.example.com error=SERVFAIL"
// People read the sentence; `[log] format = "json"` turns the fields into members of the line's
// object (parse_log_fields), so a log shipper filters on domain= or error= without parsing prose.
#include <algorithm>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace volley::util {

// Between a line's sentence and its fields.
inline constexpr std::string_view kLogFieldsMark = " | ";

// Characters of one value kept (a peer's reply can be long; the log is not the place for all of it).
inline constexpr std::size_t kMaxLogFieldValue = 512;

// " key=value" appended to out; the value quoted as util::quoted does (cut after kMaxLogFieldValue)
// when it is empty, too long, or holds a space, '"', '=' , '\' or a control byte.
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

// The fields of one log line, formatted only if the line is written: a debug line on a busy path
// costs nothing while debug is off. Holds references: use it within the expression that makes it.
template <class... KV>
struct LogFields {
  std::tuple<const KV&...> kv;
  // " | k1=v1 k2=v2"
  std::string str() const {
    std::string out(kLogFieldsMark.substr(0, kLogFieldsMark.size() - 1));  // " |"; each field adds " k=v"
    std::apply([&out](const auto&... a) { detail::append_log_fields(out, a...); }, kv);
    return out;
  }
};

// From alternating keys and values (anything fmt formats), for the end of a line:
//   spdlog::warn("spool: commit failed{}", util::log_fields("error", e, "messages", n));
template <class... KV>
LogFields<KV...> log_fields(const KV&... kv) {
  static_assert(sizeof...(KV) >= 2 && sizeof...(KV) % 2 == 0, "log_fields takes key, value pairs");
  return LogFields<KV...>{std::tie(kv...)};
}

struct LogLine {
  std::string_view text;                                    // the sentence, without the fields
  std::vector<std::pair<std::string, std::string>> fields;  // in their order, values unquoted
};

// A line split into its sentence and fields; a line without a well-formed field list after the
// last " | " is all text.
LogLine parse_log_fields(std::string_view line);

}  // namespace volley::util

template <class... KV>
struct fmt::formatter<volley::util::LogFields<KV...>> {
  constexpr auto parse(fmt::format_parse_context& ctx) { return ctx.begin(); }
  template <class Context>
  auto format(const volley::util::LogFields<KV...>& f, Context& ctx) const {
    const std::string s = f.str();
    return std::copy(s.begin(), s.end(), ctx.out());
  }
};
