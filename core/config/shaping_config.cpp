#include "core/config/shaping_config.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

#include "core/delivery/rate.hpp"
#include "core/util/ascii.hpp"

namespace volley::config_detail {
namespace {

using std::chrono::seconds;

constexpr seconds kDay{24 * 3600};
constexpr std::size_t kMaxGreylistDelays = 20;
constexpr std::size_t kMaxSuffixes = 32;

}  // namespace

Parse<delivery::Rate> rate() {
  return [](const toml::node& node, delivery::Rate* out, std::string* why) {
    const auto* s = node.as_string();
    auto parsed = s ? delivery::parse_rate(s->get()) : std::nullopt;
    if (!parsed) {
      *why = "expected a rate such as \"100/s\", \"30/m\", \"2000/h\" or \"5000/d\" (a whole number from 1 to " +
             std::to_string(delivery::kMaxRateCount) + " per second, minute, hour or day) or \"unlimited\", got " +
             describe(node);
      return false;
    }
    *out = *parsed;
    return true;
  };
}

namespace {

Parse<tls::Mode> tls_mode() {
  return [](const toml::node& node, tls::Mode* out, std::string* why) {
    const auto* s = node.as_string();
    auto parsed = s ? tls::parse_mode(s->get()) : std::nullopt;
    if (!parsed) {
      *why = "expected \"opportunistic\", \"opportunistic_verify\", \"required\", \"required_insecure\" or "
             "\"disabled\", got " + describe(node);
      return false;
    }
    *out = *parsed;
    return true;
  };
}

Parse<std::vector<seconds>> delays() {
  return list_of(duration_in(seconds{1}, kDay), kMaxGreylistDelays, "durations", "[\"5m\", \"10m\", \"20m\"]");
}

// Provider names become rollup keys next to domain names: no dots, so never one of them.
Parse<std::string> provider_name() {
  return string_that("a provider name of 1 to 64 lower-case letters, digits, '_' or '-'", [](std::string_view s) {
    return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
  });
}

// Kept as ".example.com" (lower case), however written.
Parse<std::vector<std::string>> mx_suffixes() {
  return [](const toml::node& node, std::vector<std::string>* out, std::string* why) {
    const auto* array = node.as_array();
    std::vector<std::string> list;
    for (std::size_t i = 0; array != nullptr && i < array->size(); ++i) {
      const auto* s = array->get(i)->as_string();
      std::string_view suffix = s ? std::string_view(s->get()) : std::string_view();
      if (suffix.starts_with('.')) suffix.remove_prefix(1);
      if (suffix.ends_with('.')) suffix.remove_suffix(1);
      if (!is_host_name(suffix)) break;
      list.push_back("." + util::ascii_lower(suffix));
    }
    if (array == nullptr || array->empty() || array->size() > kMaxSuffixes || list.size() != array->size()) {
      *why = "expected an array of 1 to " + std::to_string(kMaxSuffixes) +
             " host-name suffixes such as [\".google.com\", \".googlemail.com\"], got " +
             (array != nullptr && list.size() < array->size() ? describe(*array->get(list.size())) : describe(node));
      return false;
    }
    *out = std::move(list);
    return true;
  };
}

const toml::node* node_of(const LimitsLayer& layer, std::string_view key) {
  auto it = layer.nodes.find(key);
  return it == layer.nodes.end() ? nullptr : it->second;
}

std::string shorter_than_first(seconds first) {
  return "must not be shorter than retry_first (" + format_duration(first) + ")";
}

// Within one table; across layers the delay simply never goes below retry_first.
void check_retry_order(const LimitsLayer& layer, Problems& problems) {
  const auto& v = layer.values;
  const auto* max_interval = node_of(layer, "retry_max_interval");
  if (v.retry_first && v.retry_max_interval && *v.retry_max_interval < *v.retry_first && max_interval != nullptr)
    problems.add(max_interval->source(), layer.section + " retry_max_interval",
                 shorter_than_first(*v.retry_first) + ", got " + describe(*max_interval));
}

// The defaults layer: [delivery]'s keys, then [shaping.default]'s; never the same key in both.
delivery::Limits merge_defaults(const LimitsLayer& delivery, const LimitsLayer* shaping, Problems& problems) {
  delivery::Limits limits;
  delivery.values.apply_to(limits);
  if (shaping != nullptr) {
    for (const auto& [key, node] : shaping->nodes) {
      if (const auto* other = node_of(delivery, key))
        problems.add(node->source(), shaping->section + " " + std::string(key),
                     "also set in [delivery] on line " + std::to_string(other->source().begin.line) +
                         " (set it in one of them)");
    }
    shaping->values.apply_to(limits);
  }
  if (limits.retry.max_interval >= limits.retry.first) return limits;
  const LimitsLayer* with_max = nullptr;
  const LimitsLayer* with_first = nullptr;
  for (const auto* layer : {shaping, &delivery}) {
    if (layer == nullptr) continue;
    if (with_max == nullptr && node_of(*layer, "retry_max_interval")) with_max = layer;
    if (with_first == nullptr && node_of(*layer, "retry_first")) with_first = layer;
  }
  const auto message = shorter_than_first(limits.retry.first);
  if (with_max != nullptr) {
    const auto* node = node_of(*with_max, "retry_max_interval");
    problems.add(node->source(), with_max->section + " retry_max_interval", message + ", got " + describe(*node));
  } else if (with_first != nullptr) {
    problems.add(with_first->table->source(), with_first->section + " retry_max_interval",
                 message + ", and its default is " + format_duration(limits.retry.max_interval));
  }
  return limits;
}

class ShapingReader {
 public:
  ShapingReader(Problems& problems, const delivery::IpPools& pools) : problems_(problems), pools_(pools) {}

  void provider(const toml::table& table) {
    TableReader r(problems_, table, "[[shaping.provider]]");
    delivery::ProviderRule rule;
    const auto* name = r.read("name", &rule.name, provider_name());
    const auto* suffixes = r.read("mx_suffixes", &rule.mx_suffixes, mx_suffixes());
    rule.limits = limits(r);
    if (name == nullptr) r.report_table("name", "missing (every [[shaping.provider]] needs a name and mx_suffixes)");
    if (suffixes == nullptr)
      r.report_table("mx_suffixes", "missing (every [[shaping.provider]] needs a name and mx_suffixes)");
    if (name == nullptr || rule.name.empty()) return;
    if (std::any_of(policy_.providers.begin(), policy_.providers.end(),
                    [&](const delivery::ProviderRule& p) { return p.name == rule.name; })) {
      r.report(*name, "name", quoted(rule.name) + " names another [[shaping.provider]] already");
      return;
    }
    policy_.providers.push_back(std::move(rule));
  }

  void domain(const toml::table& table) {
    TableReader r(problems_, table, "[[shaping.domain]]");
    delivery::DomainRule rule;
    const auto* domain = r.read("domain", &rule.domain, domain_name());
    rule.limits = limits(r);
    if (domain == nullptr) {
      r.report_table("domain", "missing (every [[shaping.domain]] needs a domain)");
    } else if (std::any_of(policy_.domains.begin(), policy_.domains.end(),
                           [&](const delivery::DomainRule& d) { return d.domain == rule.domain; })) {
      r.report(*domain, "domain", quoted(rule.domain) + " has a [[shaping.domain]] already");
    } else if (!rule.domain.empty()) {
      policy_.domains.push_back(std::move(rule));
    }
  }

  void source(const toml::table& table) {
    TableReader r(problems_, table, "[[shaping.source]]");
    delivery::SourceRule rule;
    const auto* source = r.read("source", &rule.source, name_token());
    const auto* provider = r.read("provider", &rule.provider, provider_name());
    const auto* domain = r.read("domain", &rule.domain, domain_name());
    rule.limits = limits(r);
    if (source == nullptr) {
      r.report_table("source", "missing (every [[shaping.source]] names its source)");
    } else if (!rule.source.empty() && pools_.source(rule.source) == nullptr) {
      r.report(*source, "source", "no [[source]] named " + quoted(rule.source));
    }
    if (provider != nullptr && domain != nullptr) {
      r.report(*domain, "domain", "a [[shaping.source]] names a provider or a domain, not both");
    } else if (provider != nullptr && !rule.provider.empty() &&
               std::none_of(policy_.providers.begin(), policy_.providers.end(),
                            [&](const delivery::ProviderRule& p) { return p.name == rule.provider; })) {
      r.report(*provider, "provider", "no [[shaping.provider]] named " + quoted(rule.provider));
    }
    auto same = [&](const delivery::SourceRule& s) {
      return s.source == rule.source && s.provider == rule.provider && s.domain == rule.domain;
    };
    if (source != nullptr && std::any_of(policy_.sources.begin(), policy_.sources.end(), same)) {
      r.report(*source, "source", "another [[shaping.source]] is for the same source and destination");
      return;
    }
    policy_.sources.push_back(std::move(rule));
  }

  delivery::ShapingPolicy take(delivery::Limits defaults) {
    policy_.defaults = std::move(defaults);
    return std::move(policy_);
  }

 private:
  delivery::LimitsOverride limits(TableReader& r) {
    auto layer = read_limits(r, false);
    check_retry_order(layer, problems_);
    r.reject_unknown_keys();
    return layer.values;
  }

  Problems& problems_;
  const delivery::IpPools& pools_;
  delivery::ShapingPolicy policy_;
};

}  // namespace

LimitsLayer read_limits(TableReader& r, bool delivery_table) {
  LimitsLayer layer{{}, {}, r.section(), &r.table()};
  auto& v = layer.values;
  auto key = [&](std::string_view name, auto* field, const auto& parse) {
    if (const auto* node = r.read(name, field, parse)) layer.nodes[name] = node;
  };
  key("max_connections", &v.max_connections, integer_in<std::size_t>(1, 10'000));
  key("max_messages_per_connection", &v.max_messages_per_connection, integer_in<std::size_t>(1, 1'000'000));
  key("idle_timeout", &v.idle_timeout, duration_in(seconds{1}, seconds{3600}));
  key("retry_first", &v.retry_first, duration_in(seconds{1}, kDay));
  key("retry_max_interval", &v.retry_max_interval, duration_in(seconds{1}, 7 * kDay));
  key("max_age", &v.max_age, duration_in(seconds{1}, 30 * kDay));
  key("greylist_retry", &v.greylist_retry, delays());
  if (delivery_table) return layer;
  key("max_connection_rate", &v.max_connection_rate, rate());
  key("max_message_rate", &v.max_message_rate, rate());
  key("max_recipients_per_transaction", &v.max_recipients_per_transaction, integer_in<std::size_t>(1, 10'000));
  key("rate_limit_cooldown", &v.rate_limit_cooldown, duration_in(seconds{1}, kDay));
  key("rate_limit_recovery_step", &v.rate_limit_recovery_step, duration_in(seconds{1}, seconds{3600}));
  key("tls", &v.tls, tls_mode());
  return layer;
}

delivery::ShapingPolicy read_shaping(const toml::table* shaping, const LimitsLayer& delivery,
                                     const delivery::IpPools& pools, Problems& problems) {
  ShapingReader reader(problems, pools);
  if (shaping == nullptr) return reader.take(merge_defaults(delivery, nullptr, problems));

  TableReader top(problems, *shaping, "[shaping]");
  for (auto key : {"default", "provider", "domain", "source"}) top.accept(key);
  top.reject_unknown_keys();

  std::optional<LimitsLayer> defaults;
  if (const auto* t = subtable(*shaping, "default", "[shaping] default", "[shaping.default]", problems)) {
    TableReader r(problems, *t, "[shaping.default]");
    defaults = read_limits(r, false);
    r.reject_unknown_keys();
  }
  // Providers first: a [[shaping.source]] may name one.
  if (const auto* n = shaping->get("provider"))
    for_each_table(*n, "[shaping] provider", "[[shaping.provider]]", "name, mx_suffixes and limits", problems,
                   [&](const toml::table& t) { reader.provider(t); });
  if (const auto* n = shaping->get("domain"))
    for_each_table(*n, "[shaping] domain", "[[shaping.domain]]", "domain and limits", problems,
                   [&](const toml::table& t) { reader.domain(t); });
  if (const auto* n = shaping->get("source"))
    for_each_table(*n, "[shaping] source", "[[shaping.source]]", "source, provider or domain, and limits",
                   problems, [&](const toml::table& t) { reader.source(t); });
  return reader.take(merge_defaults(delivery, defaults ? &*defaults : nullptr, problems));
}

}  // namespace volley::config_detail
