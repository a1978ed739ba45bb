// The suppression API over HTTP: a real HttpServer on loopback and a real SuppressionList in a
// temporary directory.
#include "tests/support/http_connection.hpp"  // first: <utility> before Boost.Asio

#include <filesystem>
#include <mutex>
#include <random>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "api/http_json.hpp"
#include "api/suppression_api.hpp"

using namespace volley;
using namespace volley::api;
using volley::suppression::Entry;
using volley::storage::SuppressionList;
using volley::test::HttpTestClient;
using volley::test::IoThreads;
using volley::test::Response;
using json = nlohmann::json;

namespace {

struct TempDir {
  TempDir() {
    std::random_device rd;
    path = std::filesystem::temp_directory_path() / ("volley-suppression-api-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::filesystem::path path;
};

const std::vector<std::pair<std::string, std::string>> kJson = {{"Content-Type", "application/json"}};

// The list behind the API on a server with one io thread. Requests act for the tenant named in
// X-Tenant, with the admin right X-Admin says (standing in for api_auth, which sets req.tenant
// and req.admin from the API key).
struct Fixture {
  Fixture() {
    std::string error;
    list = SuppressionList::open((dir.path / "db").string(), &error);
    REQUIRE(list);
    SuppressionApiConfig cfg;
    cfg.list = list;
    cfg.on_added = [this](const Entry& e) {
      std::lock_guard lock(mu);
      added.push_back(e);
    };
    auto api = make_suppression_handler(cfg, [](HttpRequest&&, Responder respond) {
      respond(error_response(404, "not_found", "next handler"));
    });
    server = std::make_unique<HttpServer>(io.io, [api](HttpRequest&& req, Responder respond) {
      if (auto t = req.header("x-tenant")) req.tenant = std::string(*t);
      if (auto a = req.header("x-admin")) req.admin = *a == "true";
      api(std::move(req), std::move(respond));
    });
    server->start({"127.0.0.1", 0});
  }
  ~Fixture() {
    server->stop();
    io.join();
  }

  HttpTestClient client() { return HttpTestClient(server->port()); }

  TempDir dir;
  std::shared_ptr<SuppressionList> list;
  std::mutex mu;
  std::vector<Entry> added;
  IoThreads io;
  std::unique_ptr<HttpServer> server;
};

json body_of(const Response& r) { return json::parse(r.body()); }
std::string error_code(const Response& r) { return body_of(r)["error"]["code"].get<std::string>(); }
std::string error_field(const Response& r) { return body_of(r)["error"]["field"].get<std::string>(); }

}  // namespace

TEST_CASE("Suppressions: add, read, list, delete", "[http][suppression]") {
  Fixture f;
  auto client = f.client();

  auto res = client.request("POST", "/api/v1/suppressions",
                            R"({"email":"Bob+news@Example.org","reason":"complaint","description":"asked by phone"})", kJson);
  REQUIRE(res.result_int() == 201);
  const json stored = body_of(res);
  CHECK(stored["email"] == "bob+news@example.org");
  CHECK(stored["tenant"] == "default");
  CHECK(stored["reason"] == "complaint");
  CHECK(stored["category"] == "");
  CHECK(stored["source"] == "api");
  CHECK(stored["description"] == "asked by phone");
  CHECK(stored["created_at"].is_number_integer());
  CHECK(stored["created_at"] == stored["updated_at"]);
  CHECK(f.list->contains("default", "bob+news@example.org"));
  {
    std::lock_guard lock(f.mu);
    REQUIRE(f.added.size() == 1);
    CHECK(f.added[0].email == "bob+news@example.org");
  }

  // The address in the path is percent-decoded and compared normalised.
  res = client.request("GET", "/api/v1/suppressions/BOB%2Bnews%40example.org");
  REQUIRE(res.result_int() == 200);
  CHECK(body_of(res) == stored);

  // Again: already there, 200, created_at kept, reason defaults to "manual".
  res = client.request("POST", "/api/v1/suppressions", R"({"email":"bob+news@example.org"})", kJson);
  REQUIRE(res.result_int() == 200);
  CHECK(body_of(res)["reason"] == "manual");
  CHECK(body_of(res)["created_at"] == stored["created_at"]);

  res = client.request("POST", "/api/v1/suppressions",
                       R"({"suppressions":[{"email":"a@example.org"},{"email":"c@example.org","reason":"hard_bounce"}]})", kJson);
  REQUIRE(res.result_int() == 201);
  CHECK(body_of(res)["suppressions"].size() == 2);

  res = client.request("GET", "/api/v1/suppressions?limit=2");
  REQUIRE(res.result_int() == 200);
  json page = body_of(res);
  REQUIRE(page["suppressions"].size() == 2);
  CHECK(page["suppressions"][0]["email"] == "a@example.org");
  CHECK(page["suppressions"][1]["email"] == "bob+news@example.org");
  REQUIRE(page["next_cursor"] == "bob+news@example.org");
  res = client.request("GET", "/api/v1/suppressions?cursor=bob%2Bnews%40example.org&limit=2");
  REQUIRE(res.result_int() == 200);
  page = body_of(res);
  REQUIRE(page["suppressions"].size() == 1);
  CHECK(page["suppressions"][0]["email"] == "c@example.org");
  CHECK(page["next_cursor"].is_null());
  CHECK(body_of(client.request("GET", "/api/v1/suppressions"))["suppressions"].size() == 3);

  res = client.request("DELETE", "/api/v1/suppressions/a%40example.org");
  CHECK(res.result_int() == 204);
  CHECK(res.body().empty());
  CHECK_FALSE(f.list->contains("default", "a@example.org"));
  res = client.request("DELETE", "/api/v1/suppressions/a@example.org");
  CHECK(res.result_int() == 404);
  res = client.request("GET", "/api/v1/suppressions/a@example.org");
  CHECK(res.result_int() == 404);
  CHECK(error_code(res) == "not_found");
}

TEST_CASE("Suppressions: each tenant sees and manages only its own list", "[http][suppression]") {
  Fixture f;
  auto client = f.client();
  auto as = [](std::string tenant) {
    auto h = kJson;
    h.emplace_back("X-Tenant", std::move(tenant));
    return h;
  };
  REQUIRE(client.request("POST", "/api/v1/suppressions", R"({"email":"x@example.org"})", as("acme")).result_int() == 201);
  CHECK(f.list->contains("acme", "x@example.org"));
  CHECK_FALSE(f.list->contains("default", "x@example.org"));
  CHECK(client.request("GET", "/api/v1/suppressions/x@example.org", "", as("other")).result_int() == 404);
  CHECK(client.request("DELETE", "/api/v1/suppressions/x@example.org", "", as("other")).result_int() == 404);
  CHECK(body_of(client.request("GET", "/api/v1/suppressions", "", as("other")))["suppressions"].empty());
  const auto mine = client.request("GET", "/api/v1/suppressions", "", as("acme"));
  REQUIRE(body_of(mine)["suppressions"].size() == 1);
  CHECK(body_of(mine)["suppressions"][0]["tenant"] == "acme");
  CHECK(client.request("DELETE", "/api/v1/suppressions/x@example.org", "", as("acme")).result_int() == 204);
}

TEST_CASE("Suppressions: an admin key may name another tenant's list, no other key may", "[http][suppression]") {
  Fixture f;
  auto client = f.client();
  auto as = [](std::string tenant, bool admin) {
    auto h = kJson;
    h.emplace_back("X-Tenant", std::move(tenant));
    h.emplace_back("X-Admin", admin ? "true" : "false");
    return h;
  };
  REQUIRE(client.request("POST", "/api/v1/suppressions", R"({"email":"x@example.org"})", as("acme", false))
              .result_int() == 201);
  // Another tenant's key finds nothing, and may not ask for acme's list.
  CHECK(client.request("GET", "/api/v1/suppressions/x@example.org", "", as("globex", false)).result_int() == 404);
  const auto refused = client.request("GET", "/api/v1/suppressions/x@example.org?tenant=acme", "", as("globex", false));
  CHECK(refused.result_int() == 403);
  CHECK(error_code(refused) == "forbidden");
  CHECK(client.request("GET", "/api/v1/suppressions?tenant=acme", "", as("globex", false)).result_int() == 403);
  CHECK(client.request("DELETE", "/api/v1/suppressions/x@example.org?tenant=acme", "", as("globex", false))
            .result_int() == 403);
  CHECK(f.list->contains("acme", "x@example.org"));
  // Naming its own tenant is fine.
  CHECK(client.request("GET", "/api/v1/suppressions/x@example.org?tenant=acme", "", as("acme", false)).result_int() ==
        200);

  // An admin key reads, lists, adds and removes in any tenant's list.
  CHECK(client.request("GET", "/api/v1/suppressions/x@example.org", "", as("default", true)).result_int() == 404);
  const auto read = client.request("GET", "/api/v1/suppressions/x@example.org?tenant=acme", "", as("default", true));
  REQUIRE(read.result_int() == 200);
  CHECK(body_of(read)["tenant"] == "acme");
  CHECK(body_of(client.request("GET", "/api/v1/suppressions?tenant=acme", "", as("default", true)))["suppressions"]
            .size() == 1);
  CHECK(client.request("POST", "/api/v1/suppressions?tenant=globex", R"({"email":"y@example.org"})", as("default", true))
            .result_int() == 201);
  CHECK(f.list->contains("globex", "y@example.org"));
  CHECK(client.request("DELETE", "/api/v1/suppressions/x@example.org?tenant=acme", "", as("default", true))
            .result_int() == 204);
  CHECK_FALSE(f.list->contains("acme", "x@example.org"));
  const auto bad = client.request("GET", "/api/v1/suppressions?tenant=a%2Fb", "", as("default", true));
  CHECK(bad.result_int() == 400);
  CHECK(error_field(bad) == "tenant");
}

TEST_CASE("Suppressions: bad requests are refused precisely, storing nothing", "[http][suppression]") {
  Fixture f;
  auto client = f.client();
  struct Case {
    std::string body;
    unsigned status;
    std::string code;
    std::string field;
  };
  for (const auto& c : {
           Case{R"({"email":"a@example.org")", 400, "invalid_json", ""},
           Case{R"([])", 400, "invalid_json", ""},
           Case{R"({})", 400, "missing_field", "email"},
           Case{R"({"email":42})", 400, "invalid_field", "email"},
           Case{R"({"email":"no-at-sign"})", 400, "invalid_address", "email"},
           Case{R"({"email":"a@example.org","reason":")" + std::string(201, 'r') + R"("})", 400, "invalid_field", "reason"},
           Case{R"({"email":"a@example.org","description":")" + std::string(501, 'd') + R"("})", 400, "invalid_field",
                "description"},
           Case{R"({"email":"a@example.org","reason":"a\nb"})", 400, "invalid_field", "reason"},
           Case{R"({"suppressions":[]})", 400, "invalid_field", "suppressions"},
           Case{R"({"suppressions":[{"email":"a@example.org"},{"email":"bad address@x"}]})", 400, "invalid_address",
                "suppressions[1].email"},
           Case{R"({"suppressions":[{"email":"a@example.org"},"b@example.org"]})", 400, "invalid_field",
                "suppressions[1]"},
       }) {
    CAPTURE(c.body);
    const auto res = client.request("POST", "/api/v1/suppressions", c.body, kJson);
    CHECK(res.result_int() == c.status);
    CHECK(error_code(res) == c.code);
    CHECK(error_field(res) == c.field);
  }
  json many = {{"suppressions", json::array()}};
  for (int i = 0; i < 1001; ++i) many["suppressions"].push_back({{"email", "u" + std::to_string(i) + "@example.org"}});
  auto res = client.request("POST", "/api/v1/suppressions", many.dump(), kJson);
  CHECK(res.result_int() == 400);
  CHECK(error_field(res) == "suppressions");

  res = client.request("POST", "/api/v1/suppressions", R"({"email":"a@example.org"})", {{"Content-Type", "text/plain"}});
  CHECK(res.result_int() == 415);
  CHECK(error_code(res) == "unsupported_media_type");
  CHECK(f.list->total() == 0);

  for (const char* target : {"/api/v1/suppressions?limit=0", "/api/v1/suppressions?limit=1001",
                             "/api/v1/suppressions?limit=ten", "/api/v1/suppressions?limit="}) {
    CAPTURE(target);
    res = client.request("GET", target);
    CHECK(res.result_int() == 400);
    CHECK(error_field(res) == "limit");
  }
  res = client.request("GET", "/api/v1/suppressions/a%4");
  CHECK(res.result_int() == 400);
  res = client.request("GET", "/api/v1/suppressions/not-an-address");
  CHECK(res.result_int() == 400);
  CHECK(error_code(res) == "invalid_address");

  res = client.request("PUT", "/api/v1/suppressions");
  CHECK(res.result_int() == 405);
  CHECK(res["Allow"] == "GET, POST");
  res = client.request("POST", "/api/v1/suppressions/a@example.org");
  CHECK(res.result_int() == 405);
  CHECK(res["Allow"] == "GET, DELETE");
  res = client.request("GET", "/api/v1/suppressionsX");
  CHECK(res.result_int() == 404);
  CHECK(body_of(res)["error"]["message"] == "next handler");
}

TEST_CASE("http_json: percent_decode and query_parameter", "[http][suppression]") {
  CHECK(percent_decode("a%40b%2Bc+d") == "a@b+c+d");
  CHECK(percent_decode("%4a%4A") == "JJ");
  CHECK_FALSE(percent_decode("%"));
  CHECK_FALSE(percent_decode("%4"));
  CHECK_FALSE(percent_decode("%zz"));
  CHECK_FALSE(percent_decode("%00"));
  CHECK(query_parameter("/x?limit=5&cursor=a%40b", "cursor") == "a@b");
  CHECK(query_parameter("/x?limit=5&cursor=a%40b", "limit") == "5");
  CHECK(query_parameter("/x?q=a+b", "q") == "a b");
  CHECK(query_parameter("/x?flag", "flag") == "");
  CHECK_FALSE(query_parameter("/x?limit=5", "cursor"));
  CHECK_FALSE(query_parameter("/x", "limit"));
}

TEST_CASE("Suppressions: unknown fields and repeated names are refused, storing nothing", "[http][suppression][strict]") {
  Fixture f;
  auto client = f.client();
  struct Case {
    std::string body;
    std::string code;
    std::string field;
  };
  for (const auto& c : {
           Case{R"({"email":"a@example.org","reasn":"typo"})", "unknown_field", "reasn"},
           Case{R"({"email":"a@example.org","expires_at":null})", "unknown_field", "expires_at"},
           Case{R"({"suppressions":[{"email":"a@example.org"}],"reason":"not here"})", "unknown_field", "reason"},
           Case{R"({"suppressions":[{"email":"a@example.org"},{"email":"b@example.org","tenant":"x"}]})",
                "unknown_field", "suppressions[1].tenant"},
           Case{R"({"email":"a@example.org","email":"b@example.org"})", "duplicate_key", "email"},
           Case{R"({"suppressions":[{"email":"a@example.org","reason":"x","reason":"y"}]})", "duplicate_key",
                "suppressions[0].reason"},
       }) {
    CAPTURE(c.body);
    const auto res = client.request("POST", "/api/v1/suppressions", c.body, kJson);
    CHECK(res.result_int() == 400);
    CHECK(error_code(res) == c.code);
    CHECK(error_field(res) == c.field);
  }
  CHECK(f.list->total() == 0);
}
