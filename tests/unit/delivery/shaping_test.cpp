#include <catch2/catch.hpp>

#include <functional>

#include "core/delivery/shaping.hpp"

using namespace std::chrono_literals;
using volley::delivery::Limits;
using volley::delivery::LimitsOverride;
using volley::delivery::Rate;
using volley::delivery::resolve_shaping;
using volley::delivery::ShapingPolicy;

namespace {

const std::vector<std::string> kGmailMx = {"gmail-smtp-in.l.google.com", "alt1.gmail-smtp-in.l.google.com."};
const std::vector<std::string> kOutlookMx = {"example-org.mail.protection.outlook.com"};
const std::vector<std::string> kOwnMx = {"mx1.example.net", "mx2.example.net"};

ShapingPolicy providers_only() {
  ShapingPolicy p;
  p.providers.push_back({"google", {".google.com", ".googlemail.com"}, {}});
  p.providers.push_back({"microsoft", {"protection.outlook.com"}, {}});
  p.providers.push_back({"yahoo", {".yahoodns.net"}, {}});
  return p;
}

}  // namespace

TEST_CASE("every field of a layer overrides only itself") {
  const Limits base;
  // One setter per field: the override sets it, and the result differs from the base in that field only.
  const std::vector<std::function<void(LimitsOverride&, Limits&)>> fields = {
      [](auto& o, auto& l) { l.max_connections = *(o.max_connections = 3); },
      [](auto& o, auto& l) { l.max_connection_rate = *(o.max_connection_rate = Rate{5, 1'000}); },
      [](auto& o, auto& l) { l.max_message_rate = *(o.max_message_rate = Rate{50, 1'000}); },
      [](auto& o, auto& l) { l.max_messages_per_connection = *(o.max_messages_per_connection = 7); },
      [](auto& o, auto& l) { l.max_recipients_per_transaction = *(o.max_recipients_per_transaction = 9); },
      [](auto& o, auto& l) { l.idle_timeout = *(o.idle_timeout = 2s); },
      [](auto& o, auto& l) { l.retry.first = *(o.retry_first = 60s); },
      [](auto& o, auto& l) { l.retry.max_interval = *(o.retry_max_interval = 7200s); },
      [](auto& o, auto& l) { l.retry.max_age = *(o.max_age = 86400s); },
      [](auto& o, auto& l) { l.retry.greylist = *(o.greylist_retry = std::vector{60s, 300s}); },
      [](auto& o, auto& l) { l.backoff.cooldown = *(o.rate_limit_cooldown = 600s); },
      [](auto& o, auto& l) { l.backoff.recovery_step = *(o.rate_limit_recovery_step = 30s); },
  };
  LimitsOverride everything;
  Limits expected_all = base;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    INFO("field " << i);
    LimitsOverride one;
    Limits expected = base;
    fields[i](one, expected);
    REQUIRE_FALSE(expected == base);
    Limits got = base;
    one.apply_to(got);
    CHECK(got == expected);
    fields[i](everything, expected_all);
  }
  Limits got = base;
  LimitsOverride{}.apply_to(got);
  CHECK(got == base);
  everything.apply_to(got);
  CHECK(got == expected_all);
}

TEST_CASE("domains whose MX hosts all belong to a provider share its rollup key") {
  const auto p = providers_only();
  auto gmail = resolve_shaping(p, "gmail.com", kGmailMx, "");
  auto googlemail = resolve_shaping(p, "GoogleMail.com.", kGmailMx, "");
  CHECK(gmail.provider == "google");
  CHECK(gmail.rollup_key == "google");
  CHECK(googlemail.rollup_key == "google");
  CHECK(resolve_shaping(p, "example.org", kOutlookMx, "").rollup_key == "microsoft");
  CHECK(resolve_shaping(p, "yahoo.com", std::vector<std::string>{"MTA5.AM0.YAHOODNS.NET"}, "").rollup_key ==
        "yahoo");

  // Its own MX, a mix with one of its own, a look-alike name, or no MX at all: the domain itself.
  for (const auto& mx : {kOwnMx, std::vector<std::string>{"aspmx.l.google.com", "backup.example.net"},
                         std::vector<std::string>{"mx.evilgoogle.com"}, std::vector<std::string>{}}) {
    auto s = resolve_shaping(p, "Example.NET", mx, "");
    CHECK(s.rollup_key == "example.net");
    CHECK(s.provider.empty());
    CHECK(s.limits == p.defaults);
  }
  // The suffix's own name is covered too.
  CHECK(resolve_shaping(p, "a.test", std::vector<std::string>{"google.com"}, "").provider == "google");
}

TEST_CASE("the first provider whose suffixes match wins") {
  auto p = providers_only();
  p.providers.insert(p.providers.begin(), volley::delivery::ProviderRule{"google-workspace", {"aspmx.l.google.com"}, {}});
  CHECK(resolve_shaping(p, "corp.test", std::vector<std::string>{"aspmx.l.google.com"}, "").provider ==
        "google-workspace");
  CHECK(resolve_shaping(p, "gmail.com", kGmailMx, "").provider == "google");
}

TEST_CASE("layers apply in order: defaults, provider, domain, source, source+provider, source+domain") {
  ShapingPolicy p = providers_only();
  p.defaults.max_connections = 8;
  p.defaults.max_message_rate = Rate{100, 1'000};
  p.providers[0].limits.max_connections = 20;
  p.providers[0].limits.retry_first = 60s;
  p.domains.push_back({"gmail.com", {}});
  p.domains[0].limits.max_message_rate = Rate{2000, 3'600'000};
  p.domains[0].limits.greylist_retry = std::vector{120s};
  // Listed narrowest first: the order of layers, not of the list, decides.
  p.sources.push_back({"ip2", "", "gmail.com", {}});
  p.sources[0].limits.max_recipients_per_transaction = 50;
  p.sources.push_back({"ip2", "google", "", {}});
  p.sources[1].limits.max_message_rate = Rate{50, 1'000};
  p.sources[1].limits.max_recipients_per_transaction = 10;
  p.sources.push_back({"ip2", "", "", {}});
  p.sources[2].limits.idle_timeout = 3s;
  p.sources[2].limits.max_message_rate = Rate{1, 1'000};
  p.sources.push_back({"ip1", "", "", {}});
  p.sources[3].limits.max_connections = 1;

  const auto destination = resolve_shaping(p, "gmail.com", kGmailMx, "");
  CHECK(destination.limits.max_connections == 20);                          // provider
  CHECK(destination.limits.max_message_rate == Rate{2000, 3'600'000});      // domain over default
  CHECK(destination.limits.retry.first == 60s);                             // provider
  CHECK(destination.limits.retry.greylist == std::vector{120s});            // domain
  CHECK(destination.limits.retry.max_interval == p.defaults.retry.max_interval);  // inherited
  CHECK(destination.limits.idle_timeout == p.defaults.idle_timeout);

  const auto ip2 = resolve_shaping(p, "gmail.com", kGmailMx, "ip2");
  CHECK(ip2.rollup_key == "google");
  CHECK(ip2.limits.max_connections == 20);
  CHECK(ip2.limits.idle_timeout == 3s);                          // source, all destinations
  CHECK(ip2.limits.max_message_rate == Rate{50, 1'000});         // source+provider over source
  CHECK(ip2.limits.max_recipients_per_transaction == 50);        // source+domain over source+provider
  CHECK(ip2.limits.retry.greylist == std::vector{120s});

  const auto ip2_googlemail = resolve_shaping(p, "googlemail.com", kGmailMx, "ip2");
  CHECK(ip2_googlemail.limits.max_message_rate == Rate{50, 1'000});
  CHECK(ip2_googlemail.limits.max_recipients_per_transaction == 10);
  CHECK(ip2_googlemail.limits.retry.greylist.empty());

  const auto ip2_elsewhere = resolve_shaping(p, "example.net", kOwnMx, "ip2");
  CHECK(ip2_elsewhere.limits.max_connections == 8);
  CHECK(ip2_elsewhere.limits.max_message_rate == Rate{1, 1'000});
  CHECK(ip2_elsewhere.limits.max_recipients_per_transaction == p.defaults.max_recipients_per_transaction);

  CHECK(resolve_shaping(p, "example.net", kOwnMx, "ip1").limits.max_connections == 1);
  CHECK(resolve_shaping(p, "example.net", kOwnMx, "ip3").limits == p.defaults);
}
