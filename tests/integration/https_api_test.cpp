// The HTTP API over TLS ([http] tls_certificate and tls_private_key): volleyd with a certificate
// for "localhost" from a CA the test makes, reached by volleyctl (queues, events --follow, reload)
// and by curl, an independent client; refused by clients that cannot verify it, with the reason;
// a plain-HTTP client on the TLS port gets no answer while the daemon goes on serving; a reload
// serves a renewed certificate to new connections; an unusable pair stops the start and fails
// --check-config.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../support/test_pki.hpp"
#include "ctl_fixture.hpp"
#include "receiver_fixture.hpp"
#include "volleyd_fixture.hpp"

using namespace volley::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// curl's stdout and stderr; `-w %{http_code}` prints 000 when no HTTP answer came.
std::string curl(const std::filesystem::path& dir, std::vector<std::string> args) {
  args.insert(args.begin(), {"/usr/bin/curl", "-s", "--max-time", "20"});
  return run_with_input(args, "", dir).second;
}

// A server certificate for localhost from `ca`, as the chain and key files volleyd reads.
void write_server_files(const TestPki& ca, const std::filesystem::path& chain, const std::filesystem::path& key) {
  const auto leaf = ca.issue({"localhost"});
  write_file(chain, TestPki::chain_pem(leaf, ca.ca()));
  write_file(key, leaf.key_pem());
}

// volleyd speaking HTTPS on its API port, delivering https.test to a receiver.
struct HttpsRig {
  explicit HttpsRig(const char* name)
      : dir(name), files(write(dir, pki)), receiver(dir / "receiver", ""), volleyd(dir / "volleyd", options()) {}

  struct Files {
    std::filesystem::path chain, key, ca;
  };
  static Files write(const TempDir& d, const TestPki& pki) {
    Files f{d / "chain.pem", d / "key.pem", d / "ca.pem"};
    write_server_files(pki, f.chain, f.key);
    write_file(f.ca, pki.ca().cert_pem());
    return f;
  }

  VolleydOptions options() {
    VolleydOptions o;
    o.dns_port = 9;  // nothing: delivery goes by [[route]]
    o.smtp_port = 25;
    o.routes.push_back(Route{"https.test", "127.0.0.1", receiver.port()});
    o.http_extra = "tls_certificate = \"" + files.chain.string() + "\"\ntls_private_key = \"" + files.key.string() + "\"\n";
    o.healthy = [this](std::uint16_t port) { return code("/healthz", files.ca, port) == "200"; };
    return o;
  }

  std::string url(std::uint16_t port) const { return "https://localhost:" + std::to_string(port); }
  std::string url() const { return url(volleyd.http_port()); }
  // The status curl gets for GET path when it trusts `ca`.
  std::string code(const std::string& path, const std::filesystem::path& ca, std::uint16_t port) const {
    return curl(dir.path(), {"-o", "/dev/null", "-w", "%{http_code}", "--cacert", ca.string(), url(port) + path});
  }
  std::string code(const std::string& path, const std::filesystem::path& ca) const {
    return code(path, ca, volleyd.http_port());
  }
  // volleyctl at `at` (default: url()), each one writing output files of its own.
  Ctl ctl(std::vector<std::string> env = {}, std::string at = {}) {
    return Ctl(dir.path(), at.empty() ? url() : at, 1000 * ++ctls, std::move(env));
  }

  TempDir dir;
  TestPki pki;
  Files files;
  SmtpReceiver receiver;
  Volleyd volleyd;
  int ctls = 0;
};

int lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

}  // namespace

TEST_CASE("HTTPS API: volleyctl with the CA and curl are answered, an unverifiable certificate is exit 2 with the reason",
          "[integration][https][volleyctl]") {
  HttpsRig rig("volley-it-https");
  const std::string ca = rig.files.ca.string();
  CHECK(rig.volleyd.log().find("(HTTPS)") != std::string::npos);

  // curl, a client that is not Volley's, verifies the certificate against the test's CA.
  CHECK(rig.code("/healthz", rig.files.ca) == "200");

  // volleyctl with --cacert, and with VOLLEY_CACERT.
  auto with_flag = rig.ctl();
  const auto queues = with_flag.run("", {"--cacert", ca, "--json", "queues"});
  INFO(queues.err);
  REQUIRE(queues.exit == 0);
  CHECK(json::parse(queues.out).contains("queues"));
  auto with_env = rig.ctl({"VOLLEY_CACERT=" + ca});
  const auto table = with_env.run("", {"queues"});
  INFO(table.err);
  CHECK(table.exit == 0);

  // The system's trust store does not know the test's CA; nor does another CA's file.
  auto untrusted = rig.ctl().run("", {"queues"});
  CHECK(untrusted.exit == 2);
  CHECK(untrusted.err.find(": TLS handshake failed: the daemon's certificate is not trusted: ") != std::string::npos);
  CHECK(untrusted.err.find("--cacert") != std::string::npos);
  CHECK(lines(untrusted.err) == 1);
  TestPki stranger("Some Other CA");
  write_file(rig.dir / "other-ca.pem", stranger.ca().cert_pem());
  const auto other = rig.ctl().run("", {"--cacert", (rig.dir / "other-ca.pem").string(), "queues"});
  CHECK(other.exit == 2);
  CHECK(other.err.find("certificate is not trusted") != std::string::npos);
  // The certificate names localhost, not the address 127.0.0.1: the name is checked.
  const auto misnamed = rig.ctl({}, "https://127.0.0.1:" + std::to_string(rig.volleyd.http_port())).run("", {"--cacert", ca, "queues"});
  CHECK(misnamed.exit == 2);
  CHECK(misnamed.err.find("IP address mismatch") != std::string::npos);
  // A --cacert file that holds no certificate is bad usage.
  write_file(rig.dir / "empty.pem", "");
  const auto empty = rig.ctl().run("", {"--cacert", (rig.dir / "empty.pem").string(), "queues"});
  CHECK(empty.exit == 2);
  CHECK(empty.err.find("--cacert " + (rig.dir / "empty.pem").string() + ": ") != std::string::npos);

  // Plain HTTP on the TLS port gets no HTTP answer (the handshake fails), and the daemon goes on.
  const std::string plain = "http://localhost:" + std::to_string(rig.volleyd.http_port());
  CHECK(curl(rig.dir.path(), {"-o", "/dev/null", "-w", "%{http_code}", plain + "/healthz"}) == "000");
  const auto plain_run = rig.ctl({}, plain).run("", {"queues"});
  CHECK(plain_run.exit == 2);
  CHECK(plain_run.err.find("an https:// listener?") != std::string::npos);
  CHECK(rig.volleyd.running());
  CHECK(rig.code("/healthz", rig.files.ca) == "200");
  CHECK(rig.code("/metrics", rig.files.ca) == "200");
}

TEST_CASE("HTTPS API: events --follow over TLS, and a reload serves a renewed certificate",
          "[integration][https][volleyctl]") {
  HttpsRig rig("volley-it-https-follow");
  const std::string ca = rig.files.ca.string();

  // A follower over TLS, then a message injected over TLS by curl.
  const auto out = rig.dir / "follow.out", err = rig.dir / "follow.err";
  auto ctl = rig.ctl();
  ChildProcess follower(
      ctl.argv("", {"--cacert", ca, "--json", "events", "--follow", "--type", "delivered", "--count", "1"}, err.string()),
      out);
  REQUIRE(wait_until([&] { return read_file(err).find("following events at " + rig.url()) != std::string::npos; }, 30s));
  const auto injected = curl(rig.dir.path(), {"-w", "\n%{http_code}", "--cacert", ca, "-H", "Content-Type: application/json",
                                              "-d", R"({"from":"a@volley.test","to":["x@https.test"],"subject":"s","text":"t"})",
                                              rig.url() + "/api/v1/messages"});
  INFO(injected);
  CHECK(injected.substr(injected.size() - 3) == "202");
  const auto status = follower.wait_for(30s);
  INFO(read_file(err));
  REQUIRE(status);
  CHECK(WEXITSTATUS(*status) == 0);
  const auto e = json::parse(read_file(out));
  CHECK(e["event"] == "delivered");
  CHECK(e["recipient"] == "x@https.test");

  // Renewed by another CA, in the same files: a reload serves it to new connections.
  TestPki renewed_ca("Volley Renewal CA");
  write_server_files(renewed_ca, rig.files.chain, rig.files.key);
  write_file(rig.dir / "renewed-ca.pem", renewed_ca.ca().cert_pem());
  const auto renewed = rig.dir / "renewed-ca.pem";
  const auto reload = rig.ctl().run("", {"--cacert", ca, "reload"});
  INFO(reload.err);
  CHECK(reload.exit == 0);
  CHECK(reload.out == "reloaded; changed: http.tls\n");
  CHECK(rig.code("/healthz", renewed) == "200");
  CHECK(rig.code("/healthz", rig.files.ca) == "000");
  // The same files again: nothing changed.
  CHECK(rig.ctl().run("", {"--cacert", renewed.string(), "reload"}).out == "reloaded; changed: nothing\n");

  // A key that does not belong to the certificate: the reload is refused, the certificate stays.
  write_file(rig.files.key, renewed_ca.issue({"localhost"}).key_pem());
  const auto refused = rig.ctl().run("", {"--cacert", renewed.string(), "reload"});
  CHECK(refused.exit == 1);
  CHECK(refused.err.find("422 invalid_configuration: [http]: TLS private key") != std::string::npos);
  CHECK(refused.err.find("does not match certificate") != std::string::npos);
  CHECK(rig.code("/healthz", renewed) == "200");
}

TEST_CASE("HTTPS API: a certificate and key that cannot be used stop volleyd at start and fail --check-config",
          "[integration][https]") {
  TempDir dir("volley-it-https-bad");
  TestPki pki;
  write_server_files(pki, dir / "chain.pem", dir / "key.pem");
  write_file(dir / "stranger-key.pem", pki.issue({"localhost"}).key_pem());
  auto config = [&](const std::string& http_extra) {
    VolleydOptions o;
    o.dns_port = 9;
    o.smtp_port = 25;
    o.http_extra = http_extra;
    const auto path = dir / "volleyd.toml";
    write_file(path, volleyd_config(o, free_port(), dir / "spool", dir / "events.jsonl"));
    return path;
  };
  auto pair = [&](const std::string& cert, const std::string& key) {
    return "tls_certificate = \"" + (dir / cert).string() + "\"\ntls_private_key = \"" + (dir / key).string() + "\"\n";
  };
  auto check = [&](const std::filesystem::path& path) {
    return run_with_input({Volleyd::binary(), "--check-config", path.string()}, "", dir.path());
  };

  SECTION("a key that is not the certificate's") {
    const auto path = config(pair("chain.pem", "stranger-key.pem"));
    const auto [rc, out] = check(path);
    CHECK(WEXITSTATUS(rc) == 2);
    CHECK(out.find("[http]: TLS private key " + (dir / "stranger-key.pem").string() + " does not match certificate") !=
          std::string::npos);
    ChildProcess daemon({Volleyd::binary(), "--config", path.string()}, dir / "volleyd.log");
    const auto status = daemon.wait_for(30s);
    REQUIRE(status);
    CHECK(WEXITSTATUS(*status) == 1);
    CHECK(read_file(dir / "volleyd.log").find("[http] TLS private key") != std::string::npos);
  }
  SECTION("a certificate file that is not there") {
    const auto [rc, out] = check(config(pair("missing.pem", "key.pem")));
    CHECK(WEXITSTATUS(rc) == 2);
    CHECK(out.find("TLS certificate " + (dir / "missing.pem").string() + " (PEM chain) cannot be loaded") != std::string::npos);
  }
  SECTION("a certificate without its key") {
    const auto [rc, out] = check(config("tls_certificate = \"" + (dir / "chain.pem").string() + "\"\n"));
    CHECK(WEXITSTATUS(rc) == 2);
    CHECK(out.find("HTTPS needs both tls_certificate and tls_private_key") != std::string::npos);
  }
  SECTION("a good pair") {
    const auto [rc, out] = check(config(pair("chain.pem", "key.pem")));
    INFO(out);
    CHECK(WEXITSTATUS(rc) == 0);
  }
}

TEST_CASE("volleyd --check-config reads the listeners' certificates too: smtp_in, submission, unsubscribe",
          "[integration][https]") {
  TempDir dir("volley-it-check-listener-tls");
  TestPki pki;
  write_server_files(pki, dir / "chain.pem", dir / "key.pem");
  auto check = [&](const std::string& table, const std::string& cert, const std::string& extra) {
    VolleydOptions o;
    o.dns_port = 9;
    o.smtp_port = 25;
    o.extra_toml = "[" + table + "]\nlisten = \"127.0.0.1:0\"\n" + extra + "tls_certificate = \"" +
                   (dir / cert).string() + "\"\ntls_private_key = \"" + (dir / "key.pem").string() + "\"\n";
    const auto path = dir / (table + ".toml");
    write_file(path, volleyd_config(o, free_port(), dir / "spool", dir / "events.jsonl"));
    return run_with_input({Volleyd::binary(), "--check-config", path.string()}, "", dir.path());
  };
  const std::vector<std::pair<std::string, std::string>> tables{
      {"smtp_in", ""}, {"submission", ""}, {"unsubscribe", "base_url = \"https://mta.example.com\"\n"}};
  for (const auto& [table, extra] : tables) {
    INFO("[" << table << "]");
    const auto [bad_rc, bad_out] = check(table, "missing.pem", extra);
    INFO(bad_out);
    CHECK(WEXITSTATUS(bad_rc) == 2);
    CHECK(bad_out.find("[" + table + "]: TLS certificate " + (dir / "missing.pem").string()) != std::string::npos);
    const auto [good_rc, good_out] = check(table, "chain.pem", extra);
    INFO(good_out);
    CHECK(WEXITSTATUS(good_rc) == 0);
  }
}
