#include "receiver_script.hpp"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <stdexcept>

#include <toml++/toml.h>

namespace volley::receiver {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; });
  return out;
}

// Reads values with an error that names the file and line; refuses keys it does not know, so a
// misspelt behaviour fails the test that wrote it instead of silently accepting everything.
class Reader {
 public:
  explicit Reader(std::string_view source) : source_(source) {}

  [[noreturn]] void fail(const toml::node& at, std::string_view key, const std::string& message) const {
    throw std::runtime_error(source_ + ":" + std::to_string(at.source().begin.line) + ": " + std::string(key) +
                             ": " + message);
  }

  void only_keys(const toml::table& t, std::initializer_list<std::string_view> known) const {
    for (const auto& [key, node] : t)
      if (std::find(known.begin(), known.end(), key.str()) == known.end()) fail(node, key.str(), "unknown key");
  }

  template <class T>
  void integer(const toml::table& t, std::string_view key, std::int64_t lo, std::int64_t hi, T& out) const {
    const auto* node = t.get(key);
    if (!node) return;
    const auto* v = node->as_integer();
    if (!v || v->get() < lo || v->get() > hi)
      fail(*node, key, "expected an integer " + std::to_string(lo) + ".." + std::to_string(hi));
    out = static_cast<T>(v->get());
  }

  void milliseconds(const toml::table& t, std::string_view key, std::chrono::milliseconds& out) const {
    std::int64_t ms = out.count();
    integer(t, key, 0, 3'600'000, ms);
    out = std::chrono::milliseconds(ms);
  }

  void number(const toml::table& t, std::string_view key, double& out) const {
    const auto* node = t.get(key);
    if (!node) return;
    const auto v = node->value<double>();
    if (!v || !std::isfinite(*v) || *v < 0) fail(*node, key, "expected a number >= 0");
    out = *v;
  }

  void boolean(const toml::table& t, std::string_view key, bool& out) const {
    const auto* node = t.get(key);
    if (!node) return;
    if (!node->is_boolean()) fail(*node, key, "expected true or false");
    out = node->as_boolean()->get();
  }

  std::optional<std::string> string(const toml::table& t, std::string_view key) const {
    const auto* node = t.get(key);
    if (!node) return std::nullopt;
    if (!node->is_string()) fail(*node, key, "expected a string");
    return node->as_string()->get();
  }

  template <class T>
  T choice(const toml::table& t, std::string_view key, std::initializer_list<std::pair<std::string_view, T>> options,
           T fallback) const {
    const auto text = string(t, key);
    if (!text) return fallback;
    for (const auto& [name, value] : options)
      if (*text == name) return value;
    std::string names;
    for (const auto& [name, value] : options) names += (names.empty() ? "" : ", ") + std::string(name);
    fail(*t.get(key), key, "expected one of " + names);
  }

  Rule rule(const toml::table& t) const {
    Rule r;
    r.action = choice<Action>(t, "action",
                              {{"accept", Action::accept},
                               {"reject", Action::reject},
                               {"tempfail", Action::tempfail},
                               {"greylist", Action::greylist},
                               {"drop", Action::drop},
                               {"bounce_later", Action::bounce_later}},
                              Action::accept);
    r.stage = choice<Stage>(t, "stage",
                            {{"rcpt", Stage::rcpt}, {"data", Stage::data}, {"end_of_data", Stage::end_of_data}},
                            Stage::rcpt);
    if (r.stage != Stage::rcpt && r.action != Action::reject && r.action != Action::tempfail)
      fail(*t.get("stage"), "stage", "only reject and tempfail can answer at data or end_of_data");
    const char* default_reply = r.action == Action::bounce_later
                                    ? "550 5.1.1 The email account that you tried to reach does not exist"
                                : r.action == Action::reject   ? "550 5.7.1 Rejected by script"
                                : r.action == Action::greylist ? "451 4.7.1 Greylisted, please retry later"
                                                               : "451 4.3.0 Temporary failure, try again later";
    const auto text = string(t, "reply").value_or(default_reply);
    const auto reply = parse_reply(text);
    const int wanted = r.action == Action::reject || r.action == Action::bounce_later ? 5 : 4;
    if (!reply || (r.action != Action::accept && r.action != Action::drop && reply->code / 100 != wanted))
      fail(t.get("reply") ? *t.get("reply") : static_cast<const toml::node&>(t), "reply",
           "expected a " + std::to_string(wanted) + "xx reply such as \"" + default_reply + "\"");
    r.reply = *reply;
    integer(t, "times", 0, 1'000'000, r.times);
    double seconds = 0;
    number(t, "seconds", seconds);
    r.greylist = std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
    integer(t, "after_bytes", 0, std::numeric_limits<std::int64_t>::max(), r.after_bytes);
    milliseconds(t, "delay_ms", r.delay);
    return r;
  }

 private:
  std::string source_;
};

}  // namespace

std::optional<smtp::Reply> parse_reply(std::string_view line) {
  if (line.find_first_of("\r\n") != std::string_view::npos) return std::nullopt;
  smtp::ReplyParser parser;
  parser.feed(line);
  parser.feed("\r\n");
  return parser.next();
}

std::optional<smtp::Reply> Script::refusal(Stage stage) const {
  const auto it = refuse.find(stage);
  if (it == refuse.end()) return std::nullopt;
  return it->second;
}

bool Script::answers_at(Stage stage) const {
  auto answers = [stage](const Rule& r) { return r.stage == stage; };
  return refuse.count(stage) > 0 || answers(fallback) ||
         std::any_of(addresses.begin(), addresses.end(), [&](const auto& e) { return answers(e.second); }) ||
         std::any_of(domains.begin(), domains.end(), [&](const auto& e) { return answers(e.second); });
}

const Rule& Script::rule_for(std::string_view recipient) const {
  if (addresses.empty() && domains.empty()) return fallback;
  const auto key = lower(recipient);
  if (auto it = addresses.find(key); it != addresses.end()) return it->second;
  const auto at = key.rfind('@');
  if (at != std::string::npos)
    if (auto it = domains.find(key.substr(at + 1)); it != domains.end()) return it->second;
  return fallback;
}

Script Script::parse(std::string_view text, std::string_view source) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    throw std::runtime_error(std::string(source) + ":" + std::to_string(e.source().begin.line) + ": " +
                             std::string(e.description()));
  }
  const Reader in(source);
  in.only_keys(root, {"hostname", "max_message_size", "max_recipients", "max_concurrent", "max_concurrent_per_ip",
                      "rate", "rate_action", "delay_ms", "idle_timeout_s", "pipelining", "chunking", "default",
                      "rule", "bounce_to", "refuse"});
  Script s;
  if (auto h = in.string(root, "hostname")) {
    if (h->empty() || h->find_first_of(" \t\r\n") != std::string::npos)
      in.fail(*root.get("hostname"), "hostname", "expected a host name");
    s.hostname = *h;
  }
  in.integer(root, "max_message_size", 1, 1LL << 40, s.max_message_size);
  in.integer(root, "max_recipients", 1, 1'000'000, s.max_recipients);
  in.integer(root, "max_concurrent", 0, 1'000'000, s.max_concurrent);
  in.integer(root, "max_concurrent_per_ip", 0, 1'000'000, s.max_concurrent_per_ip);
  in.number(root, "rate", s.rate);
  s.rate_close = in.choice<bool>(root, "rate_action", {{"defer", false}, {"close", true}}, false);
  in.milliseconds(root, "delay_ms", s.delay);
  std::int64_t idle = s.idle_timeout.count();
  in.integer(root, "idle_timeout_s", 1, 86'400, idle);
  s.idle_timeout = std::chrono::seconds(idle);
  in.boolean(root, "pipelining", s.pipelining);
  in.boolean(root, "chunking", s.chunking);
  if (auto b = in.string(root, "bounce_to")) s.bounce_to = *b;

  if (const auto* node = root.get("refuse")) {
    const auto* t = node->as_table();
    if (!t) in.fail(*node, "refuse", "expected a table of stage = \"reply\"");
    for (const auto& [key, value] : *t) {
      const auto stage = smtp::parse_stage(key.str());
      if (!stage)
        in.fail(value, key.str(), "unknown stage (expected greeting, ehlo, mail, rcpt, data or end_of_data)");
      const auto* text = value.as_string();
      const auto reply = text ? parse_reply(text->get()) : std::nullopt;
      if (!reply || reply->code < 400) in.fail(value, key.str(), "expected a 4xx or 5xx reply such as \"550 5.7.1 Refused\"");
      s.refuse.emplace(*stage, *reply);
    }
  }
  if (const auto* node = root.get("default")) {
    const auto* t = node->as_table();
    if (!t) in.fail(*node, "default", "expected a table");
    in.only_keys(*t, {"action", "stage", "reply", "times", "seconds", "after_bytes", "delay_ms"});
    s.fallback = in.rule(*t);
  }
  if (const auto* node = root.get("rule")) {
    const auto* rules = node->as_array();
    if (!rules) in.fail(*node, "rule", "expected [[rule]] tables");
    for (const auto& item : *rules) {
      const auto* t = item.as_table();
      if (!t) in.fail(item, "rule", "expected a table");
      in.only_keys(*t, {"match", "action", "stage", "reply", "times", "seconds", "after_bytes", "delay_ms"});
      const auto match = in.string(*t, "match");
      if (!match || match->empty()) in.fail(item, "match", "every rule needs a recipient address or domain");
      auto& table = match->find('@') == std::string::npos ? s.domains : s.addresses;
      if (!table.emplace(lower(*match), in.rule(*t)).second) in.fail(item, "match", "\"" + *match + "\" twice");
    }
  }
  auto bounces = [](const auto& rules) {
    return std::any_of(rules.begin(), rules.end(), [](const auto& e) { return e.second.action == Action::bounce_later; });
  };
  if (s.bounce_to.empty() && (s.fallback.action == Action::bounce_later || bounces(s.domains) || bounces(s.addresses)))
    in.fail(root, "bounce_to", "action \"bounce_later\" needs bounce_to = \"host:port\" (where DSNs are sent)");
  return s;
}

}  // namespace volley::receiver
