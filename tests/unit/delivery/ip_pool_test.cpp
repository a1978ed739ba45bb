#include <catch2/catch.hpp>

#include <map>

#include "core/delivery/ip_pool.hpp"

using volley::delivery::choose_pool;
using volley::delivery::IpPools;
using volley::delivery::Pool;
using volley::delivery::SourceSelector;

namespace {

IpPools configured() {
  IpPools p;
  p.sources = {{"ip1", "192.0.2.1", "o1.mta.example.com"},
               {"ip2", "192.0.2.2", "o2.mta.example.com"},
               {"ip3", "2001:db8::3", "o3.mta.example.com"}};
  p.pools = {{"shared", {{"ip1", 3}, {"ip2", 1}}},
             {"dedicated-acme", {{"ip3", 1}}},
             {"all", {{"ip1", 5}, {"ip2", 2}, {"ip3", 1}}}};
  p.rules = {{"acme", "", "dedicated-acme"}, {"", "news.example.org", "all"}, {"globex", "globex.example", "all"}};
  p.default_pool = "shared";
  return p;
}

std::vector<std::string> picks(SourceSelector& selector, std::size_t n, std::int64_t now_ms = 0) {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < n; ++i) {
    const auto* s = selector.next(now_ms);
    names.push_back(s ? s->name : "-");
  }
  return names;
}

}  // namespace

TEST_CASE("a message's pool: the one asked for, else the first matching rule, else the default") {
  const auto p = configured();
  CHECK(choose_pool(p, "all", "acme", "acme.example")->name == "all");
  CHECK(choose_pool(p, "nope", "acme", "acme.example") == nullptr);  // the API answers 400
  CHECK(choose_pool(p, "", "acme", "whatever.example")->name == "dedicated-acme");
  CHECK(choose_pool(p, "", "initech", "News.Example.ORG")->name == "all");
  CHECK(choose_pool(p, "", "acme", "news.example.org")->name == "dedicated-acme");  // first match wins
  CHECK(choose_pool(p, "", "globex", "other.example")->name == "shared");          // both must match
  CHECK(choose_pool(p, "", "globex", "globex.example")->name == "all");
  CHECK(choose_pool(p, "", "", "")->name == "shared");
}

TEST_CASE("with no pools configured, mail leaves as before: no bind, the usual EHLO name") {
  const auto p = IpPools::builtin("mta.example.net");
  const auto* pool = choose_pool(p, "", "acme", "acme.example");
  REQUIRE(pool != nullptr);
  CHECK(pool->name == "default");
  SourceSelector selector(p, *pool);
  const auto* source = selector.next(0);
  REQUIRE(source != nullptr);
  CHECK(source->address.empty());
  CHECK(source->ehlo_name == "mta.example.net");
  CHECK(choose_pool(p, "default", "", "") == pool);
  CHECK(choose_pool(p, "shared", "", "") == nullptr);
}

TEST_CASE("sources are picked smoothly, exactly in proportion to their weights") {
  const auto p = configured();
  SourceSelector shared(p, *p.pool("shared"));
  CHECK(picks(shared, 8) == std::vector<std::string>{"ip1", "ip1", "ip2", "ip1", "ip1", "ip1", "ip2", "ip1"});

  SourceSelector all(p, *p.pool("all"));
  const auto sequence = picks(all, 8 * 50);
  // Every run of 8 consecutive picks, wherever it starts, holds 5 ip1, 2 ip2 and 1 ip3.
  for (std::size_t start = 0; start + 8 <= sequence.size(); ++start) {
    std::map<std::string, int> count;
    for (std::size_t i = start; i < start + 8; ++i) ++count[sequence[i]];
    INFO("picks from " << start);
    REQUIRE(count == std::map<std::string, int>{{"ip1", 5}, {"ip2", 2}, {"ip3", 1}});
  }
  // Deterministic: a fresh selector makes the same choices.
  SourceSelector again(p, *p.pool("all"));
  CHECK(picks(again, 8 * 50) == sequence);
}

TEST_CASE("suspended and failing sources sit out, the rest share by weight") {
  const auto p = configured();
  SourceSelector all(p, *p.pool("all"));
  all.suspend("ip1");
  std::map<std::string, int> count;
  for (const auto& name : picks(all, 30)) ++count[name];
  CHECK(count == std::map<std::string, int>{{"ip2", 20}, {"ip3", 10}});

  all.mark_failing("ip2", 1'000);
  CHECK(picks(all, 3, 999) == std::vector<std::string>{"ip3", "ip3", "ip3"});
  all.mark_failing("ip3", 2'000);
  CHECK(all.next(999) == nullptr);  // every source out: the caller defers
  CHECK(all.next(1'000)->name == "ip2");  // failing until 1000 means usable from 1000
  all.resume("ip1");
  count.clear();
  for (const auto& name : picks(all, 7 * 20, 1'500)) ++count[name];
  CHECK(count == std::map<std::string, int>{{"ip1", 100}, {"ip2", 40}});
  all.suspend("unknown");  // harmless
  CHECK(all.next(2'000) != nullptr);
}
