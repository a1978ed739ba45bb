#include "receiver_script.hpp"
#include "core/util/ascii.hpp"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <stdexcept>

#include <toml++/toml.h>

#include "core/toml/table_reader.hpp"

namespace volley::receiver {

namespace {

using util::ascii_lower;

using toml_file::integer_in;
using toml_file::Parse;
using toml_file::Problems;
using toml_file::TableReader;

// Values as the script's errors describe them ("key: expected ..."); the tables are read by the
// shared TOML reader (core/toml), which names the file and line of every problem and refuses keys
// it does not know, so a misspelt behaviour fails the test that wrote it instead of silently
// accepting everything.
Parse<double> non_negative_number() {
  return [](const toml::node& node, double* out, std::string* why) {
    const auto v = node.value<double>();
    if (!v || !std::isfinite(*v) || *v < 0) {
      *why = "expected a number >= 0";
      return false;
    }
    *out = *v;
    return true;
  };
}

Parse<bool> boolean() {
  return [](const toml::node& node, bool* out, std::string* why) {
    if (!node.is_boolean()) {
      *why = "expected true or false";
      return false;
    }
    *out = node.as_boolean()->get();
    return true;
  };
}

Parse<std::string> string() {
  return [](const toml::node& node, std::string* out, std::string* why) {
    if (!node.is_string()) {
      *why = "expected a string";
      return false;
    }
    *out = node.as_string()->get();
    return true;
  };
}

template <class T>
Parse<T> choice(std::initializer_list<std::pair<std::string_view, T>> options) {
  std::vector<std::pair<std::string_view, T>> list(options);
  return [list](const toml::node& node, T* out, std::string* why) {
    if (const auto* text = node.as_string()) {
      for (const auto& [name, value] : list) {
        if (text->get() == name) {
          *out = value;
          return true;
        }
      }
    }
    std::string names;
    for (const auto& [name, value] : list) names += (names.empty() ? "" : ", ") + std::string(name);
    *why = "expected one of " + names;
    return false;
  };
}

Parse<std::chrono::milliseconds> milliseconds() {
  return [](const toml::node& node, std::chrono::milliseconds* out, std::string* why) {
    std::int64_t ms = 0;
    if (!integer_in<std::int64_t>(0, 3'600'000)(node, &ms, why)) return false;
    *out = std::chrono::milliseconds(ms);
    return true;
  };
}

// The keys of a [default] or [[rule]] table (match: only a [[rule]]'s, read by the caller).
Rule read_rule(TableReader& r) {
  const toml::table& t = r.table();
  Rule rule;
  r.read("action", &rule.action,
         choice<Action>({{"accept", Action::accept},
                         {"reject", Action::reject},
                         {"tempfail", Action::tempfail},
                         {"greylist", Action::greylist},
                         {"drop", Action::drop},
                         {"bounce_later", Action::bounce_later}}));
  if (const auto* stage = r.read("stage", &rule.stage,
                                 choice<Stage>({{"rcpt", Stage::rcpt}, {"data", Stage::data}, {"end_of_data", Stage::end_of_data}}));
      stage && rule.stage != Stage::rcpt && rule.action != Action::reject && rule.action != Action::tempfail)
    r.report(*stage, "stage", "only reject and tempfail can answer at data or end_of_data");
  const char* default_reply = rule.action == Action::bounce_later
                                  ? "550 5.1.1 The email account that you tried to reach does not exist"
                              : rule.action == Action::reject   ? "550 5.7.1 Rejected by script"
                              : rule.action == Action::greylist ? "451 4.7.1 Greylisted, please retry later"
                                                                : "451 4.3.0 Temporary failure, try again later";
  std::string text = default_reply;
  const auto* reply_node = r.read("reply", &text, string());
  const auto reply = parse_reply(text);
  const int wanted = rule.action == Action::reject || rule.action == Action::bounce_later ? 5 : 4;
  if (!reply || (rule.action != Action::accept && rule.action != Action::drop && reply->code / 100 != wanted))
    r.report(reply_node ? *reply_node : static_cast<const toml::node&>(t), "reply",
             "expected a " + std::to_string(wanted) + "xx reply such as \"" + default_reply + "\"");
  if (reply) rule.reply = *reply;
  r.read("times", &rule.times, integer_in<int>(0, 1'000'000));
  double seconds = 0;
  r.read("seconds", &seconds, non_negative_number());
  rule.greylist = std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
  r.read("after_bytes", &rule.after_bytes, integer_in<std::uint64_t>(0, std::numeric_limits<std::int64_t>::max()));
  r.read("delay_ms", &rule.delay, milliseconds());
  return rule;
}

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
  const auto key = ascii_lower(recipient);
  if (auto it = addresses.find(key); it != addresses.end()) return it->second;
  const auto at = key.rfind('@');
  if (at != std::string::npos)
    if (auto it = domains.find(key.substr(at + 1)); it != domains.end()) return it->second;
  return fallback;
}

Script Script::parse(std::string_view text, std::string_view source) {
  Problems problems(source);
  const auto root = toml_file::parse_document(text, source, problems);
  if (!root) throw std::runtime_error(problems.report());
  Script s;
  TableReader in(problems, *root, "");
  if (const auto* node = in.read("hostname", &s.hostname, string());
      node && (s.hostname.empty() || s.hostname.find_first_of(" \t\r\n") != std::string::npos))
    in.report(*node, "hostname", "expected a host name");
  in.read("max_message_size", &s.max_message_size, integer_in<std::uint64_t>(1, 1LL << 40));
  in.read("max_recipients", &s.max_recipients, integer_in<std::size_t>(1, 1'000'000));
  in.read("max_concurrent", &s.max_concurrent, integer_in<std::size_t>(0, 1'000'000));
  in.read("max_concurrent_per_ip", &s.max_concurrent_per_ip, integer_in<std::size_t>(0, 1'000'000));
  in.read("rate", &s.rate, non_negative_number());
  in.read("rate_action", &s.rate_close, choice<bool>({{"defer", false}, {"close", true}}));
  in.read("delay_ms", &s.delay, milliseconds());
  std::int64_t idle = s.idle_timeout.count();
  in.read("idle_timeout_s", &idle, integer_in<std::int64_t>(1, 86'400));
  s.idle_timeout = std::chrono::seconds(idle);
  in.read("pipelining", &s.pipelining, boolean());
  in.read("chunking", &s.chunking, boolean());
  in.read("bounce_to", &s.bounce_to, string());

  in.accept("refuse");
  if (const auto* node = root->get("refuse")) {
    const auto* t = node->as_table();
    if (!t) in.report(*node, "refuse", "expected a table of stage = \"reply\"");
    const toml::table none;
    for (const auto& [key, value] : t ? *t : none) {
      const auto stage = smtp::parse_stage(key.str());
      if (!stage) {
        in.report(value, key.str(), "unknown stage (expected greeting, ehlo, mail, rcpt, data or end_of_data)");
        continue;
      }
      const auto* reply_text = value.as_string();
      const auto reply = reply_text ? parse_reply(reply_text->get()) : std::nullopt;
      if (!reply || reply->code < 400) {
        in.report(value, key.str(), "expected a 4xx or 5xx reply such as \"550 5.7.1 Refused\"");
        continue;
      }
      s.refuse.emplace(*stage, *reply);
    }
  }
  in.accept("default");
  if (const auto* node = root->get("default")) {
    if (const auto* t = node->as_table()) {
      TableReader r(problems, *t, "");
      s.fallback = read_rule(r);
      r.reject_unknown_keys();
    } else {
      in.report(*node, "default", "expected a table");
    }
  }
  in.accept("rule");
  if (const auto* node = root->get("rule")) {
    const auto* rules = node->as_array();
    if (!rules) in.report(*node, "rule", "expected [[rule]] tables");
    const toml::array none;
    for (const auto& item : rules ? *rules : none) {
      const auto* t = item.as_table();
      if (!t) {
        in.report(item, "rule", "expected a table");
        continue;
      }
      TableReader r(problems, *t, "");
      std::string match;
      r.read("match", &match, string());
      Rule rule = read_rule(r);
      r.reject_unknown_keys();
      if (match.empty()) {
        r.report(item, "match", "every rule needs a recipient address or domain");
        continue;
      }
      auto& table = match.find('@') == std::string::npos ? s.domains : s.addresses;
      if (!table.emplace(ascii_lower(match), std::move(rule)).second) r.report(item, "match", "\"" + match + "\" twice");
    }
  }
  in.reject_unknown_keys();
  auto bounces = [](const auto& rules) {
    return std::any_of(rules.begin(), rules.end(), [](const auto& e) { return e.second.action == Action::bounce_later; });
  };
  if (s.bounce_to.empty() && (s.fallback.action == Action::bounce_later || bounces(s.domains) || bounces(s.addresses)))
    in.report(*root, "bounce_to", "action \"bounce_later\" needs bounce_to = \"host:port\" (where DSNs are sent)");
  if (!problems.empty()) throw std::runtime_error(problems.report());
  return s;
}

}  // namespace volley::receiver
