// API keys: with [[api_key]] configured, /api/ needs a Bearer key, the key names the tenant of
// what it injects, and only admin keys may use queue control. Probes stay open.
#include <catch2/catch.hpp>

#include <string>

#include <nlohmann/json.hpp>

#include "receiver_fixture.hpp"
#include "volleyd_fixture.hpp"

using namespace volley::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// printf %s inject-secret-1 | sha256sum ; printf %s admin-secret-2 | sha256sum
const char* kKeys =
    "[[api_key]]\nname = \"app\"\ntenant = \"acme\"\n"
    "key_sha256 = \"835f6c88bfff60677c55929335f32e3380341c714c62d9baf5d84cca5cb82c11\"\n"
    "[[api_key]]\nname = \"ops\"\nadmin = true\n"
    "key_sha256 = \"dcb1b08f0acb7b53bfe9939165e70e9a20147ab617bffadfbfb6b0009968b145\"\n";

}  // namespace

TEST_CASE("API keys: 401 without one, tenant from the key, queue control for admin keys only",
          "[integration][auth]") {
  TempDir dir("volley-it-auth");
  SmtpReceiver receiver(dir / "receiver", "");
  VolleydOptions opts;
  opts.dns_port = 9;
  opts.smtp_port = 25;
  opts.routes.push_back(Route{"auth.test", "127.0.0.1", receiver.port()});
  opts.extra_toml = kKeys;
  Volleyd volleyd(dir / "volleyd", opts);
  const json message = {{"from", "a@volley.test"}, {"to", {"x@auth.test"}}, {"subject", "s"}, {"text", "t\n"}};

  auto anonymous = volleyd.client();
  CHECK(anonymous.get("/healthz").status == 200);
  CHECK(anonymous.get("/metrics").status == 200);
  const auto refused = anonymous.post_json("/api/v1/messages", message.dump());
  CHECK(refused.status == 401);
  CHECK(json::parse(refused.body)["error"]["code"] == "unauthorized");
  CHECK(anonymous.get("/api/v1/queues").status == 401);

  auto wrong = volleyd.client();
  wrong.set_bearer("inject-secret-2");
  CHECK(wrong.post_json("/api/v1/messages", message.dump()).status == 401);

  auto app = volleyd.client();
  app.set_bearer("inject-secret-1");
  const auto accepted = inject(app, message);
  CHECK(app.get("/api/v1/queues").status == 403);
  CHECK(app.post_json("/api/v1/queues/auth.test/suspend", "{}").status == 403);
  REQUIRE(wait_until([&] { return !events_for(volleyd.events(), "delivered", "x@auth.test").empty(); }, 30s, 50ms));
  CHECK(events_for(volleyd.events(), "delivered", "x@auth.test")[0].value("tenant", "") == "acme");

  auto ops = volleyd.client();
  ops.set_bearer("admin-secret-2");
  CHECK(ops.get("/api/v1/queues").status == 200);
  CHECK(ops.post_json("/api/v1/queues/auth.test/suspend", "{}").status == 200);
  CHECK(ops.get("/api/v1/messages/" + accepted.recipients[0].second).status == 200);
}
