#include "core/json/request_json.hpp"

#include <algorithm>

#include <simdjson.h>

namespace volley::json {

namespace {

using nlohmann::json;

// simdjson's tree, copied into nlohmann's: one allocation per value, one memcpy per string.
// Recursion is bounded by the parser's max_depth.
json to_nlohmann(simdjson::dom::element e) {
  switch (e.type()) {
    case simdjson::dom::element_type::OBJECT: {
      json obj = json::object();
      for (auto field : simdjson::dom::object(e)) obj[std::string(field.key)] = to_nlohmann(field.value);
      return obj;
    }
    case simdjson::dom::element_type::ARRAY: {
      json arr = json::array();
      auto& vec = arr.get_ref<json::array_t&>();
      for (auto item : simdjson::dom::array(e)) vec.push_back(to_nlohmann(item));
      return arr;
    }
    case simdjson::dom::element_type::STRING:
      return json(std::string(std::string_view(e)));
    case simdjson::dom::element_type::INT64:
      return json(std::int64_t(e));
    case simdjson::dom::element_type::UINT64:
      return json(std::uint64_t(e));
    case simdjson::dom::element_type::DOUBLE:
      return json(double(e));
    case simdjson::dom::element_type::BOOL:
      return json(bool(e));
    case simdjson::dom::element_type::NULL_VALUE:
      break;
  }
  return json(nullptr);
}

std::variant<json, JsonError> parse_slowly(std::string_view text) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    // A parse_error's what() says "parse error at line L, column C: ..."; byte is 1-based.
    const auto* pe = dynamic_cast<const json::parse_error*>(&e);
    return JsonError{pe ? "malformed JSON at byte " + std::to_string(pe->byte) + ": " + e.what()
                        : std::string("malformed JSON: ") + e.what()};
  }
}

// True when `text` nests '[' and '{' (outside strings) deeper than `limit`.
bool nesting_exceeds(std::string_view text, std::size_t limit) {
  std::size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

}  // namespace

std::variant<json, JsonError> parse_request_json(std::string_view text, std::size_t max_depth) {
  // One parser per thread, reused: it keeps its buffers, sized by the largest body seen so far.
  thread_local simdjson::dom::parser parser;
  if (parser.max_depth() != max_depth &&
      parser.allocate(std::max<std::size_t>(parser.capacity(), 4096), max_depth) != simdjson::SUCCESS) {
    return parse_slowly(text);  // could not allocate: the careful path still answers
  }
  simdjson::dom::element root;
  // The text is copied into the parser's padded buffer: a request body has no spare capacity for
  // simdjson's 64 bytes of read-ahead, and one memcpy is cheap next to the parse.
  if (parser.parse(text.data(), text.size(), /*realloc_if_needed=*/true).get(root) == simdjson::SUCCESS) {
    return to_nlohmann(root);
  }
  if (nesting_exceeds(text, max_depth)) {
    return JsonError{"JSON nested deeper than " + std::to_string(max_depth) + " levels"};
  }
  return parse_slowly(text);
}

}  // namespace volley::json
