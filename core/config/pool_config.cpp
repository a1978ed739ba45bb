#include "core/config/pool_config.hpp"
#include "core/util/ascii.hpp"

#include <algorithm>
#include <vector>

namespace volley::config_detail {
namespace {

constexpr std::int64_t kMaxWeight = 1000;

Parse<std::string> ip_address() {
  return [](const toml::node& node, std::string* out, std::string* why) {
    const auto* s = node.as_string();
    std::string_view ip = s ? std::string_view(s->get()) : std::string_view();
    if (ip.size() > 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
    if (s == nullptr || !(is_ipv4_literal(ip) || is_ipv6_literal(ip))) {
      *why = "expected an IPv4 or IPv6 address such as \"192.0.2.1\" or \"2001:db8::1\", got " + describe(node);
      return false;
    }
    *out = util::ascii_lower(ip);
    return true;
  };
}

Parse<std::string> ehlo_name() {
  return string_that("a host name or an address literal such as \"[192.0.2.1]\"", is_ehlo_name);
}

struct Named {
  std::string name;
  const toml::node* node;  // where it was named, for the errors that refer to it later
};

bool contains(const std::vector<Named>& list, const std::string& name) {
  return std::any_of(list.begin(), list.end(), [&](const Named& n) { return n.name == name; });
}

class PoolsReader {
 public:
  PoolsReader(Problems& problems, const std::string& ehlo_name) : problems_(problems), ehlo_name_(ehlo_name) {}

  void source(const toml::table& table) {
    TableReader r(problems_, table, "[[source]]");
    delivery::Source source{{}, {}, ehlo_name_};
    const auto* name = r.read("name", &source.name, name_token());
    const auto* address = r.read("address", &source.address, ip_address());
    r.read("ehlo_name", &source.ehlo_name, ehlo_name());
    r.reject_unknown_keys();
    if (name == nullptr) r.report_table("name", "missing (every [[source]] needs a name and an address)");
    if (address == nullptr) r.report_table("address", "missing (every [[source]] needs a name and an address)");
    if (name == nullptr || source.name.empty() || address == nullptr || source.address.empty()) return;
    if (pools_.source(source.name) != nullptr) {
      r.report(*name, "name", quoted(source.name) + " names another [[source]] already");
      return;
    }
    auto same = std::find_if(pools_.sources.begin(), pools_.sources.end(),
                             [&](const delivery::Source& s) { return s.address == source.address; });
    if (same != pools_.sources.end()) {
      r.report(*address, "address", quoted(source.address) + " is the address of source " + quoted(same->name));
      return;
    }
    source_names_.push_back({source.name, name});
    pools_.sources.push_back(std::move(source));
  }

  void pool(const toml::table& table) {
    TableReader r(problems_, table, "[[pool]]");
    delivery::Pool pool;
    const auto* name = r.read("name", &pool.name, name_token());
    r.accept("sources");
    const auto* members = table.get("sources");
    r.reject_unknown_keys();
    if (name == nullptr) r.report_table("name", "missing (every [[pool]] needs a name and sources)");
    if (members == nullptr) r.report_table("sources", "missing (every [[pool]] needs a name and sources)");
    if (members != nullptr) read_members(*members, pool);
    if (name == nullptr || pool.name.empty() || members == nullptr || pool.members.empty()) return;
    if (pools_.pool(pool.name) != nullptr) {
      r.report(*name, "name", quoted(pool.name) + " names another [[pool]] already");
      return;
    }
    pool_tables_.push_back(&table);
    pools_.pools.push_back(std::move(pool));
  }

  // Once every source and pool is known.
  void check_sources_used() {
    for (const auto& source : source_names_) {
      bool used = std::any_of(pools_.pools.begin(), pools_.pools.end(), [&](const delivery::Pool& p) {
        return std::any_of(p.members.begin(), p.members.end(),
                           [&](const delivery::PoolMember& m) { return m.source == source.name; });
      });
      if (!used) problems_.add(source.node->source(), "[[source]] name", quoted(source.name) + " is in no [[pool]]");
    }
  }

  // The pools in effect: the configured ones, or the built-in one when there are none.
  void finish_pools() {
    if (pools_.pools.empty() && pools_.sources.empty()) pools_ = delivery::IpPools::builtin(ehlo_name_);
  }

  void rule(const toml::table& table) {
    TableReader r(problems_, table, "[[pool_rule]]");
    delivery::PoolRule rule;
    const auto* tenant = r.read("tenant", &rule.tenant, name_token());
    const auto* sender_domain = r.read("sender_domain", &rule.sender_domain, domain_name());
    const auto* pool = r.read("pool", &rule.pool, name_token());
    r.reject_unknown_keys();
    if (tenant == nullptr && sender_domain == nullptr)
      r.report_table("tenant", "missing (every [[pool_rule]] needs a tenant, a sender_domain or both)");
    if (pool == nullptr) {
      r.report_table("pool", "missing (every [[pool_rule]] names the pool it chooses)");
    } else if (!rule.pool.empty() && pools_.pool(rule.pool) == nullptr) {
      r.report(*pool, "pool", "no [[pool]] named " + quoted(rule.pool));
    }
    pools_.rules.push_back(std::move(rule));
  }

  void default_pool(const std::string& name, const toml::node* node) {
    if (node != nullptr) {
      if (!name.empty() && pools_.pool(name) == nullptr)
        problems_.add(node->source(), "[delivery] default_pool", "no [[pool]] named " + quoted(name));
      pools_.default_pool = name;
    } else if (pool_tables_.size() == 1) {
      pools_.default_pool = pools_.pools.front().name;
    } else if (pool_tables_.size() > 1) {
      problems_.add(pool_tables_[1]->source(), "[delivery] default_pool",
                    "missing (required when there is more than one [[pool]])");
    }
  }

  delivery::IpPools take() { return std::move(pools_); }

 private:
  void read_members(const toml::node& node, delivery::Pool& pool) {
    const auto* array = node.as_array();
    if (array == nullptr || array->empty()) {
      problems_.add(node.source(), "[[pool]] sources",
                    "expected an array such as [{ name = \"ip1\", weight = 3 }, { name = \"ip2\" }], got " +
                        describe(node));
      return;
    }
    for (const auto& element : *array) {
      const auto* table = element.as_table();
      if (table == nullptr) {
        problems_.add(element.source(), "[[pool]] sources",
                      "expected a table such as { name = \"ip1\", weight = 3 }, got " + describe(element));
        continue;
      }
      TableReader r(problems_, *table, "[[pool]] sources");
      delivery::PoolMember member;
      const auto* name = r.read("name", &member.source, name_token());
      r.read("weight", &member.weight, integer_in<std::uint32_t>(1, kMaxWeight));
      r.reject_unknown_keys();
      if (name == nullptr) {
        r.report_table("name", "missing (each of a pool's sources is { name = \"...\", weight = N })");
      } else if (!member.source.empty() && !contains(source_names_, member.source)) {
        r.report(*name, "name", "no [[source]] named " + quoted(member.source));
      } else if (std::any_of(pool.members.begin(), pool.members.end(),
                             [&](const delivery::PoolMember& m) { return m.source == member.source; })) {
        r.report(*name, "name", quoted(member.source) + " is in this pool already");
      } else if (!member.source.empty()) {
        pool.members.push_back(std::move(member));
      }
    }
  }

  Problems& problems_;
  const std::string& ehlo_name_;
  delivery::IpPools pools_;
  std::vector<Named> source_names_;
  std::vector<const toml::table*> pool_tables_;
};

}  // namespace

delivery::IpPools read_pools(const toml::table& root, const std::string& default_pool,
                             const toml::node* default_pool_node, const std::string& ehlo_name, Problems& problems) {
  PoolsReader reader(problems, ehlo_name);
  if (const auto* n = root.get("source"))
    for_each_table(*n, "source", "[[source]]", "name, address and ehlo_name", problems,
                   [&](const toml::table& t) { reader.source(t); });
  if (const auto* n = root.get("pool"))
    for_each_table(*n, "pool", "[[pool]]", "name and sources", problems, [&](const toml::table& t) { reader.pool(t); });
  reader.check_sources_used();
  reader.finish_pools();
  if (const auto* n = root.get("pool_rule"))
    for_each_table(*n, "pool_rule", "[[pool_rule]]", "tenant, sender_domain and pool", problems,
                   [&](const toml::table& t) { reader.rule(t); });
  reader.default_pool(default_pool, default_pool_node);
  return reader.take();
}

}  // namespace volley::config_detail
