// One-click unsubscribe end to end (RFC 8058, docs/unsubscribe.md): volleyd with [unsubscribe]
// and a DKIM key, a real SMTP sink, curl as the mailbox provider's POST, swaks as the mailto
// path through [smtp_in]; two tenants.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dns_zone.hpp"
#include "sink_fixture.hpp"
#include "stored_message.hpp"
#include "tests/support/test_pki.hpp"
#include "volleyd_fixture.hpp"

using namespace volley::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr const char* kAcmeKey = "inject-secret-1";     // printf %s <secret> | sha256sum: below
constexpr const char* kGlobexKey = "tenant-b-secret-3";

struct Command {
  int status = -1;
  std::string output;
};

Command run(const std::filesystem::path& scratch, std::vector<std::string> argv) {
  auto [status, output] = run_with_input(argv, "", scratch);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

// The TXT line `volleyd dkim-keygen` printed for the key.
std::string keygen(const TempDir& dir) {
  const auto out = run(dir.path(), {Volleyd::binary(), "dkim-keygen", "--domain", "volley.test", "--selector", "u1",
                                    "--algorithm", "ed25519", "--out", (dir / "keys").string()});
  INFO(out.output);
  REQUIRE(out.status == 0);
  std::istringstream lines(out.output);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("u1._domainkey.volley.test. TXT", 0) == 0) return line;
  FAIL("no TXT record printed");
  return {};
}

// curl as a mailbox provider: status line and headers, then the body.
struct CurlAnswer {
  int status = 0;
  std::string headers;
  std::string body;
};

// `tls`: curl's options for an https:// URL (the CA to trust, the name to resolve).
CurlAnswer curl(const TempDir& dir, const std::string& method, const std::string& url, const std::string& body = "",
                const std::vector<std::string>& tls = {}) {
  std::vector<std::string> argv{"/usr/bin/curl", "-s", "-i", "--max-time", "20", "-X", method};
  argv.insert(argv.end(), tls.begin(), tls.end());
  if (!body.empty()) argv.insert(argv.end(), {"-H", "Content-Type: application/x-www-form-urlencoded", "--data-binary", body});
  argv.push_back(url);
  const auto out = run(dir.path(), argv);
  INFO(out.output);
  REQUIRE(out.status == 0);
  CurlAnswer a;
  const auto split = out.output.find("\r\n\r\n");
  a.headers = out.output.substr(0, split);
  a.body = split == std::string::npos ? "" : out.output.substr(split + 4);
  a.status = std::stoi(a.headers.substr(a.headers.find(' ') + 1, 3));
  return a;
}

std::string header_value(const std::string& message, const std::string& name) {
  const auto at = message.find("\r\n" + name + ": ");
  if (at == std::string::npos) return {};
  std::string value;
  std::size_t pos = at + 2 + name.size() + 2;
  while (true) {  // unfold
    const auto end = message.find("\r\n", pos);
    value += message.substr(pos, end - pos);
    if (message[end + 2] != ' ' && message[end + 2] != '\t') break;
    pos = end + 2;
  }
  return value;
}

ReceivedMessage stored_for(const SmtpSink& sink, const std::string& recipient) {
  const ReceivedMessage found = wait_for_stored(sink, recipient, 60s);
  REQUIRE_FALSE(found.name.empty());
  return found;
}

// The token in "<https://mta.volley.test/u/TOKEN>, <mailto:...>" and the mailto address.
std::pair<std::string, std::string> links(const std::string& list_unsubscribe) {
  const std::string prefix = "<https://mta.volley.test/u/";
  REQUIRE(list_unsubscribe.rfind(prefix, 0) == 0);
  const auto end = list_unsubscribe.find('>');
  const auto mailto = list_unsubscribe.find("<mailto:");
  REQUIRE(mailto != std::string::npos);
  return {list_unsubscribe.substr(prefix.size(), end - prefix.size()),
          list_unsubscribe.substr(mailto + 8, list_unsubscribe.find('>', mailto) - mailto - 8)};
}

json message(const std::vector<std::string>& to, const std::string& campaign) {
  json m{{"from", "news@volley.test"}, {"to", to}, {"subject", "Spring offers"}, {"text", "Hello\n"}};
  if (!campaign.empty()) m["campaign"] = campaign;
  return m;
}

std::string status_of(HttpClient& client, const std::string& to) {
  const auto res = client.post_json("/api/v1/messages", message({to}, "").dump());
  REQUIRE(res.status == 202);
  return json::parse(res.body)["recipients"][0]["status"];
}

std::vector<json> unsubscribes(const Volleyd& v, const std::string& recipient) {
  return events_for(v.events(), "unsubscribe", recipient);
}

}  // namespace

TEST_CASE("a campaign message carries signed List-Unsubscribe headers, and one-click POST and mailto unsubscribe "
          "its recipient from its own tenant only",
          "[integration][unsubscribe]") {
  TempDir dir("volley-it-unsubscribe");
  NsdServer nsd({test_zone(keygen(dir) + "\n")});
  const auto smtp_port = free_port();
  const auto listener_port = free_port();
  const auto public_port = free_port();
  SmtpSink sink(dir / "sink", {"127.0.0.1"}, smtp_port);
  // The public listener speaks HTTPS with a certificate for the base_url's host.
  TestPki pki;
  const auto leaf = pki.issue({"mta.volley.test"});
  write_file(dir / "unsub-cert.pem", TestPki::chain_pem(leaf, pki.ca()));
  write_file(dir / "unsub-key.pem", leaf.key_pem());
  write_file(dir / "unsub-ca.pem", pki.ca().cert_pem());
  const std::vector<std::string> tls{"--cacert", (dir / "unsub-ca.pem").string(), "--resolve",
                                     "mta.volley.test:" + std::to_string(public_port) + ":127.0.0.1"};
  auto opts = volleyd_options(nsd.port(), 25);
  opts.routes.push_back(Route{"sink.test", "127.0.0.1", smtp_port});
  opts.extra_toml =
      "[[dkim]]\ndomain = \"volley.test\"\nselector = \"u1\"\nkey_file = \"" +
      (dir / "keys" / "volley.test.u1.pem").string() + "\"\n"
      "[smtp_in]\nlisten = \"127.0.0.1:" + std::to_string(listener_port) + "\"\nhostname = \"in.volley.test\"\n"
      "[unsubscribe]\nbase_url = \"https://mta.volley.test\"\nlisten = \"127.0.0.1:" + std::to_string(public_port) +
      "\"\nmailto_domain = \"unsub.volley.test\"\n"
      "tls_certificate = \"" + (dir / "unsub-cert.pem").string() + "\"\n"
      "tls_private_key = \"" + (dir / "unsub-key.pem").string() + "\"\n"
      "[[api_key]]\nname = \"acme-app\"\ntenant = \"acme\"\n"
      "key_sha256 = \"835f6c88bfff60677c55929335f32e3380341c714c62d9baf5d84cca5cb82c11\"\n"
      "[[api_key]]\nname = \"globex-app\"\ntenant = \"globex\"\n"
      "key_sha256 = \"4c9d15a527bf4b6806b16778a619b9133a134000f3dda72f38e28493c342f562\"\n";
  Volleyd volleyd(dir / "volleyd", opts);
  auto acme = volleyd.client();
  acme.set_bearer(kAcmeKey);
  auto globex = volleyd.client();
  globex.set_bearer(kGlobexKey);
  const std::string api = "http://127.0.0.1:" + std::to_string(volleyd.http_port());
  const std::string pub = "https://mta.volley.test:" + std::to_string(public_port);

  // Two recipients, one message: stored as one message per recipient, each with its own token.
  const auto answer = json::parse(acme.post_json("/api/v1/messages", message({"ann@sink.test", "bob@sink.test"}, "spring").dump()).body);
  REQUIRE(answer["recipients"].size() == 2);
  const std::string ann_id = answer["recipients"][0]["id"], bob_id = answer["recipients"][1]["id"];
  CHECK(ann_id == answer["id"].get<std::string>() + "-0");
  CHECK(bob_id.substr(0, 24) != ann_id.substr(0, 24));
  // Without a campaign: no headers.
  inject(acme, message({"plain@sink.test"}, ""));

  std::map<std::string, std::string> stored;
  for (const std::string r : {"ann@sink.test", "bob@sink.test", "plain@sink.test"})
    stored[r] = (sink.maildir() / (stored_for(sink, r).name + ".eml")).string();
  const std::string ann_mail = read_file(stored["ann@sink.test"]);
  const std::string bob_mail = read_file(stored["bob@sink.test"]);
  CHECK(header_value(read_file(stored["plain@sink.test"]), "List-Unsubscribe").empty());
  CHECK(header_value(ann_mail, "List-Unsubscribe-Post") == "List-Unsubscribe=One-Click");
  const auto [ann_token, ann_mailto] = links(header_value(ann_mail, "List-Unsubscribe"));
  const auto [bob_token, bob_mailto] = links(header_value(bob_mail, "List-Unsubscribe"));
  CHECK(ann_token != bob_token);
  CHECK(bob_mailto.rfind("u+" + bob_id + ".", 0) == 0);
  CHECK(bob_mailto.substr(bob_mailto.size() - 18) == "@unsub.volley.test");

  // Both headers are signed and verify (python3-dkim against the zone's key).
  {
    const auto out = run(dir.path(), {"/usr/bin/python3", std::string(VOLLEY_SOURCE_DIR) + "/tests/integration/dkim_verify.py",
                                      "--dns-port", std::to_string(nsd.port()), stored["ann@sink.test"], stored["bob@sink.test"]});
    INFO(out.output);
    REQUIRE(out.status == 0);
    const auto last = out.output.find_last_not_of('\n');
    const auto verdicts = json::parse(out.output.substr(out.output.rfind('\n', last) + 1));
    CHECK(verdicts[stored["ann@sink.test"]] == json({true}));
    CHECK(verdicts[stored["bob@sink.test"]] == json({true}));
    // The headers are signed: with one changed character in the token, the signature fails.
    std::string tampered = ann_mail;
    const auto at = tampered.find("/u/") + 5;
    tampered[at] = tampered[at] == 'A' ? 'B' : 'A';
    write_file(dir / "tampered.eml", tampered);
    const auto bad = run(dir.path(), {"/usr/bin/python3", std::string(VOLLEY_SOURCE_DIR) + "/tests/integration/dkim_verify.py",
                                      "--dns-port", std::to_string(nsd.port()), (dir / "tampered.eml").string()});
    const auto bad_last = bad.output.find_last_not_of('\n');
    CHECK(json::parse(bad.output.substr(bad.output.rfind('\n', bad_last) + 1))[(dir / "tampered.eml").string()] ==
          json({false}));
  }

  // A GET (a link scanner) shows a page with a form and suppresses nothing.
  const auto page = curl(dir, "GET", api + "/u/" + ann_token);
  CHECK(page.status == 200);
  CHECK_THAT(page.body, Catch::Contains("<form method=\"post\" action=\"/u/" + ann_token + "\""));
  CHECK_THAT(page.body, Catch::Contains("name=\"List-Unsubscribe\" value=\"One-Click\""));
  CHECK(acme.get("/api/v1/suppressions/ann@sink.test").status == 404);

  // One changed character, a wrong body: refused, nothing written.
  std::string changed = ann_token;
  changed[changed.size() / 2] = changed[changed.size() / 2] == 'A' ? 'B' : 'A';
  CHECK(curl(dir, "POST", api + "/u/" + changed, "List-Unsubscribe=One-Click").status == 404);
  CHECK(curl(dir, "POST", pub + "/u/" + changed, "List-Unsubscribe=One-Click", tls).status == 404);
  CHECK(curl(dir, "POST", api + "/u/" + ann_token, "unsubscribe=yes").status == 400);
  CHECK(acme.get("/api/v1/suppressions/ann@sink.test").status == 404);
  CHECK(status_of(acme, "ann@sink.test") == "queued");

  // The one-click POST on the public listener: 200, no redirect, no cookie; again: 200, nothing new.
  const auto done = curl(dir, "POST", pub + "/u/" + ann_token, "List-Unsubscribe=One-Click", tls);
  CHECK(done.status == 200);
  CHECK_THAT(done.headers, !Catch::Contains("Set-Cookie", Catch::CaseSensitive::No));
  CHECK_THAT(done.headers, !Catch::Contains("Location:", Catch::CaseSensitive::No));
  CHECK(curl(dir, "POST", api + "/u/" + ann_token, "List-Unsubscribe=One-Click").status == 200);
  const auto entry = acme.get("/api/v1/suppressions/ann@sink.test");
  REQUIRE(entry.status == 200);
  CHECK(json::parse(entry.body)["reason"] == "unsubscribe");
  CHECK(json::parse(entry.body)["source"] == "one_click");
  CHECK(json::parse(entry.body)["category"] == "spring");
  CHECK(status_of(acme, "ann@sink.test") == "suppressed");
  REQUIRE(wait_until([&] { return !unsubscribes(volleyd, "ann@sink.test").empty(); }, 10s, 50ms));
  const auto ann_events = unsubscribes(volleyd, "ann@sink.test");
  REQUIRE(ann_events.size() == 1);
  CHECK(ann_events[0]["id"] == ann_id);
  CHECK(ann_events[0]["tenant"] == "acme");
  CHECK(ann_events[0]["campaign"] == "spring");
  CHECK(ann_events[0]["category"] == "one_click");

  // Tenants are walls: the same address is another tenant's to mail, and globex's own token
  // unsubscribes from globex only.
  CHECK(status_of(globex, "ann@sink.test") == "queued");
  inject(globex, message({"cat@sink.test"}, "autumn"));
  const auto cat_mail = read_file((sink.maildir() / (stored_for(sink, "cat@sink.test").name + ".eml")).string());
  const auto [cat_token, cat_mailto] = links(header_value(cat_mail, "List-Unsubscribe"));
  CHECK(curl(dir, "POST", pub + "/u/" + cat_token, "List-Unsubscribe=One-Click", tls).status == 200);
  CHECK(globex.get("/api/v1/suppressions/cat@sink.test").status == 200);
  CHECK(acme.get("/api/v1/suppressions/cat@sink.test").status == 404);
  CHECK(status_of(acme, "cat@sink.test") == "queued");

  // mailto: a mail to the address through [smtp_in] unsubscribes Bob; a forged tag nobody.
  const auto forged_local = bob_mailto.substr(0, bob_mailto.find('@') - 1) + (bob_mailto[bob_mailto.find('@') - 1] == '0' ? "1" : "0");
  auto swaks = [&](const std::string& to) {
    return run(dir.path(), {"/usr/bin/timeout", "30", "swaks", "--server", "127.0.0.1", "--port",
                            std::to_string(listener_port), "--timeout", "20", "--from", "bob@sink.test", "--to", to,
                            "--header", "Subject: unsubscribe", "--body", "unsubscribe"});
  };
  const auto forged = swaks(forged_local + "@unsub.volley.test");
  INFO(forged.output);
  CHECK(forged.status == 0);
  const auto sent = swaks(bob_mailto);
  INFO(sent.output);
  CHECK(sent.status == 0);
  REQUIRE(wait_until([&] { return acme.get("/api/v1/suppressions/bob@sink.test").status == 200; }, 10s, 50ms));
  CHECK(json::parse(acme.get("/api/v1/suppressions/bob@sink.test").body)["source"] == "mailto");
  REQUIRE(wait_until([&] { return !unsubscribes(volleyd, "bob@sink.test").empty(); }, 10s, 50ms));
  CHECK(unsubscribes(volleyd, "bob@sink.test")[0]["category"] == "mailto");
  CHECK(unsubscribes(volleyd, "bob@sink.test")[0]["id"] == bob_id);

  // The public listener serves /u/ only; the metric counts by tenant and source.
  CHECK(curl(dir, "GET", pub + "/api/v1/messages/" + ann_id, "", tls).status == 404);
  CHECK(curl(dir, "GET", pub + "/metrics", "", tls).status == 404);
  const auto metrics = acme.get("/metrics").body;
  CHECK_THAT(metrics, Catch::Contains(R"(volley_unsubscribes_total{source="one_click",tenant="acme"} 1)"));
  CHECK_THAT(metrics, Catch::Contains(R"(volley_unsubscribes_total{source="mailto",tenant="acme"} 1)"));
  CHECK_THAT(metrics, Catch::Contains(R"(volley_unsubscribes_total{source="one_click",tenant="globex"} 1)"));
}

TEST_CASE("list_unsubscribe true without [unsubscribe] is refused, a campaign alone gets no headers, and an "
          "application's own URL is written as given",
          "[integration][unsubscribe]") {
  TempDir dir("volley-it-unsubscribe-off");
  const auto smtp_port = free_port();
  SmtpSink sink(dir / "sink", {"127.0.0.1"}, smtp_port);
  auto opts = volleyd_options(9, 25);
  opts.routes.push_back(Route{"sink.test", "127.0.0.1", smtp_port});
  Volleyd volleyd(dir / "volleyd", opts);
  auto http = volleyd.client();

  auto asked = message({"ann@sink.test"}, "");
  asked["list_unsubscribe"] = true;
  const auto refused = http.post_json("/api/v1/messages", asked.dump());
  CHECK(refused.status == 400);
  CHECK(json::parse(refused.body)["error"]["code"] == "unsubscribe_not_configured");
  CHECK_THAT(refused.body, Catch::Contains("[unsubscribe]"));

  auto own = message({"own@sink.test"}, "spring");
  own["list_unsubscribe"] = {{"url", "https://app.example/unsub?u=1"}, {"mailto", "unsub@app.example"}};
  inject(http, own);
  inject(http, message({"campaign@sink.test"}, "spring"));
  const auto own_mail = read_file((sink.maildir() / (stored_for(sink, "own@sink.test").name + ".eml")).string());
  CHECK(header_value(own_mail, "List-Unsubscribe") == "<https://app.example/unsub?u=1>, <mailto:unsub@app.example>");
  CHECK(header_value(own_mail, "List-Unsubscribe-Post") == "List-Unsubscribe=One-Click");
  const auto campaign_mail = read_file((sink.maildir() / (stored_for(sink, "campaign@sink.test").name + ".eml")).string());
  CHECK(header_value(campaign_mail, "List-Unsubscribe").empty());
  // No [unsubscribe]: /u/ is not served.
  CHECK(http.get("/u/AAAA").status == 404);
}
