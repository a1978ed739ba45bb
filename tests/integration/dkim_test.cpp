// DKIM signing end to end: keys made by `volleyd dkim-keygen`, their TXT records served by the
// test's nsd, mail signed by volleyd and verified, as the receiver stored it, by an independent
// verifier (Debian's python3-dkim, tests/integration/dkim_verify.py); start-up refusals of every
// kind of bad key.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/wait.h>

#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dkim_keygen.hpp"
#include "dns_zone.hpp"
#include "sink_fixture.hpp"
#include "stored_message.hpp"
#include "volleyd_fixture.hpp"

using namespace volley::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

std::string key_path(const TempDir& dir, const std::string& domain, const std::string& selector) {
  return (dir / "keys" / (domain + "." + selector + ".pem")).string();
}

std::string dkim_entry(const TempDir& dir, const std::string& domain, const std::string& selector,
                       const std::string& more = "") {
  return "[[dkim]]\ndomain = \"" + domain + "\"\nselector = \"" + selector + "\"\nkey_file = \"" +
         key_path(dir, domain, selector) + "\"\n" + more;
}

// python3-dkim's verdict on each DKIM-Signature field of each file.
std::map<std::string, std::vector<bool>> verify(const TempDir& dir, std::uint16_t dns_port,
                                                const std::vector<std::string>& files) {
  std::vector<std::string> argv{"/usr/bin/python3", std::string(VOLLEY_SOURCE_DIR) + "/tests/integration/dkim_verify.py",
                                "--dns-port", std::to_string(dns_port)};
  argv.insert(argv.end(), files.begin(), files.end());
  const auto [status, output] = run_with_input(argv, "", dir.path());
  INFO(output);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  // The JSON is the last line (stderr says why a signature failed).
  auto end = output.find_last_not_of('\n');
  auto start = output.rfind('\n', end);
  const auto j = json::parse(output.substr(start == std::string::npos ? 0 : start + 1, end + 1));
  std::map<std::string, std::vector<bool>> out;
  for (auto& [file, verdicts] : j.items()) out[file] = verdicts.get<std::vector<bool>>();
  return out;
}

// A raw message that canonicalisation must get right: 8-bit UTF-8, tabs and trailing spaces,
// dot lines, a 990-octet line, folded headers, and empty lines at the end.
std::string raw_message(const std::string& from, const std::string& to) {
  std::string body = "Grüße aus Köln, 日本語\r\n.\r\n..two dots\r\n.leading dot\r\n"
                     "tabs\tand  spaces   \r\n" + std::string(990, 'y') + "\r\n\r\nend\r\n\r\n\r\n";
  return "From: \"Volley, Raw\" <" + from + ">\r\nTo: <" + to + ">\r\nSubject: raw  message\r\n\twith a fold\r\n"
         "Message-ID: <raw-1@volley.test>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
         "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
         "Content-Transfer-Encoding: 8bit\r\nList-Unsubscribe: <https://volley.test/u/1>\r\n\r\n" + body;
}

// The delivered event of a recipient, once it is written.
json delivered_event(Volleyd& volleyd, const std::string& recipient) {
  json found;
  wait_until(
      [&] {
        const auto e = events_for(volleyd.events(), "delivered", recipient);
        if (!e.empty()) found = e.front();
        return !e.empty();
      },
      60s, 50ms);
  INFO("volleyd log:\n" << volleyd.log());
  REQUIRE_FALSE(found.is_null());
  return found;
}

// The stored message whose envelope names the recipient.
ReceivedMessage stored_for(const SmtpSink& sink, const std::string& recipient) {
  const ReceivedMessage found = wait_for_stored(sink, recipient, 30s);
  REQUIRE_FALSE(found.name.empty());
  return found;
}

std::set<std::string> selectors_of(const json& event) {
  std::set<std::string> out;
  for (const auto& d : event.at("dkim")) out.insert(d.at("selector").get<std::string>() + "/" + d.at("algorithm").get<std::string>());
  return out;
}

}  // namespace

TEST_CASE("mail signed by volleyd verifies with python3-dkim: RSA and Ed25519, relaxed and simple, builder and raw",
          "[integration][dkim]") {
  TempDir dir("volley-it-dkim");
  std::string records;
  records += keygen(dir, "volley.test", "rr", "rsa2048") + "\n";
  records += keygen(dir, "volley.test", "er", "ed25519") + "\n";
  records += keygen(dir, "volley.test", "rs", "rsa2048") + "\n";
  records += keygen(dir, "volley.test", "es", "ed25519") + "\n";
  // The key files: private (0600), and never overwritten.
  struct stat st {};
  REQUIRE(::stat(key_path(dir, "volley.test", "er").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  const auto [again, again_output] =
      run_with_input({Volleyd::binary(), "dkim-keygen", "--domain", "volley.test", "--selector", "er", "--out",
                      (dir / "keys").string()},
                     "", dir.path());
  CHECK(WEXITSTATUS(again) == 1);
  CHECK_THAT(again_output, Catch::Contains("never overwritten"));

  NsdServer nsd({test_zone(records)});
  const auto smtp_port = free_port();
  SmtpSink sink(dir / "sink", {"127.0.0.1"}, smtp_port);
  auto opts = volleyd_options(nsd.port(), 25);
  opts.routes.push_back(Route{"dkim.test", "127.0.0.1", smtp_port});
  opts.extra_toml = dkim_entry(dir, "volley.test", "rr") + dkim_entry(dir, "volley.test", "er") +
                    dkim_entry(dir, "volley.test", "rs", "canonicalization = \"simple/simple\"\n") +
                    dkim_entry(dir, "volley.test", "es", "canonicalization = \"simple/simple\"\n");
  Volleyd volleyd(dir / "volleyd", opts);
  auto http = volleyd.client();

  const std::string text = "Grüße, naïve café\n.\n..dots\ntrailing   \n" + std::string(1500, 'x') + "\nend\n\n";
  inject(http, {{"from", {{"email", "news@volley.test"}, {"name", "Volley News"}}},
                {"to", {"builder@dkim.test"}},
                {"subject", "Builder – ünïcode"},
                {"text", text},
                {"html", "<p>Grüße</p>"},
                {"headers", {{"List-Unsubscribe", "<https://volley.test/u/2>"}}}});
  inject(http, {{"from", "news@volley.test"}, {"to", {"raw@dkim.test"}},
                {"raw", raw_message("news@volley.test", "raw@dkim.test")}});

  std::vector<std::string> files;
  for (const std::string r : {"builder@dkim.test", "raw@dkim.test"}) {
    const auto event = delivered_event(volleyd, r);
    CHECK(selectors_of(event) == std::set<std::string>{"rr/rsa-sha256", "er/ed25519-sha256", "rs/rsa-sha256",
                                                       "es/ed25519-sha256"});
    for (const auto& d : event.at("dkim")) CHECK(d.at("domain") == "volley.test");
    files.push_back((sink.maildir() / (stored_for(sink, r).name + ".eml")).string());
  }

  // What the receiver stored verifies: every signature of both messages.
  auto verdicts = verify(dir, nsd.port(), files);
  for (const auto& f : files) {
    INFO(f << "\n" << read_file(f).substr(0, 3000));
    CHECK(verdicts[f] == std::vector<bool>{true, true, true, true});
  }

  // One changed body byte, or one changed signed header, and nothing verifies.
  const std::string original = read_file(files[1]);
  std::string body_changed = original;
  const auto body_at = body_changed.find("Köln");
  REQUIRE(body_at != std::string::npos);
  body_changed[body_at] = 'C';
  std::string subject_changed = original;
  const auto subject_at = subject_changed.find("Subject: raw");
  REQUIRE(subject_at != std::string::npos);
  subject_changed[subject_at + 9] = 'R';
  write_file(dir / "body_changed.eml", body_changed);
  write_file(dir / "subject_changed.eml", subject_changed);
  const std::vector<std::string> tampered{(dir / "body_changed.eml").string(), (dir / "subject_changed.eml").string()};
  verdicts = verify(dir, nsd.port(), tampered);
  for (const auto& f : tampered) {
    INFO(f);
    CHECK(verdicts[f] == std::vector<bool>{false, false, false, false});
  }

  const auto metrics = http.get("/metrics").body;
  CHECK_THAT(metrics, Catch::Contains(R"(volley_dkim_signatures_total{algorithm="ed25519-sha256",domain="volley.test"} 4)"));
  CHECK_THAT(metrics, Catch::Contains(R"(volley_dkim_signatures_total{algorithm="rsa-sha256",domain="volley.test"} 4)"));
  CHECK_THAT(metrics, Catch::Contains("volley_dkim_sign_seconds_count 2"));
}

TEST_CASE("a tenant's key signs only that tenant's mail, subdomains sign with d= of the parent, and unsigned mail says dkim []",
          "[integration][dkim]") {
  TempDir dir("volley-it-dkim-tenant");
  std::string records = keygen(dir, "acme.test", "a1", "ed25519") + "\n" + keygen(dir, "volley.test", "v1", "rsa2048") + "\n";
  NsdServer nsd({test_zone(records)});
  const auto smtp_port = free_port();
  SmtpSink sink(dir / "sink", {"127.0.0.1"}, smtp_port);
  auto opts = volleyd_options(nsd.port(), 25);
  opts.routes.push_back(Route{"dkim.test", "127.0.0.1", smtp_port});
  opts.extra_toml = dkim_entry(dir, "acme.test", "a1", "tenant = \"acme\"\n") +
                    dkim_entry(dir, "volley.test", "v1", "subdomains = true\n") +
                    // printf %s <secret> | sha256sum
                    "[[api_key]]\nname = \"acme-app\"\ntenant = \"acme\"\n"  // inject-secret-1
                    "key_sha256 = \"835f6c88bfff60677c55929335f32e3380341c714c62d9baf5d84cca5cb82c11\"\n"
                    "[[api_key]]\nname = \"globex-app\"\ntenant = \"globex\"\n"  // tenant-b-secret-3
                    "key_sha256 = \"4c9d15a527bf4b6806b16778a619b9133a134000f3dda72f38e28493c342f562\"\n";
  Volleyd volleyd(dir / "volleyd", opts);
  auto acme = volleyd.client();
  acme.set_bearer("inject-secret-1");
  auto globex = volleyd.client();
  globex.set_bearer("tenant-b-secret-3");
  auto message = [](const std::string& from, const std::string& to) {
    return json{{"from", from}, {"to", {to}}, {"subject", "s"}, {"text", "t\n"}};
  };
  inject(acme, message("a@acme.test", "acme@dkim.test"));
  inject(globex, message("a@acme.test", "globex@dkim.test"));
  inject(globex, message("a@news.volley.test", "sub@dkim.test"));
  inject(globex, message("a@other.test", "other@dkim.test"));

  CHECK(selectors_of(delivered_event(volleyd, "acme@dkim.test")) == std::set<std::string>{"a1/ed25519-sha256"});
  CHECK(delivered_event(volleyd, "globex@dkim.test").at("dkim") == json::array());
  const auto sub = delivered_event(volleyd, "sub@dkim.test");
  REQUIRE(sub.at("dkim").size() == 1);
  CHECK(sub["dkim"][0] == json{{"domain", "volley.test"}, {"selector", "v1"}, {"algorithm", "rsa-sha256"}});
  CHECK(delivered_event(volleyd, "other@dkim.test").at("dkim") == json::array());

  std::vector<std::string> files;
  for (const std::string r : {"acme@dkim.test", "globex@dkim.test", "sub@dkim.test"})
    files.push_back((sink.maildir() / (stored_for(sink, r).name + ".eml")).string());
  auto verdicts = verify(dir, nsd.port(), files);
  CHECK(verdicts[files[0]] == std::vector<bool>{true});
  CHECK(verdicts[files[1]].empty());  // not signed at all
  CHECK(verdicts[files[2]] == std::vector<bool>{true});
}

TEST_CASE("volleyd refuses to start with a bad DKIM key, naming the entry and the file", "[integration][dkim]") {
  TempDir dir("volley-it-dkim-badkey");
  std::filesystem::create_directories(dir / "keys");
  auto openssl = [&](std::vector<std::string> argv) {
    argv.insert(argv.begin(), "/usr/bin/openssl");
    const auto [status, output] = run_with_input(argv, "", dir.path());
    INFO(output);
    REQUIRE(WEXITSTATUS(status) == 0);
  };
  const std::string keys = (dir / "keys").string();
  openssl({"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", keys + "/ec.pem"});
  openssl({"genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:512", "-out", keys + "/rsa512.pem"});
  openssl({"genpkey", "-algorithm", "ED25519", "-aes256", "-pass", "pass:secret", "-out", keys + "/encrypted.pem"});
  write_file(dir / "keys" / "text.pem", "this is not a key\n");
  write_file(dir / "keys" / "empty.pem", "");
  std::filesystem::create_directories(dir / "keys" / "directory.pem");

  const std::vector<std::pair<std::string, std::string>> cases{
      {"missing.pem", "No such file"},
      {"directory.pem", "cannot read"},
      {"empty.pem", "empty"},
      {"text.pem", "not a PEM"},
      {"ec.pem", "an EC key"},
      {"rsa512.pem", "512 bits"},
      {"encrypted.pem", "encrypted"},
  };
  for (const auto& [file, reason] : cases) {
    INFO(file);
    const auto toml = volleyd_config(volleyd_options(9, 25), free_port(), dir / "spool", dir / "events.jsonl") +
                      "[[dkim]]\ndomain = \"example.test\"\nselector = \"sel-" + file.substr(0, file.find('.')) +
                      "\"\nkey_file = \"" + keys + "/" + file + "\"\n";
    write_file(dir / "volleyd.toml", toml);
    const auto [status, output] = run_with_input({Volleyd::binary(), "--config", (dir / "volleyd.toml").string()}, "",
                                                 dir.path());
    INFO(output);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 1);
    CHECK_THAT(output, Catch::Contains(keys + "/" + file) && Catch::Contains("domain = \"example.test\"") &&
                           Catch::Contains("selector = \"sel-" + file.substr(0, file.find('.')) + "\"") &&
                           Catch::Contains(reason));
    CHECK_FALSE(std::filesystem::exists(dir / "spool"));  // stopped before opening anything
  }
}
