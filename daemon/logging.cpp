#include "daemon/logging.hpp"

#include <chrono>
#include <ctime>
#include <memory>
#include <string_view>

#include <nlohmann/json.hpp>
#include <spdlog/formatter.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

#include "core/util/log_fields.hpp"

namespace volley {

namespace {

// "spool: recovered 3" -> {"spool", "recovered 3"}; a component is one short token of
// [a-z0-9_.-] (so a sentence that happens to contain ": " later is left whole).
std::pair<std::string_view, std::string_view> split_component(std::string_view msg) {
  const auto colon = msg.find(": ");
  if (colon == std::string_view::npos || colon == 0 || colon > 32) return {"volleyd", msg};
  for (char c : msg.substr(0, colon))
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
      return {"volleyd", msg};
  return {msg.substr(0, colon), msg.substr(colon + 2)};
}

bool is_count(const std::string& v) {
  if (v.empty() || v.size() > 18 || (v.size() > 1 && v[0] == '0')) return false;
  for (char c : v)
    if (c < '0' || c > '9') return false;
  return true;
}

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& m, spdlog::memory_buf_t& dest) override {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(m.time.time_since_epoch()).count();
    const std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char ts[40];
    const auto n = std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(ts + n, sizeof ts - n, ".%03dZ", static_cast<int>(ms % 1000));
    const auto [component, text] = split_component(std::string_view(m.payload.data(), m.payload.size()));
    const auto level = spdlog::level::to_string_view(m.level);
    const auto parsed = util::parse_log_fields(text);
    nlohmann::json line{{"ts", ts},
                        {"level", std::string_view(level.data(), level.size())},
                        {"component", component},
                        {"msg", parsed.text}};
    // The line's key=value fields as members (a field never replaces ts, level, component or msg);
    // a whole number is a JSON number, so a shipper can compare it.
    for (const auto& [key, value] : parsed.fields) {
      if (line.contains(key)) continue;
      if (is_count(value))
        line[key] = std::stoll(value);
      else
        line[key] = value;
    }
    // Invalid UTF-8 in a message (a peer's bytes) is replaced, never a thrown exception.
    const std::string out = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    dest.append(out.data(), out.data() + out.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

}  // namespace

void set_log_format(const std::string& format) {
  if (format == "json") spdlog::set_formatter(std::make_unique<JsonFormatter>());
}

}  // namespace volley
