// Personalised messages and stored templates (docs/templates.md) on a real volleyd delivering to
// a real SMTP server: each personalisation is its own message with its own ids, metadata and
// rendered text; template errors are 400s naming the field; stored templates are versioned,
// durable and their tenant's own.
#include <catch2/catch.hpp>

#include <string>

#include <boost/beast/http/verb.hpp>
#include <nlohmann/json.hpp>

#include "mime_view.hpp"
#include "stored_message.hpp"
#include "volleyd_fixture.hpp"

using namespace volley::test;
using nlohmann::json;
using namespace std::chrono_literals;
using boost::beast::http::verb;

namespace {

const char* kAcmeKey = "inject-secret-1";
const char* kGlobexKey = "tenant-b-secret-3";

struct Setup {
  TempDir dir{"volley-it-templates"};
  std::uint16_t smtp_port = free_port();
  SmtpSink sink{dir / "sink", {"127.0.0.1"}, smtp_port};
  Volleyd volleyd{dir / "volleyd", options(smtp_port)};

  static VolleydOptions options(std::uint16_t port) {
    auto opts = volleyd_options(9, 25);
    opts.routes.push_back(Route{"sink.test", "127.0.0.1", port});
    opts.extra_toml =
        "[[api_key]]\nname = \"acme-app\"\ntenant = \"acme\"\n"  // inject-secret-1
        "key_sha256 = \"835f6c88bfff60677c55929335f32e3380341c714c62d9baf5d84cca5cb82c11\"\n"
        "[[api_key]]\nname = \"globex-app\"\ntenant = \"globex\"\n"  // tenant-b-secret-3
        "key_sha256 = \"4c9d15a527bf4b6806b16778a619b9133a134000f3dda72f38e28493c342f562\"\n";
    return opts;
  }

  MimeEntity arrived(const std::string& recipient) {
    const auto m = wait_for_stored(sink, recipient, 60s);
    INFO(volleyd.log());
    REQUIRE_FALSE(m.name.empty());
    return parse_entity(m.data);
  }
};

json error_of(const HttpResponse& r) { return json::parse(r.body)["error"]; }

HttpResponse put_template(HttpClient& c, const std::string& name, const json& body) {
  return c.request(verb::put, "/api/v1/templates/" + name, body.dump(), "application/json");
}

}  // namespace

TEST_CASE("A personalised request becomes one message per personalisation, each rendered with its own ids and "
          "metadata",
          "[integration][templates]") {
  Setup s;
  auto acme = s.volleyd.client();
  acme.set_bearer(kAcmeKey);
  const json request = {
      {"from", "news@volley.test"},
      {"subject", "Hi {{first_name}}"},
      {"text", "Hello {{first_name}}, your code is {{code}}.\n"},
      {"html", "<p>Hello {{first_name}}{{#vip}} (VIP){{/vip}}</p>"},
      {"metadata", {{"campaign_id", "c1"}, {"shared", 1}}},
      {"headers", {{"X-Code", "{{code}}"}}},
      {"personalizations",
       {{{"to", {"ann@sink.test"}}, {"substitutions", {{"first_name", "Ann"}, {"code", 11}, {"vip", true}}},
         {"metadata", {{"user", 0}}}},
        {{"to", {"bob@sink.test"}}, {"substitutions", {{"first_name", "<Bob & Co>"}, {"code", "B2"}}},
         {"metadata", {{"user", 1}, {"shared", 2}}}, {"subject", "For {{first_name}} only"}},
        {{"to", {"cy@sink.test"}}, {"cc", {"cy-cc@sink.test"}}, {"substitutions", {{"first_name", "Cy"}, {"code", 3}}}}}}};
  const auto res = acme.post_json("/api/v1/messages", request.dump());
  INFO(res.body);
  REQUIRE(res.status == 202);
  const auto answer = json::parse(res.body)["messages"];
  REQUIRE(answer.size() == 3);
  CHECK(answer[0]["id"] != answer[1]["id"]);
  CHECK(answer[1]["id"] != answer[2]["id"]);
  CHECK(answer[0]["recipients"][0]["email"] == "ann@sink.test");
  CHECK(answer[1]["recipients"][0]["email"] == "bob@sink.test");
  REQUIRE(answer[2]["recipients"].size() == 2);
  CHECK(answer[2]["recipients"][1]["email"] == "cy-cc@sink.test");

  const auto ann = s.arrived("ann@sink.test");
  CHECK(decode_rfc2047(ann.header("Subject").value_or("")) == "Hi Ann");
  CHECK(ann.header("X-Code") == "11");
  CHECK(lf_normalise(text_plain_part(ann).value_or("")) == "Hello Ann, your code is 11.\n");
  CHECK(part_of_type(ann, "text/html").value_or("").find("<p>Hello Ann (VIP)</p>") != std::string::npos);

  // text is not escaped, html is; a personalisation's own subject replaces the shared one.
  const auto bob = s.arrived("bob@sink.test");
  CHECK(decode_rfc2047(bob.header("Subject").value_or("")) == "For <Bob & Co> only");
  CHECK(lf_normalise(text_plain_part(bob).value_or("")) == "Hello <Bob & Co>, your code is B2.\n");
  const std::string bob_html = part_of_type(bob, "text/html").value_or("");
  CHECK(bob_html.find("<p>Hello &lt;Bob &amp; Co&gt;</p>") != std::string::npos);
  CHECK(bob_html.find("<Bob") == std::string::npos);
  s.arrived("cy@sink.test");

  // Events and statuses: each message its own id; metadata the request's with the
  // personalisation's over it.
  REQUIRE(wait_until(
      [&] {
        const auto events = s.volleyd.events();
        return !events_for(events, "delivered", "bob@sink.test").empty() &&
               !events_for(events, "delivered", "ann@sink.test").empty();
      },
      30s, 50ms));
  const auto events = s.volleyd.events();
  const auto bob_event = events_for(events, "delivered", "bob@sink.test").front();
  CHECK(bob_event["message_id"] == answer[1]["id"]);
  CHECK(bob_event["metadata"] == json({{"campaign_id", "c1"}, {"shared", 2}, {"user", 1}}));
  CHECK(events_for(events, "delivered", "ann@sink.test").front()["metadata"] ==
        json({{"campaign_id", "c1"}, {"shared", 1}, {"user", 0}}));
  const auto status = acme.get("/api/v1/messages/" + answer[1]["id"].get<std::string>());
  REQUIRE(status.status == 200);
  CHECK(json::parse(status.body)["recipients"][0]["id"] == answer[1]["recipients"][0]["id"]);

  // An Idempotency-Key works as for a batch: the repeat gets the first answer, nothing new.
  json keyed = request;
  keyed["personalizations"] = {{{"to", {"dee@sink.test"}}, {"substitutions", {{"first_name", "Dee"}, {"code", 4}}}}};
  acme.set_header("Idempotency-Key", "personalised-1");
  const auto first = acme.post_json("/api/v1/messages", keyed.dump());
  REQUIRE(first.status == 202);
  const auto again = acme.post_json("/api/v1/messages", keyed.dump());
  REQUIRE(again.status == 202);
  CHECK(json::parse(again.body) == json::parse(first.body));
  s.arrived("dee@sink.test");
  REQUIRE(wait_until([&] { return !events_for(s.volleyd.events(), "delivered", "dee@sink.test").empty(); }, 30s,
                     50ms));
  CHECK(events_for(s.volleyd.events(), "received", "dee@sink.test").size() == 1);
}

TEST_CASE("Template errors are 400s that name the personalisation and field, and nothing is queued",
          "[integration][templates]") {
  Setup s;
  auto acme = s.volleyd.client();
  acme.set_bearer(kAcmeKey);
  const json base = {{"from", "news@volley.test"}, {"subject", "Hi {{first_name}}"}, {"text", "Hello {{first_name}}"}};

  json missing = base;
  missing["personalizations"] = {{{"to", {"ok@sink.test"}}, {"substitutions", {{"first_name", "A"}}}},
                                 {{"to", {"no-name@sink.test"}}}};
  auto r = acme.post_json("/api/v1/messages", missing.dump());
  REQUIRE(r.status == 400);
  CHECK(error_of(r)["field"] == "personalizations[1].subject");
  CHECK(error_of(r)["code"] == "template_error");

  json unclosed = base;
  unclosed["html"] = "<p>{{#vip}}VIP</p>";
  unclosed["personalizations"] = {{{"to", {"ok@sink.test"}}, {"substitutions", {{"first_name", "A"}}}}};
  r = acme.post_json("/api/v1/messages", unclosed.dump());
  REQUIRE(r.status == 400);
  CHECK(error_of(r)["field"] == "html");
  CHECK(error_of(r)["code"] == "invalid_template");

  json injected = base;
  injected["headers"] = {{"X-Note", "{{note}}"}};
  injected["personalizations"] = {
      {{"to", {"ok@sink.test"}}, {"substitutions", {{"first_name", "A"}, {"note", "x\r\nBcc: victim@sink.test"}}}}};
  r = acme.post_json("/api/v1/messages", injected.dump());
  REQUIRE(r.status == 400);
  CHECK(error_of(r)["field"] == "personalizations[0].headers.X-Note");
  CHECK(error_of(r)["code"] == "header_injection");

  json both = base;
  both["to"] = {"ok@sink.test"};
  both["personalizations"] = {{{"to", {"ok@sink.test"}}, {"substitutions", {{"first_name", "A"}}}}};
  r = acme.post_json("/api/v1/messages", both.dump());
  REQUIRE(r.status == 400);
  CHECK(error_of(r)["field"] == "to");

  // A bad recipient in the second personalisation refuses the whole request.
  json bad_address = base;
  bad_address["personalizations"] = {{{"to", {"ok@sink.test"}}, {"substitutions", {{"first_name", "A"}}}},
                                     {{"to", {"not an address"}}, {"substitutions", {{"first_name", "B"}}}}};
  r = acme.post_json("/api/v1/messages", bad_address.dump());
  REQUIRE(r.status == 400);
  CHECK(error_of(r)["field"].get<std::string>().rfind("personalizations[1].to", 0) == 0);

  // Then a good one, to know the earlier ones queued nothing.
  json good = base;
  good["personalizations"] = {{{"to", {"last@sink.test"}}, {"substitutions", {{"first_name", "L"}}}}};
  REQUIRE(acme.post_json("/api/v1/messages", good.dump()).status == 202);
  s.arrived("last@sink.test");
  REQUIRE(wait_until([&] { return !events_for(s.volleyd.events(), "delivered", "last@sink.test").empty(); }, 30s,
                     50ms));
  CHECK(events_for(s.volleyd.events(), "received", "last@sink.test").size() == 1);
  CHECK(events_for(s.volleyd.events(), "received", "ok@sink.test").empty());
}

TEST_CASE("Stored templates are versioned, survive a restart, are their tenant's own and render messages",
          "[integration][templates]") {
  Setup s;
  {
    auto acme = s.volleyd.client();
    acme.set_bearer(kAcmeKey);
    auto r = put_template(acme, "welcome", {{"subject", "Welcome, {{name}}"}, {"text", "Hi {{name}}\n"}});
    INFO(r.body);
    REQUIRE(r.status == 201);
    CHECK(json::parse(r.body)["version"] == 1);
    r = put_template(acme, "welcome",
                     {{"subject", "Welcome aboard, {{name}}"},
                      {"text", "Hi {{name}}, v2\n"},
                      {"html", "<h1>Hi {{name}}</h1>"},
                      {"headers", {{"X-Template", "welcome-{{name}}"}}}});
    REQUIRE(r.status == 201);
    CHECK(json::parse(r.body)["version"] == 2);

    r = put_template(acme, "broken", {{"text", "{{#open}}never closed"}});
    REQUIRE(r.status == 400);
    CHECK(error_of(r)["field"] == "text");
    CHECK(put_template(acme, "bad%20name", {{"text", "x"}}).status == 400);
    CHECK(acme.get("/api/v1/templates/broken").status == 404);
  }

  s.volleyd.stop();
  s.volleyd.start();
  auto acme = s.volleyd.client();
  acme.set_bearer(kAcmeKey);
  auto globex = s.volleyd.client();
  globex.set_bearer(kGlobexKey);

  auto r = acme.get("/api/v1/templates/welcome");
  REQUIRE(r.status == 200);
  CHECK(json::parse(r.body)["version"] == 2);
  CHECK(json::parse(r.body)["subject"] == "Welcome aboard, {{name}}");
  r = acme.get("/api/v1/templates/welcome?version=1");
  REQUIRE(r.status == 200);
  CHECK(json::parse(r.body)["subject"] == "Welcome, {{name}}");
  CHECK(acme.get("/api/v1/templates/welcome?version=3").status == 404);
  r = acme.get("/api/v1/templates");
  REQUIRE(r.status == 200);
  REQUIRE(json::parse(r.body)["templates"].size() == 1);
  CHECK(json::parse(r.body)["templates"][0]["version"] == 2);

  // The tenant wall: globex neither sees nor uses acme's template.
  CHECK(globex.get("/api/v1/templates/welcome").status == 404);
  CHECK(json::parse(globex.get("/api/v1/templates").body)["templates"].empty());
  CHECK(globex.request(verb::delete_, "/api/v1/templates/welcome", "", "").status == 404);
  const json use = {{"from", "hello@volley.test"}, {"to", {"new@sink.test"}}, {"template", "welcome"},
                    {"substitutions", {{"name", "Nia"}}}};
  r = globex.post_json("/api/v1/messages", use.dump());
  REQUIRE(r.status == 400);
  CHECK(error_of(r)["field"] == "template");
  CHECK(error_of(r)["code"] == "unknown_template");

  // The latest version, one message; then version 1 through a personalisation.
  r = acme.post_json("/api/v1/messages", use.dump());
  INFO(r.body);
  REQUIRE(r.status == 202);
  const auto latest = s.arrived("new@sink.test");
  CHECK(decode_rfc2047(latest.header("Subject").value_or("")) == "Welcome aboard, Nia");
  CHECK(latest.header("X-Template") == "welcome-Nia");
  CHECK(lf_normalise(text_plain_part(latest).value_or("")) == "Hi Nia, v2\n");
  CHECK(part_of_type(latest, "text/html").value_or("").find("<h1>Hi Nia</h1>") != std::string::npos);

  const json v1 = {{"from", "hello@volley.test"},
                   {"template", "welcome"},
                   {"template_version", 1},
                   {"personalizations", {{{"to", {"old@sink.test"}}, {"substitutions", {{"name", "Oli"}}}}}}};
  REQUIRE(acme.post_json("/api/v1/messages", v1.dump()).status == 202);
  const auto old = s.arrived("old@sink.test");
  CHECK(decode_rfc2047(old.header("Subject").value_or("")) == "Welcome, Oli");
  CHECK(lf_normalise(text_plain_part(old).value_or("")) == "Hi Oli\n");

  json with_text = use;
  with_text["text"] = "mine";
  r = acme.post_json("/api/v1/messages", with_text.dump());
  REQUIRE(r.status == 400);
  CHECK(error_of(r)["field"] == "text");

  CHECK(acme.request(verb::delete_, "/api/v1/templates/welcome", "", "").status == 204);
  CHECK(acme.get("/api/v1/templates/welcome").status == 404);
  CHECK(acme.get("/api/v1/templates/welcome?version=1").status == 404);
  r = acme.post_json("/api/v1/messages", use.dump());
  REQUIRE(r.status == 400);
  CHECK(error_of(r)["field"] == "template");
}
