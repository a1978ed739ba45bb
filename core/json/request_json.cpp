#include "core/json/request_json.hpp"

#include <algorithm>
#include <optional>
#include <unordered_set>
#include <vector>

#include <simdjson.h>

#include "core/json/members.hpp"

namespace volley::json {

namespace {

using nlohmann::json;

JsonError malformed(std::string message) { return JsonError{"invalid_json", std::move(message), ""}; }

JsonError duplicate_key(std::string path) {
  std::string message = "the member " + path + " is given more than once (member names must be unique, RFC 7493)";
  return JsonError{"duplicate_key", std::move(message), std::move(path)};
}

// One step of the path to a repeated member name, innermost first.
struct Step {
  std::string_view key;  // an object's member, or (is_index)
  std::size_t index;     // an array's element
  bool is_index;
};

// simdjson's tree, copied into nlohmann's: one allocation per value, one memcpy per string.
// Recursion is bounded by the parser's max_depth. simdjson keeps repeated member names; the map
// insertion that builds each object finds them at no extra cost (it is one lookup either way):
// the copy stops at the first, false with the steps to it from `e` in *where.
bool to_nlohmann(simdjson::dom::element e, json& out, std::vector<Step>* where) {
  switch (e.type()) {
    case simdjson::dom::element_type::OBJECT: {
      out = json::object();
      auto& members = out.get_ref<json::object_t&>();
      for (auto field : simdjson::dom::object(e)) {
        auto [slot, fresh] = members.try_emplace(std::string(field.key));
        if (!fresh || !to_nlohmann(field.value, slot->second, where)) {
          where->push_back(Step{field.key, 0, false});
          return false;
        }
      }
      return true;
    }
    case simdjson::dom::element_type::ARRAY: {
      out = json::array();
      auto& items = out.get_ref<json::array_t&>();
      for (auto item : simdjson::dom::array(e)) {
        if (!to_nlohmann(item, items.emplace_back(), where)) {
          where->push_back(Step{{}, items.size() - 1, true});
          return false;
        }
      }
      return true;
    }
    case simdjson::dom::element_type::STRING:
      out = std::string(std::string_view(e));
      return true;
    case simdjson::dom::element_type::INT64:
      out = std::int64_t(e);
      return true;
    case simdjson::dom::element_type::UINT64:
      out = std::uint64_t(e);
      return true;
    case simdjson::dom::element_type::DOUBLE:
      out = double(e);
      return true;
    case simdjson::dom::element_type::BOOL:
      out = bool(e);
      return true;
    case simdjson::dom::element_type::NULL_VALUE:
      break;
  }
  out = nullptr;
  return true;
}

std::variant<json, JsonError> from_simdjson(simdjson::dom::element root) {
  json doc;
  std::vector<Step> where;
  if (to_nlohmann(root, doc, &where)) return doc;
  std::string path;
  for (auto step = where.rbegin(); step != where.rend(); ++step)
    path = step->is_index ? index_path(path, step->index) : member_path(path, step->key);
  return duplicate_key(std::move(path));
}

// Watches nlohmann's parse events for repeated member names: the containers open at this point
// of the text, each object with the names it has so far. Only the slow path pays for this.
class RepeatedNames {
 public:
  bool on_event(json::parse_event_t event, const json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
        begin_element();
        open_.push_back(Open{true, 0, {}, {}});
        break;
      case json::parse_event_t::array_start:
        begin_element();
        open_.push_back(Open{false, 0, {}, {}});
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        open_.pop_back();
        break;
      case json::parse_event_t::key: {
        Open& object = open_.back();
        object.key = parsed.get_ref<const std::string&>();
        if (!object.names.insert(object.key).second && !first_) first_ = path();
        break;
      }
      case json::parse_event_t::value:
        begin_element();
        break;
    }
    return true;  // keep everything: the document is built as without a callback
  }

  // The path of the first repeated name, if any.
  const std::optional<std::string>& first() const { return first_; }

 private:
  struct Open {
    bool object;
    std::size_t elements;  // an array's, begun so far
    std::string key;       // an object's member being read
    std::unordered_set<std::string> names;
  };

  void begin_element() {
    if (!open_.empty() && !open_.back().object) ++open_.back().elements;
  }

  std::string path() const {
    std::string p;
    for (const Open& o : open_) p = o.object ? member_path(p, o.key) : index_path(p, o.elements - 1);
    return p;
  }

  std::vector<Open> open_;
  std::optional<std::string> first_;
};

std::variant<json, JsonError> parse_slowly(std::string_view text) {
  RepeatedNames repeated;
  try {
    json doc = json::parse(text, [&repeated](int, json::parse_event_t event, json& parsed) {
      return repeated.on_event(event, parsed);
    });
    if (repeated.first()) return duplicate_key(*repeated.first());
    return doc;
  } catch (const json::exception& e) {
    // A parse_error's what() says "parse error at line L, column C: ..."; byte is 1-based.
    const auto* pe = dynamic_cast<const json::parse_error*>(&e);
    return malformed(pe ? "malformed JSON at byte " + std::to_string(pe->byte) + ": " + e.what()
                        : std::string("malformed JSON: ") + e.what());
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

static_assert(kReadAhead == simdjson::SIMDJSON_PADDING);

std::variant<json, JsonError> parse_request_json(std::string_view text, std::size_t max_depth,
                                                 std::size_t readable_after) {
  // One parser per thread, reused: it keeps its buffers, sized by the largest body seen so far.
  thread_local simdjson::dom::parser parser;
  if (parser.max_depth() != max_depth &&
      parser.allocate(std::max<std::size_t>(parser.capacity(), 4096), max_depth) != simdjson::SUCCESS) {
    return parse_slowly(text);  // could not allocate: the careful path still answers
  }
  simdjson::dom::element root;
  // Without room for simdjson's read-ahead, the text is copied into the parser's padded buffer.
  const bool copy = readable_after < kReadAhead;
  if (parser.parse(text.data(), text.size(), /*realloc_if_needed=*/copy).get(root) == simdjson::SUCCESS) {
    return from_simdjson(root);
  }
  if (nesting_exceeds(text, max_depth)) {
    return malformed("JSON nested deeper than " + std::to_string(max_depth) + " levels");
  }
  return parse_slowly(text);
}

}  // namespace volley::json
