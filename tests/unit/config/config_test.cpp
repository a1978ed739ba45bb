#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/config/config.hpp"

using namespace std::chrono_literals;
using volley::Config;
using volley::HostPort;
using volley::parse_config;
using volley::StaticRoute;

namespace {

Config parsed(std::string_view text) {
  auto result = parse_config(text, "volley.toml");
  INFO(result.error);
  REQUIRE(result.ok());
  REQUIRE(result.error.empty());
  return *result.config;
}

// The whole error report of a document that must be refused.
std::string error_of(std::string_view text) {
  auto result = parse_config(text, "volley.toml");
  REQUIRE_FALSE(result.ok());
  REQUIRE_FALSE(result.error.empty());
  return result.error;
}

}  // namespace

TEST_CASE("the defaults") {
  const Config c;
  CHECK(c.http.listen == HostPort{"127.0.0.1", 8025});
  CHECK(c.http.max_message_size == 25u * 1024 * 1024);
  CHECK(c.http.max_pending == 20000u);
  CHECK(c.spool.path == "./var/spool");
  CHECK(c.dns.servers.empty());
  CHECK(c.dns.timeout == 2000ms);
  CHECK(c.dns.attempts == 2);
  CHECK(c.dns.resolv_conf == "/etc/resolv.conf");
  CHECK(c.delivery.smtp_port == 25);
  CHECK(c.delivery.ehlo_name == volley::system_hostname());
  CHECK(c.delivery.max_connections_per_domain == 8u);
  CHECK(c.delivery.max_messages_per_connection == 1000u);
  CHECK(c.delivery.idle_timeout == 10s);
  CHECK(c.delivery.connect_timeout == 30s);
  CHECK(c.delivery.retry_first == 300s);
  CHECK(c.delivery.retry_max_interval == 3600s);
  CHECK(c.delivery.max_age == 5 * 24h);
  CHECK(c.routes.empty());
  CHECK(c.log.event_log == "./var/events.jsonl");
  CHECK(c.log.level == "info");
  CHECK(c.hostname == volley::system_hostname());
  CHECK(volley::is_host_name(c.hostname));
}

TEST_CASE("an empty document is the default configuration") {
  CHECK(parsed("") == Config{});
  CHECK(parsed("# nothing but a comment\n\n") == Config{});
}

TEST_CASE("the default document parses to the defaults and sets every key") {
  const auto text = volley::default_config_toml();
  CHECK(parsed(text) == Config{});
  for (const char* key : {"listen =", "max_message_size =", "max_pending =", "path =", "servers =", "timeout =",
                          "attempts =", "resolv_conf =", "smtp_port =", "ehlo_name =", "max_connections =",
                          "max_messages_per_connection =", "idle_timeout =", "connect_timeout =",
                          "retry_first =", "retry_max_interval =", "max_age =", "[[route]]", "domain =",
                          "host =", "port =", "event_log =", "level =", "hostname ="}) {
    INFO(key);
    CHECK(text.find(key) != std::string::npos);
  }
}

TEST_CASE("a full configuration") {
  const auto c = parsed(R"(
hostname = "mta1.example.net"

[http]
listen = "[::1]:9025"
max_message_size = "10MiB"
max_pending = 500

[spool]
path = "/var/spool/volley"

[dns]
servers = ["127.0.0.1:5353", "127.0.0.2", "[::1]", "::1"]
timeout = "250ms"
attempts = 3
resolv_conf = "/tmp/resolv.conf"

[delivery]
smtp_port = 2525
ehlo_name = "[192.0.2.1]"
max_connections = 4
max_messages_per_connection = 50
idle_timeout = 5
connect_timeout = "1m"
retry_first = "1s"
retry_max_interval = "1h30m"
max_age = "2d"

[[route]]
domain = "Example.COM."
host = "127.0.0.1"
port = 2526

[[route]]
domain = "relay.test"
host = "[::1]"

[log]
event_log = "/var/log/volley/events.jsonl"
level = "debug"
)");
  CHECK(c.hostname == "mta1.example.net");
  CHECK(c.http.listen == HostPort{"::1", 9025});
  CHECK(c.http.max_message_size == 10u * 1024 * 1024);
  CHECK(c.http.max_pending == 500u);
  CHECK(c.spool.path == "/var/spool/volley");
  CHECK(c.dns.servers == std::vector<HostPort>{{"127.0.0.1", 5353}, {"127.0.0.2", 53}, {"::1", 53}, {"::1", 53}});
  CHECK(c.dns.timeout == 250ms);
  CHECK(c.dns.attempts == 3);
  CHECK(c.dns.resolv_conf == "/tmp/resolv.conf");
  CHECK(c.delivery.smtp_port == 2525);
  CHECK(c.delivery.ehlo_name == "[192.0.2.1]");
  CHECK(c.delivery.max_connections_per_domain == 4u);
  CHECK(c.delivery.max_messages_per_connection == 50u);
  CHECK(c.delivery.idle_timeout == 5s);
  CHECK(c.delivery.connect_timeout == 60s);
  CHECK(c.delivery.retry_first == 1s);
  CHECK(c.delivery.retry_max_interval == 90min);
  CHECK(c.delivery.max_age == 48h);
  CHECK(c.routes == std::vector<StaticRoute>{{"example.com", "127.0.0.1", 2526}, {"relay.test", "::1", 25}});
  CHECK(c.log.event_log == "/var/log/volley/events.jsonl");
  CHECK(c.log.level == "debug");
}

TEST_CASE("dotted keys and inline tables are the same settings") {
  const auto c = parsed(
      "http.listen = \"127.0.0.1:0\"\n"
      "delivery = { smtp_port = 2525 }\n"
      "route = [{ domain = \"a.test\", host = \"127.0.0.1\" }]\n");
  CHECK(c.http.listen == HostPort{"127.0.0.1", 0});
  CHECK(c.delivery.smtp_port == 2525);
  CHECK(c.routes == std::vector<StaticRoute>{{"a.test", "127.0.0.1", 25}});
}

TEST_CASE("a syntax error names the file, the line and the column") {
  const auto error = error_of("[http]\nlisten = \"127.0.0.1:8025\"\nmax_pending = = 5\n");
  CHECK_THAT(error, Catch::StartsWith("volley.toml:3: syntax error at column "));
  const auto unterminated = error_of("[delivery]\n\nehlo_name = \"mail.example.com\n");
  CHECK_THAT(unterminated, Catch::StartsWith("volley.toml:3: syntax error"));
  CHECK_THAT(error_of("[http]\n[http]\n"), Catch::StartsWith("volley.toml:2: syntax error"));
}

TEST_CASE("a value of the wrong type names file, line and key") {
  CHECK(error_of("# Volley\n\n[delivery]\n\n\n\nsmtp_port = \"abc\"\n") ==
        "volley.toml:7: [delivery] smtp_port: expected an integer 1..65535, got \"abc\"");
  CHECK(error_of("[http]\nmax_pending = 1.5\n") ==
        "volley.toml:2: [http] max_pending: expected an integer 1..10000000, got 1.5");
  CHECK(error_of("[spool]\npath = 7\n") == "volley.toml:2: [spool] path: expected a file path, got 7");
  CHECK(error_of("[log]\nlevel = true\n") ==
        "volley.toml:2: [log] level: expected one of \"trace\" \"debug\" \"info\" \"warn\" \"error\" \"critical\" "
        "\"off\", got true");
  CHECK(error_of("[dns]\nservers = \"127.0.0.1\"\n") ==
        "volley.toml:2: [dns] servers: expected an array of at most 16 addresses such as [\"127.0.0.1\", "
        "\"[::1]:5353\"], got \"127.0.0.1\"");
  CHECK(error_of("hostname = [1]\n") ==
        "volley.toml:1: hostname: expected a host name such as \"mail.example.com\", got an array");
  CHECK(error_of("\nhttp = 5\n") == "volley.toml:2: http: expected a table [http], got 5");
  CHECK(error_of("[route]\ndomain = \"a.test\"\n") ==
        "volley.toml:1: route: expected [[route]] tables (an array of tables), got a table");
}

TEST_CASE("a value out of range names file, line and key") {
  CHECK(error_of("[delivery]\nsmtp_port = 70000\n") ==
        "volley.toml:2: [delivery] smtp_port: expected an integer 1..65535, got 70000");
  CHECK(error_of("[delivery]\nsmtp_port = 0\n") ==
        "volley.toml:2: [delivery] smtp_port: expected an integer 1..65535, got 0");
  CHECK(error_of("[delivery]\nmax_connections = -1\n") ==
        "volley.toml:2: [delivery] max_connections: expected an integer 1..10000, got -1");
  CHECK(error_of("[dns]\nattempts = 11\n") == "volley.toml:2: [dns] attempts: expected an integer 1..10, got 11");
  CHECK(error_of("[http]\nmax_message_size = \"2GiB\"\n") ==
        "volley.toml:2: [http] max_message_size: expected a size from 1KiB to 1GiB, got \"2GiB\"");
  CHECK(error_of("[http]\nmax_message_size = \"25MB\"\n") ==
        "volley.toml:2: [http] max_message_size: expected a size such as \"25MiB\", \"512KiB\" or a number of "
        "bytes, got \"25MB\"");
  CHECK(error_of("[[route]]\ndomain = \"a.test\"\nhost = \"127.0.0.1\"\nport = 65536\n") ==
        "volley.toml:4: [[route]] port: expected an integer 1..65535, got 65536");
}

TEST_CASE("unknown keys and tables are errors, with a guess for near misses") {
  CHECK(error_of("[http]\nlisten = \"127.0.0.1:8025\"\nlistn = \"x\"\n") ==
        "volley.toml:3: [http] listn: unknown key (did you mean \"listen\"?)");
  CHECK(error_of("[delivery]\nmax_connections_per_domain = 3\n") ==
        "volley.toml:2: [delivery] max_connections_per_domain: unknown key");
  CHECK(error_of("[delivery]\nretry_frist = \"1m\"\n") ==
        "volley.toml:2: [delivery] retry_frist: unknown key (did you mean \"retry_first\"?)");
  CHECK(error_of("\n[delivry]\nsmtp_port = 25\n") == "volley.toml:2: [delivry]: unknown table (did you mean [delivery]?)");
  CHECK(error_of("[metrics]\nlisten = \"127.0.0.1:9090\"\n") == "volley.toml:1: [metrics]: unknown table");
  CHECK(error_of("hostnme = \"a.test\"\n") == "volley.toml:1: hostnme: unknown key (did you mean \"hostname\"?)");
  CHECK(error_of("[http.tls]\ncert = \"x\"\n") == "volley.toml:1: [http] tls: unknown key");
  CHECK(error_of("[[route]]\ndomain = \"a.test\"\nhost = \"127.0.0.1\"\nprot = 25\n") ==
        "volley.toml:4: [[route]] prot: unknown key (did you mean \"port\"?)");
  // A key that is not a plain identifier is shown quoted and escaped, never raw.
  CHECK(error_of("[log]\n\"a\\nb\" = 1\n") == "volley.toml:2: [log] \"a\\x0ab\": unknown key");
}

TEST_CASE("bad durations name file, line and key") {
  CHECK(error_of("[delivery]\nretry_first = \"5 minutes\"\n") ==
        "volley.toml:2: [delivery] retry_first: expected a duration such as \"250ms\", \"30s\", \"5m\", \"1h\", "
        "\"5d\" or a number of seconds, got \"5 minutes\"");
  CHECK(error_of("[dns]\ntimeout = -3\n") ==
        "volley.toml:2: [dns] timeout: expected a duration such as \"250ms\", \"30s\", \"5m\", \"1h\", \"5d\" or a "
        "number of seconds, got -3");
  CHECK(error_of("[dns]\ntimeout = \"2m\"\n") ==
        "volley.toml:2: [dns] timeout: expected a duration from 10ms to 1m, got \"2m\"");
  CHECK(error_of("[delivery]\nidle_timeout = \"1500ms\"\n") ==
        "volley.toml:2: [delivery] idle_timeout: expected a whole number of seconds, got \"1500ms\"");
  CHECK(error_of("[delivery]\nmax_age = 0\n") ==
        "volley.toml:2: [delivery] max_age: expected a duration from 1s to 30d, got 0");
  CHECK(error_of("[delivery]\nretry_first = \"10m\"\nretry_max_interval = \"5m\"\n") ==
        "volley.toml:3: [delivery] retry_max_interval: must not be shorter than retry_first (10m), got \"5m\"");
  CHECK(error_of("[delivery]\nretry_first = \"2h\"\n") ==
        "volley.toml:1: [delivery] retry_max_interval: must not be shorter than retry_first (2h), and its "
        "default is 1h");
}

TEST_CASE("bad addresses name file, line and key, and say what is wrong") {
  CHECK(error_of("[http]\nlisten = \"localhost\"\n") ==
        "volley.toml:2: [http] listen: invalid address \"localhost\": a port is required, e.g. \"127.0.0.1:25\"");
  CHECK(error_of("[http]\nlisten = \"::1:8025\"\n") ==
        "volley.toml:2: [http] listen: invalid address \"::1:8025\": an IPv6 address with a port needs brackets, "
        "e.g. \"[::1]:25\"");
  CHECK(error_of("[http]\nlisten = \"127.0.0.1:99999\"\n") ==
        "volley.toml:2: [http] listen: invalid address \"127.0.0.1:99999\": the port must be 0..65535");
  CHECK(error_of("[dns]\nservers = [\n  \"127.0.0.1\",\n  \"ns1.example.com\",\n]\n") ==
        "volley.toml:2: [dns] servers: invalid address \"ns1.example.com\": expected an IP address, not a name");
  CHECK(error_of("[delivery]\nehlo_name = \"mail.example.com\\r\\nQUIT\"\n") ==
        "volley.toml:2: [delivery] ehlo_name: expected a host name or an address literal such as \"[192.0.2.1]\", "
        "got \"mail.example.com\\x0d\\x0aQUIT\"");
  CHECK(error_of("hostname = \"not a host\"\n") ==
        "volley.toml:1: hostname: expected a host name such as \"mail.example.com\", got \"not a host\"");
}

TEST_CASE("every [[route]] needs a domain and a host, and a domain has one route") {
  CHECK(error_of("[log]\nlevel = \"info\"\n\n[[route]]\nhost = \"127.0.0.1\"\nport = 2525\n") ==
        "volley.toml:4: [[route]] domain: missing (every [[route]] needs a domain and a host)");
  CHECK(error_of("[[route]]\ndomain = \"a.test\"\n") ==
        "volley.toml:1: [[route]] host: missing (every [[route]] needs a domain and a host)");
  CHECK(error_of("[[route]]\ndomain = \"a.test\"\nhost = \"127.0.0.1\"\n\n[[route]]\ndomain = \"A.TEST\"\n"
                 "host = \"127.0.0.2\"\n") == "volley.toml:6: [[route]] domain: \"a.test\" has a route already");
  CHECK(error_of("[[route]]\ndomain = \"*.test\"\nhost = \"127.0.0.1\"\n") ==
        "volley.toml:2: [[route]] domain: expected a domain name such as \"example.com\", got \"*.test\"");
  CHECK(error_of("[[route]]\ndomain = \"a.test\"\nhost = \"127.0.0.1:25\"\n") ==
        "volley.toml:3: [[route]] host: expected a host name or an IP address, got \"127.0.0.1:25\"");
  CHECK(error_of("route = [1]\n") == "volley.toml:1: [[route]]: expected a table with domain, host and port, got 1");
}

TEST_CASE("every problem is reported, in file order") {
  CHECK(error_of("[log]\nlevel = \"loud\"\n[http]\nmax_pending = 0\nlisten = \"x\"\n") ==
        "volley.toml:2: [log] level: expected one of \"trace\" \"debug\" \"info\" \"warn\" \"error\" \"critical\" "
        "\"off\", got \"loud\"\n"
        "volley.toml:4: [http] max_pending: expected an integer 1..10000000, got 0\n"
        "volley.toml:5: [http] listen: invalid address \"x\": a port is required, e.g. \"127.0.0.1:25\"");
}

TEST_CASE("hostile values are bounded in error messages") {
  const std::string huge(100'000, 'a');
  const auto error = error_of("[spool]\npath = 1\n[log]\nlevel = \"" + huge + "\"\n");
  CHECK(error.size() < 400);
  CHECK_THAT(error, Catch::EndsWith("...\""));
  CHECK_THAT(error_of("[spool]\npath = \"a\\u0000b\"\n"), Catch::StartsWith("volley.toml:2: [spool] path:"));
  CHECK_THAT(error_of(std::string("a = \"\xff\xfe\"\n")), Catch::StartsWith("volley.toml:1: syntax error"));
  CHECK_THAT(error_of(std::string(10'000, '[')), Catch::StartsWith("volley.toml:1: syntax error"));
  CHECK_THAT(error_of("a = " + std::string(10'000, '[')), Catch::StartsWith("volley.toml:1: syntax error"));
}

TEST_CASE("load_config_file reads a file and names it in errors") {
  const auto dir = std::filesystem::temp_directory_path() / ("volley-config-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = (dir / "volley.toml").string();

  std::ofstream(path) << "[delivery]\nsmtp_port = 2525\n";
  auto ok = volley::load_config_file(path);
  REQUIRE(ok.ok());
  CHECK(ok.config->delivery.smtp_port == 2525);

  std::ofstream(path) << "[delivery]\nsmtp_port = 2525\nsmtp_prot = 1\n";
  auto bad = volley::load_config_file(path);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error == path + ":3: [delivery] smtp_prot: unknown key (did you mean \"smtp_port\"?)");

  auto missing = volley::load_config_file((dir / "absent.toml").string());
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error == (dir / "absent.toml").string() + ": cannot open: No such file or directory");

  auto directory = volley::load_config_file(dir.string());
  REQUIRE_FALSE(directory.ok());
  CHECK(directory.error == dir.string() + ": not a regular file");

  std::ofstream(path) << std::string(2 * 1024 * 1024, '#');
  auto big = volley::load_config_file(path);
  REQUIRE_FALSE(big.ok());
  CHECK(big.error == path + ": larger than 1MiB, not a config file");

  std::filesystem::remove_all(dir);
}

TEST_CASE("the shipped example configuration parses") {
  auto result = volley::load_config_file(VOLLEY_SOURCE_DIR "/deploy/volley.example.toml");
  INFO(result.error);
  REQUIRE(result.ok());
  const auto& c = *result.config;
  CHECK(c.hostname == "mta1.example.net");
  CHECK(c.spool.path == "/var/lib/volley/spool");
  CHECK(c.dns.servers == std::vector<HostPort>{{"127.0.0.1", 53}, {"::1", 53}});
  CHECK(c.delivery.ehlo_name == "mta1.example.net");
  CHECK(c.routes == std::vector<StaticRoute>{{"internal.example.net", "relay.internal.example.net", 25},
                                             {"sink.test", "127.0.0.1", 2525}});
  // Everything else it sets is the default.
  Config expected;
  expected.hostname = c.hostname;
  expected.spool = c.spool;
  expected.dns.servers = c.dns.servers;
  expected.delivery.ehlo_name = c.delivery.ehlo_name;
  expected.routes = c.routes;
  expected.log.event_log = "/var/log/volley/events.jsonl";
  CHECK(c == expected);
}

TEST_CASE("mangled configurations are refused cleanly, never crash") {
  std::ifstream in(VOLLEY_SOURCE_DIR "/deploy/volley.example.toml");
  const std::string original((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE(original.size() > 1000);
  // Deterministic: the same mutations on every run.
  std::uint64_t state = 0x9e3779b97f4a7c15u;
  auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  const std::string alphabet = "[]{}=\"'.,:#\n\\0123456789azZ_- \x01\xff";
  for (int round = 0; round < 1500; ++round) {
    std::string text = original;
    for (int edits = 1 + static_cast<int>(next() % 4); edits > 0; --edits) {
      auto at = next() % text.size();
      switch (next() % 3) {
        case 0: text[at] = alphabet[next() % alphabet.size()]; break;
        case 1: text.erase(at, 1 + next() % 8); break;
        default: text.insert(at, 1, alphabet[next() % alphabet.size()]); break;
      }
    }
    auto result = parse_config(text, "volley.toml");
    if (!result.ok()) {
      INFO(result.error);
      CHECK_THAT(result.error, Catch::StartsWith("volley.toml:"));
    }
  }
}
