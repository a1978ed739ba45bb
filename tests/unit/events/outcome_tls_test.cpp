// The delivered event's "tls": the session's protocol version, cipher, verification and the
// policy that decided, or null in clear text; other events have no "tls".
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "core/events/outcome.hpp"

using namespace volley;
using events::OutcomeKind;

TEST_CASE("delivered over TLS shows version, cipher, verified and policy") {
  events::Outcome o;
  o.kind = OutcomeKind::delivered;
  o.tls = events::TlsSummary{"TLSv1.3", "TLS_AES_256_GCM_SHA384", true, "mta-sts"};
  const auto j = nlohmann::json::parse(events::to_json(o));
  REQUIRE(j.contains("tls"));
  CHECK(j["tls"] == nlohmann::json{{"version", "TLSv1.3"},
                                   {"cipher", "TLS_AES_256_GCM_SHA384"},
                                   {"verified", true},
                                   {"policy", "mta-sts"}});
}

TEST_CASE("delivered in clear text has tls null, other events have no tls") {
  events::Outcome o;
  o.kind = OutcomeKind::delivered;
  auto j = nlohmann::json::parse(events::to_json(o));
  REQUIRE(j.contains("tls"));
  CHECK(j["tls"].is_null());
  for (auto kind : {OutcomeKind::deferred, OutcomeKind::bounced, OutcomeKind::expired}) {
    o.kind = kind;
    o.tls = events::TlsSummary{"TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", false, "opportunistic"};
    j = nlohmann::json::parse(events::to_json(o));
    CHECK_FALSE(j.contains("tls"));
  }
}
