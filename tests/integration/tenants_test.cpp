// Tenants are walls: two tenants with their own API keys and an admin key on one volleyd. An
// idempotency key is its tenant's and its endpoint's own, and a key reused with another body is
// refused; a tenant reads only its own messages and suppression entries (an admin key reads
// all); a message is read by its id with all its recipients; final statuses outlive a restart.
#include <catch2/catch.hpp>

#include <string>

#include <nlohmann/json.hpp>

#include "receiver_fixture.hpp"
#include "volleyd_fixture.hpp"

using namespace volley::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// printf %s <secret> | sha256sum
const char* kKeys =
    "[[api_key]]\nname = \"acme-app\"\ntenant = \"acme\"\n"  // inject-secret-1
    "key_sha256 = \"835f6c88bfff60677c55929335f32e3380341c714c62d9baf5d84cca5cb82c11\"\n"
    "[[api_key]]\nname = \"globex-app\"\ntenant = \"globex\"\n"  // tenant-b-secret-3
    "key_sha256 = \"4c9d15a527bf4b6806b16778a619b9133a134000f3dda72f38e28493c342f562\"\n"
    "[[api_key]]\nname = \"ops\"\nadmin = true\n"  // admin-secret-2
    "key_sha256 = \"dcb1b08f0acb7b53bfe9939165e70e9a20147ab617bffadfbfb6b0009968b145\"\n";

json message_to(std::vector<std::string> to, const std::string& subject = "s") {
  return {{"from", "a@volley.test"}, {"to", std::move(to)}, {"subject", subject}, {"text", "t\n"}};
}

// volleyd with the three keys, delivering tenants.test to an SMTP receiver that takes everything.
struct TenantsSetup {
  TempDir dir{"volley-it-tenants"};
  SmtpReceiver receiver{dir / "receiver", ""};
  Volleyd volleyd{dir / "volleyd", options(receiver.port())};

  static VolleydOptions options(std::uint16_t port) {
    VolleydOptions opts;
    opts.dns_port = 9;
    opts.smtp_port = 25;
    opts.routes.push_back(Route{"tenants.test", "127.0.0.1", port});
    opts.extra_toml = kKeys;
    return opts;
  }

  bool delivered(const std::string& recipient) {
    return wait_until([&] { return !events_for(volleyd.events(), "delivered", recipient).empty(); }, 30s, 50ms);
  }
};

}  // namespace

TEST_CASE("Idempotency keys are scoped to the tenant and the endpoint, and another body is 422",
          "[integration][auth][idempotency]") {
  TenantsSetup s;
  auto acme = s.volleyd.client();
  acme.set_bearer("inject-secret-1");
  auto globex = s.volleyd.client();
  globex.set_bearer("tenant-b-secret-3");
  acme.set_header("Idempotency-Key", "order-1");
  globex.set_header("Idempotency-Key", "order-1");

  const auto first = inject(acme, message_to({"a1@tenants.test"}));
  // Tenant B's request with the same key is its own message, queued and delivered.
  const auto theirs = inject(globex, message_to({"b1@tenants.test"}));
  CHECK(theirs.id != first.id);
  REQUIRE(theirs.recipients.size() == 1);
  CHECK(theirs.recipients[0].first == "b1@tenants.test");
  REQUIRE(s.delivered("b1@tenants.test"));
  CHECK(events_for(s.volleyd.events(), "delivered", "b1@tenants.test")[0]["tenant"] == "globex");

  // The same request again: the first answer, nothing queued.
  const auto again = acme.post_json("/api/v1/messages", message_to({"a1@tenants.test"}).dump());
  CHECK(again.status == 202);
  CHECK(json::parse(again.body)["id"] == first.id);

  // The same key with another body: refused, nothing queued.
  const auto reused = acme.post_json("/api/v1/messages", message_to({"a2@tenants.test"}).dump());
  CHECK(reused.status == 422);
  CHECK(json::parse(reused.body)["error"]["code"] == "idempotency_key_reused");

  // The same key on /batch is another key: a batch answer, in the batch's shape.
  const auto batch =
      acme.post_json("/api/v1/messages/batch", json{{"messages", {message_to({"a3@tenants.test"})}}}.dump());
  REQUIRE(batch.status == 202);
  const auto answer = json::parse(batch.body);
  REQUIRE(answer.contains("messages"));
  CHECK(answer["messages"][0]["id"] != first.id);
  REQUIRE(s.delivered("a3@tenants.test"));
  REQUIRE(s.delivered("a1@tenants.test"));
  const auto events = s.volleyd.events();
  CHECK(events_for(events, "received", "a1@tenants.test").size() == 1);
  CHECK(events_for(events, "received", "a2@tenants.test").empty());
}

TEST_CASE("A tenant reads only its own messages and suppressions, and statuses outlive a restart",
          "[integration][auth][status]") {
  TenantsSetup s;
  auto acme = s.volleyd.client();
  acme.set_bearer("inject-secret-1");
  REQUIRE(acme.post_json("/api/v1/suppressions", R"({"email":"gone@tenants.test"})").status == 201);
  const auto sent = inject(acme, message_to({"ok@tenants.test", "gone@tenants.test"}));
  REQUIRE(sent.recipients.size() == 2);
  const std::string delivered_id = sent.recipients[0].second;
  const std::string suppressed_id = sent.recipients[1].second;
  REQUIRE(s.delivered("ok@tenants.test"));

  auto status_of = [&](HttpClient& client, const std::string& id) { return client.get("/api/v1/messages/" + id); };
  auto check_acme_reads = [&](HttpClient& client) {
    const auto delivered = status_of(client, delivered_id);
    REQUIRE(delivered.status == 200);
    CHECK(json::parse(delivered.body)["status"] == "delivered");
    CHECK(json::parse(delivered.body)["tenant"] == "acme");
    const auto suppressed = status_of(client, suppressed_id);
    REQUIRE(suppressed.status == 200);
    CHECK(json::parse(suppressed.body)["status"] == "suppressed");
    // By message id: the message with every recipient, in order.
    const auto message = status_of(client, sent.id);
    INFO(message.body);
    REQUIRE(message.status == 200);
    const auto m = json::parse(message.body);
    CHECK(m["id"] == sent.id);
    CHECK(m["tenant"] == "acme");
    REQUIRE(m["recipients"].size() == 2);
    CHECK(m["recipients"][0]["id"] == delivered_id);
    CHECK(m["recipients"][0]["recipient"] == "ok@tenants.test");
    CHECK(m["recipients"][0]["status"] == "delivered");
    CHECK(m["recipients"][1]["id"] == suppressed_id);
    CHECK(m["recipients"][1]["status"] == "suppressed");
  };
  check_acme_reads(acme);

  auto globex = s.volleyd.client();
  globex.set_bearer("tenant-b-secret-3");
  auto ops = s.volleyd.client();
  ops.set_bearer("admin-secret-2");
  for (const auto& id : {delivered_id, suppressed_id, sent.id}) {
    INFO(id);
    const auto theirs = status_of(globex, id);
    CHECK(theirs.status == 404);
    CHECK(theirs.body.find("tenants.test") == std::string::npos);
    CHECK(status_of(ops, id).status == 200);
  }
  CHECK(globex.get("/api/v1/suppressions/gone@tenants.test").status == 404);
  CHECK(globex.get("/api/v1/suppressions/gone@tenants.test?tenant=acme").status == 403);
  const auto entry = ops.get("/api/v1/suppressions/gone@tenants.test?tenant=acme");
  CHECK(entry.status == 200);
  CHECK(json::parse(entry.body)["tenant"] == "acme");

  // After an orderly restart, the final statuses are read from the spool's history.
  REQUIRE(s.volleyd.stop() == 0);
  s.volleyd.start();
  auto acme_again = s.volleyd.client();
  acme_again.set_bearer("inject-secret-1");
  check_acme_reads(acme_again);
  auto globex_again = s.volleyd.client();
  globex_again.set_bearer("tenant-b-secret-3");
  CHECK(status_of(globex_again, delivered_id).status == 404);
  CHECK(status_of(globex_again, sent.id).status == 404);
}
