#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

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

// The document with every commented-out example line (a table header or a key = value)
// uncommented, and the prose left alone.
std::string uncommented(const std::string& document) {
  std::istringstream in(document);
  std::string text;
  for (std::string line; std::getline(in, line);) {
    const bool header = line.starts_with("# [") && line.ends_with("]") && line.find(' ', 2) == std::string::npos;
    const auto equals = line.find(" = ");
    const bool setting = line.starts_with("# ") && equals != std::string::npos &&
                         line.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_", 2) == equals;
    text += (header || setting ? line.substr(2) : line) + "\n";
  }
  return text;
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
  CHECK(c.shaping.defaults.max_connections == 8u);
  CHECK(c.shaping.defaults.max_messages_per_connection == 1000u);
  CHECK(c.shaping.defaults.idle_timeout == 10s);
  CHECK(c.delivery.connect_timeout == 30s);
  CHECK(c.shaping.defaults.retry.first == 300s);
  CHECK(c.shaping.defaults.retry.max_interval == 3600s);
  CHECK(c.shaping.defaults.retry.max_age == 5 * 24h);
  CHECK(c.delivery.bounce_rules.empty());
  CHECK(c.routes.empty());
  CHECK(c.ip_pools == volley::delivery::IpPools::builtin(volley::system_hostname()));
  CHECK(c.shaping == volley::delivery::ShapingPolicy{});
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
                          "host =", "port =", "event_log =", "level =", "hostname =", "default_pool =",
                          "bounce_rules =", "greylist_retry =", "[[source]]", "address =", "ehlo_name =",
                          "[[pool]]", "sources =", "weight =", "[[pool_rule]]", "tenant =", "sender_domain =",
                          "pool =", "[shaping.default]", "max_connection_rate =", "max_message_rate =",
                          "max_recipients_per_transaction =", "rate_limit_cooldown =", "rate_limit_recovery_step =",
                          "[[shaping.provider]]", "name =", "mx_suffixes =", "[[shaping.domain]]",
                          "[[shaping.source]]", "source =", "provider =", "worker_threads =", "scheduling_policy ="}) {
    INFO(key);
    CHECK(text.find(key) != std::string::npos);
  }
}

TEST_CASE("a full configuration") {
  const auto c = parsed(R"(
hostname = "mta1.example.net"
worker_threads = 3
scheduling_policy = "inherit"

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
  CHECK(c.worker_threads == 3);
  CHECK(c.scheduling_policy == "inherit");
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
  CHECK(c.shaping.defaults.max_connections == 4u);
  CHECK(c.shaping.defaults.max_messages_per_connection == 50u);
  CHECK(c.shaping.defaults.idle_timeout == 5s);
  CHECK(c.delivery.connect_timeout == 60s);
  CHECK(c.shaping.defaults.retry.first == 1s);
  CHECK(c.shaping.defaults.retry.max_interval == 90min);
  CHECK(c.shaping.defaults.retry.max_age == 48h);
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
  CHECK(error_of("[telemetry]\nlisten = \"127.0.0.1:9090\"\n") == "volley.toml:1: [telemetry]: unknown table");
  CHECK(error_of("[metrics]\nlisten = \"127.0.0.1:9090\"\n") == "volley.toml:2: [metrics] listen: unknown key");
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
  CHECK(error_of("worker_threads = 300\n").rfind("volley.toml:1: worker_threads: expected an integer 0..256", 0) == 0);
  CHECK(error_of("scheduling_policy = \"fifo\"\n").rfind("volley.toml:1: scheduling_policy: expected one of", 0) == 0);
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
  CHECK(c.shaping.defaults.retry.greylist == std::vector{300s, 600s, 1200s, 1800s});
  REQUIRE(c.shaping.providers.size() == 3);
  CHECK(c.shaping.providers[1].name == "microsoft");
  CHECK(c.shaping.providers[1].mx_suffixes == std::vector<std::string>{".protection.outlook.com"});
  // Everything else it sets is the default.
  Config expected;
  expected.hostname = c.hostname;
  expected.spool = c.spool;
  expected.dns.servers = c.dns.servers;
  expected.delivery.ehlo_name = c.delivery.ehlo_name;
  expected.routes = c.routes;
  expected.ip_pools = volley::delivery::IpPools::builtin(c.delivery.ehlo_name);
  expected.shaping.defaults.retry.greylist = c.shaping.defaults.retry.greylist;
  expected.shaping.providers = c.shaping.providers;
  expected.log.event_log = "/var/log/volley/events.jsonl";
  // No key ships enabled: an example key whose secret is public would open every installation
  // that kept it (it once held the digest of "test", as an admin key).
  CHECK(c.api_keys.empty());
  CHECK(c == expected);
}

TEST_CASE("the example's API keys, once uncommented, are placeholders with no known secret") {
  std::ifstream in(VOLLEY_SOURCE_DIR "/deploy/volley.example.toml");
  const std::string original((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto c = parsed(uncommented(original));
  REQUIRE(c.api_keys.size() == 2);
  CHECK(c.api_keys[0].tenant == "acme");
  CHECK(c.api_keys[1].admin);
  // SHA-256 of "", "test", "admin", "password", "secret", "changeme".
  const std::vector<std::string> weak = {
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
      "8c6976e5b5410415bde908bd4dee15dfb167a9c873fc4bb8a81f6f2ab448a918",
      "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8",
      "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b",
      "057ba03d6c44104863dc7361fe4578965d1887360f90a0895882e58a6248fc86"};
  for (const auto& k : c.api_keys) {
    INFO(k.name);
    CHECK(std::find(weak.begin(), weak.end(), k.key_sha256) == weak.end());
    CHECK(k.key_sha256.find_first_not_of(k.key_sha256[0]) == std::string::npos);  // all one digit
  }
}

TEST_CASE("the commented examples of the shipped example configuration are valid too") {
  std::ifstream in(VOLLEY_SOURCE_DIR "/deploy/volley.example.toml");
  const std::string original((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto c = parsed(uncommented(original));
  CHECK(c.ip_pools.default_pool == "shared");
  CHECK(c.ip_pools.pools.size() == 2);
  CHECK(c.shaping.sources.size() == 1);
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

TEST_CASE("the commented examples of the default document are valid too") {
  const auto c = parsed(uncommented(volley::default_config_toml()));
  CHECK(c.hostname == "mail.example.com");
  CHECK(c.ip_pools.pools.size() == 2);
  CHECK(c.ip_pools.rules.size() == 1);
  CHECK(c.ip_pools.default_pool == "shared");
  CHECK(c.delivery.bounce_rules == "/etc/volley/bounce-rules.toml");
  CHECK(c.spool.min_free_bytes == (std::uint64_t{2} << 30));
  CHECK(c.shaping.providers.size() == 1);
  CHECK(c.shaping.domains.size() == 1);
  CHECK(c.shaping.sources.size() == 1);
  REQUIRE(c.api_keys.size() == 1);
  CHECK(c.api_keys[0].tenant == "acme");
  REQUIRE(c.submission_users.size() == 1);
  CHECK(c.submission_users[0].pool == "acme");
  CHECK(c.submission.listen);
}

TEST_CASE("sources, pools and pool rules") {
  using volley::delivery::IpPools;
  const auto c = parsed(R"(
[delivery]
ehlo_name = "mta.example.net"
default_pool = "shared"

[[source]]
name = "ip1"
address = "127.0.0.2"
ehlo_name = "o1.mta.example.com"

[[source]]
name = "ip2"
address = "[2001:DB8::2]"

[[pool]]
name = "shared"
sources = [{ name = "ip1", weight = 3 }, { name = "ip2", weight = 1 }]

[[pool]]
name = "dedicated-acme"
sources = [{ name = "ip2" }]

[[pool_rule]]
tenant = "acme"
pool = "dedicated-acme"

[[pool_rule]]
sender_domain = "News.Example.ORG"
tenant = "initech"
pool = "shared"
)");
  IpPools expected;
  expected.sources = {{"ip1", "127.0.0.2", "o1.mta.example.com"}, {"ip2", "2001:db8::2", "mta.example.net"}};
  expected.pools = {{"shared", {{"ip1", 3}, {"ip2", 1}}}, {"dedicated-acme", {{"ip2", 1}}}};
  expected.rules = {{"acme", "", "dedicated-acme"}, {"initech", "news.example.org", "shared"}};
  expected.default_pool = "shared";
  CHECK(c.ip_pools == expected);
}

TEST_CASE("without pools, the built-in one says [delivery] ehlo_name, one pool is the default") {
  CHECK(parsed("[delivery]\nehlo_name = \"mta.example.net\"\n").ip_pools ==
        volley::delivery::IpPools::builtin("mta.example.net"));
  CHECK(parsed("[delivery]\ndefault_pool = \"default\"\n").ip_pools.default_pool == "default");
  const auto one = parsed("[[source]]\nname = \"a\"\naddress = \"127.0.0.2\"\n[[pool]]\nname = \"p\"\n"
                          "sources = [{ name = \"a\" }]\n");
  CHECK(one.ip_pools.default_pool == "p");
  CHECK(one.ip_pools.sources.front().ehlo_name == volley::system_hostname());
}

TEST_CASE("pool mistakes name file, line and key") {
  const std::string two_sources =
      "[[source]]\nname = \"ip1\"\naddress = \"127.0.0.2\"\n"   // lines 1-3
      "[[source]]\nname = \"ip2\"\naddress = \"127.0.0.3\"\n";  // lines 4-6
  const std::string one_pool = "[[pool]]\nname = \"p\"\nsources = [{ name = \"ip1\" }, { name = \"ip2\" }]\n";
  CHECK(error_of(two_sources + "[[pool]]\nname = \"p\"\nsources = [{ name = \"ip1\" }, { name = \"ip3\" }]\n") ==
        "volley.toml:5: [[source]] name: \"ip2\" is in no [[pool]]\n"
        "volley.toml:9: [[pool]] sources name: no [[source]] named \"ip3\"");
  CHECK(error_of(two_sources + "[[pool]]\nname = \"p\"\nsources = [{ name = \"ip1\", weight = 0 }, { name = \"ip2\" }]\n") ==
        "volley.toml:9: [[pool]] sources weight: expected an integer 1..1000, got 0");
  CHECK(error_of(two_sources + "[[pool]]\nname = \"p\"\nsources = [{ name = \"ip1\" }, { name = \"ip2\" }, { name = \"ip1\" }]\n") ==
        "volley.toml:9: [[pool]] sources name: \"ip1\" is in this pool already");
  CHECK(error_of(two_sources + "[[pool]]\nname = \"p\"\nsources = []\n") ==
        "volley.toml:2: [[source]] name: \"ip1\" is in no [[pool]]\n"
        "volley.toml:5: [[source]] name: \"ip2\" is in no [[pool]]\n"
        "volley.toml:9: [[pool]] sources: expected an array such as [{ name = \"ip1\", weight = 3 }, { name = \"ip2\" }], "
        "got an array");
  CHECK(error_of(two_sources + one_pool + "[[pool]]\nname = \"p\"\nsources = [{ name = \"ip1\" }]\n") ==
        "volley.toml:11: [[pool]] name: \"p\" names another [[pool]] already");
  CHECK(error_of("[[source]]\nname = \"ip1\"\naddress = \"127.0.0.2\"\n[[source]]\nname = \"ip1\"\naddress = \"127.0.0.3\"\n"
                 "[[pool]]\nname = \"p\"\nsources = [{ name = \"ip1\" }]\n") ==
        "volley.toml:5: [[source]] name: \"ip1\" names another [[source]] already");
  CHECK(error_of("[[source]]\nname = \"ip1\"\naddress = \"127.0.0.2\"\n[[source]]\nname = \"ip2\"\naddress = \"127.0.0.2\"\n"
                 "[[pool]]\nname = \"p\"\nsources = [{ name = \"ip1\" }]\n") ==
        "volley.toml:6: [[source]] address: \"127.0.0.2\" is the address of source \"ip1\"");
  CHECK(error_of("[[source]]\nname = \"ip1\"\naddress = \"mail.example.com\"\nehlo_name = \"not a name\"\n") ==
        "volley.toml:3: [[source]] address: expected an IPv4 or IPv6 address such as \"192.0.2.1\" or "
        "\"2001:db8::1\", got \"mail.example.com\"\n"
        "volley.toml:4: [[source]] ehlo_name: expected a host name or an address literal such as \"[192.0.2.1]\", "
        "got \"not a name\"");
  CHECK(error_of("\n[[source]]\nname = \"ip 1\"\n") ==
        "volley.toml:2: [[source]] address: missing (every [[source]] needs a name and an address)\n"
        "volley.toml:3: [[source]] name: expected a name of 1 to 64 letters, digits, '.', '_' or '-', got \"ip 1\"");
  CHECK(error_of(two_sources + one_pool + "[[pool_rule]]\npool = \"p\"\n[[pool_rule]]\ntenant = \"acme\"\npool = \"q\"\n") ==
        "volley.toml:10: [[pool_rule]] tenant: missing (every [[pool_rule]] needs a tenant, a sender_domain or both)\n"
        "volley.toml:14: [[pool_rule]] pool: no [[pool]] named \"q\"");
  CHECK(error_of(two_sources + one_pool + "[delivery]\ndefault_pool = \"shared\"\n") ==
        "volley.toml:11: [delivery] default_pool: no [[pool]] named \"shared\"");
  CHECK(error_of("[delivery]\ndefault_pool = \"shared\"\n") ==
        "volley.toml:2: [delivery] default_pool: no [[pool]] named \"shared\"");
  CHECK(error_of(two_sources + one_pool + "[[pool]]\nname = \"q\"\nsources = [{ name = \"ip1\" }]\n") ==
        "volley.toml:10: [delivery] default_pool: missing (required when there is more than one [[pool]])");
  CHECK(error_of("[[source]]\nname = \"ip1\"\naddress = \"127.0.0.2\"\nport = 25\n") ==
        "volley.toml:2: [[source]] name: \"ip1\" is in no [[pool]]\n"
        "volley.toml:4: [[source]] port: unknown key");
  CHECK(error_of("pool = 1\n") == "volley.toml:1: pool: expected [[pool]] tables (an array of tables), got 1");
}

TEST_CASE("shaping layers") {
  using volley::delivery::Rate;
  const auto c = parsed(R"(
[[source]]
name = "ip2"
address = "127.0.0.3"
[[pool]]
name = "shared"
sources = [{ name = "ip2" }]

[delivery]
max_connections = 6
greylist_retry = ["5m", "10m", 1200, "30m"]

[shaping.default]
max_message_rate = "100/s"
max_recipients_per_transaction = 50
rate_limit_cooldown = "10m"

[[shaping.provider]]
name = "google"
mx_suffixes = [".google.com", "GoogleMail.com."]
max_connections = 20
max_connection_rate = "30/m"

[[shaping.domain]]
domain = "Example.ORG"
max_message_rate = "2000/h"
retry_first = "1m"
retry_max_interval = "10m"

[[shaping.source]]
source = "ip2"
provider = "google"
max_message_rate = "50/s"

[[shaping.source]]
source = "ip2"
max_messages_per_connection = 10
)");
  const auto& s = c.shaping;
  volley::delivery::Limits defaults;
  defaults.max_connections = 6;
  defaults.retry.greylist = {300s, 600s, 1200s, 1800s};
  defaults.max_message_rate = Rate{100, 1'000};
  defaults.max_recipients_per_transaction = 50;
  defaults.backoff.cooldown = 600s;
  CHECK(s.defaults == defaults);
  REQUIRE(s.providers.size() == 1);
  CHECK(s.providers[0].name == "google");
  CHECK(s.providers[0].mx_suffixes == std::vector<std::string>{".google.com", ".googlemail.com"});
  CHECK(s.providers[0].limits.max_connections == 20u);
  CHECK(s.providers[0].limits.max_connection_rate == Rate{30, 60'000});
  CHECK_FALSE(s.providers[0].limits.max_message_rate);
  REQUIRE(s.domains.size() == 1);
  CHECK(s.domains[0].domain == "example.org");
  CHECK(s.domains[0].limits.retry_first == 60s);
  REQUIRE(s.sources.size() == 2);
  CHECK(s.sources[0].provider == "google");
  CHECK(s.sources[1].provider.empty());
  CHECK(s.sources[1].limits.max_messages_per_connection == 10u);

  const std::vector<std::string> mx = {"gmail-smtp-in.l.google.com"};
  const auto ip2 = volley::delivery::resolve_shaping(s, "gmail.com", mx, "ip2");
  CHECK(ip2.rollup_key == "google");
  CHECK(ip2.limits.max_connections == 20);
  CHECK(ip2.limits.max_message_rate == Rate{50, 1'000});
  CHECK(ip2.limits.max_messages_per_connection == 10);
  CHECK(ip2.limits.max_recipients_per_transaction == 50);
}

TEST_CASE("[shaping.default] is the same layer as [delivery]'s limit keys") {
  const auto c = parsed("[shaping.default]\nmax_connections = 3\nidle_timeout = \"20s\"\nmax_age = \"1d\"\n");
  CHECK(c.shaping.defaults.max_connections == 3);
  CHECK(c.shaping.defaults.idle_timeout == 20s);
  CHECK(c.shaping.defaults.retry.max_age == 24h);
  CHECK(error_of("[delivery]\nmax_connections = 4\n\n[shaping.default]\nmax_connections = 3\n") ==
        "volley.toml:5: [shaping.default] max_connections: also set in [delivery] on line 2 (set it in one of them)");
  CHECK(error_of("[delivery]\nretry_first = \"10m\"\n[shaping.default]\nretry_max_interval = \"5m\"\n") ==
        "volley.toml:4: [shaping.default] retry_max_interval: must not be shorter than retry_first (10m), got \"5m\"");
  CHECK(error_of("[shaping.default]\nretry_first = \"2h\"\n") ==
        "volley.toml:1: [shaping.default] retry_max_interval: must not be shorter than retry_first (2h), and its "
        "default is 1h");
  // [delivery] keeps only the limit keys it had (and greylist_retry).
  CHECK(error_of("[delivery]\nmax_message_rate = \"10/s\"\n") == "volley.toml:2: [delivery] max_message_rate: unknown key");
}

TEST_CASE("shaping mistakes name file, line and key") {
  CHECK(error_of("[shaping.default]\nmax_message_rate = \"1.5/s\"\n") ==
        "volley.toml:2: [shaping.default] max_message_rate: expected a rate such as \"100/s\", \"30/m\", \"2000/h\" "
        "or \"5000/d\" (a whole number from 1 to 1000000 per second, minute, hour or day) or \"unlimited\", got "
        "\"1.5/s\"");
  CHECK(error_of("[delivery]\ngreylist_retry = [\"5m\", \"soon\"]\n") ==
        "volley.toml:2: [delivery] greylist_retry: expected a duration such as \"250ms\", \"30s\", \"5m\", \"1h\", "
        "\"5d\" or a number of seconds, got \"soon\"");
  CHECK(error_of("[delivery]\ngreylist_retry = \"5m\"\n") ==
        "volley.toml:2: [delivery] greylist_retry: expected an array of at most 20 durations such as [\"5m\", "
        "\"10m\", \"20m\"], got \"5m\"");
  CHECK(error_of("[shaping.domian]\nx = 1\n") ==
        "volley.toml:1: [shaping] domian: unknown key (did you mean \"domain\"?)");
  CHECK(error_of("[[shaping.domain]]\ndomain = \"a.test\"\nmax_conections = 3\n") ==
        "volley.toml:3: [[shaping.domain]] max_conections: unknown key (did you mean \"max_connections\"?)");
  CHECK(error_of("[[shaping.domain]]\ndomain = \"a.test\"\n[[shaping.domain]]\ndomain = \"A.test.\"\n") ==
        "volley.toml:4: [[shaping.domain]] domain: \"a.test\" has a [[shaping.domain]] already");
  CHECK(error_of("[[shaping.domain]]\nmax_connections = 3\n") ==
        "volley.toml:1: [[shaping.domain]] domain: missing (every [[shaping.domain]] needs a domain)");
  CHECK(error_of("[[shaping.domain]]\ndomain = \"a.test\"\nretry_first = \"1h\"\nretry_max_interval = \"30m\"\n") ==
        "volley.toml:4: [[shaping.domain]] retry_max_interval: must not be shorter than retry_first (1h), got \"30m\"");
  CHECK(error_of("[[shaping.provider]]\nname = \"google.com\"\nmx_suffixes = [\".google.com\", \"*.x\"]\n") ==
        "volley.toml:2: [[shaping.provider]] name: expected a provider name of 1 to 64 lower-case letters, digits, "
        "'_' or '-', got \"google.com\"\n"
        "volley.toml:3: [[shaping.provider]] mx_suffixes: expected an array of 1 to 32 host-name suffixes such as "
        "[\".google.com\", \".googlemail.com\"], got \"*.x\"");
  CHECK(error_of("[[shaping.provider]]\nname = \"g\"\nmx_suffixes = [\".google.com\"]\n"
                 "[[shaping.provider]]\nname = \"g\"\nmx_suffixes = [\".googlemail.com\"]\n") ==
        "volley.toml:5: [[shaping.provider]] name: \"g\" names another [[shaping.provider]] already");
  CHECK(error_of("[[shaping.provider]]\nname = \"g\"\n") ==
        "volley.toml:1: [[shaping.provider]] mx_suffixes: missing (every [[shaping.provider]] needs a name and "
        "mx_suffixes)");
  CHECK(error_of("[[shaping.source]]\nsource = \"ip9\"\nprovider = \"yahoo\"\nmax_connections = 1\n") ==
        "volley.toml:2: [[shaping.source]] source: no [[source]] named \"ip9\"\n"
        "volley.toml:3: [[shaping.source]] provider: no [[shaping.provider]] named \"yahoo\"");
  CHECK(error_of("[[shaping.source]]\nsource = \"default\"\nprovider = \"g\"\ndomain = \"a.test\"\n") ==
        "volley.toml:4: [[shaping.source]] domain: a [[shaping.source]] names a provider or a domain, not both");
  CHECK(error_of("[[shaping.source]]\nsource = \"default\"\n[[shaping.source]]\nsource = \"default\"\n") ==
        "volley.toml:4: [[shaping.source]] source: another [[shaping.source]] is for the same source and destination");
  CHECK(error_of("[shaping]\ndefault = 3\n") == "volley.toml:2: [shaping] default: expected a table [shaping.default], got 3");
  CHECK(error_of("[shaping]\ndomain = { domain = \"a.test\" }\n") ==
        "volley.toml:2: [shaping] domain: expected [[shaping.domain]] tables (an array of tables), got a table");
}

TEST_CASE("API keys: a digest, a tenant and a role per key, mistakes are named") {
  const std::string hash(64, 'a');
  const Config c = parsed("[[api_key]]\nname = \"app\"\nkey_sha256 = \"" + hash + "\"\ntenant = \"acme\"\n"
                          "[[api_key]]\nname = \"ops\"\nkey_sha256 = \"" + std::string(64, 'b') + "\"\nadmin = true\n");
  REQUIRE(c.api_keys.size() == 2);
  CHECK(c.api_keys[0] == Config::ApiKey{"app", hash, "acme", false});
  CHECK(c.api_keys[1] == Config::ApiKey{"ops", std::string(64, 'b'), "default", true});
  CHECK(Config{}.api_keys.empty());

  CHECK(error_of("[[api_key]]\nname = \"app\"\nkey_sha256 = \"" + std::string(64, 'A') + "\"\n")
            .find("volley.toml:3: [[api_key]] key_sha256: expected the SHA-256 of the key") == 0);
  CHECK(error_of("[[api_key]]\nname = \"app\"\n").find("key_sha256: missing") != std::string::npos);
  CHECK(error_of("[[api_key]]\nname = \"app\"\nkey_sha256 = \"" + hash + "\"\nadmin = \"yes\"\n")
            .find("volley.toml:4: [[api_key]] admin: expected true or false") == 0);
  CHECK(error_of("[[api_key]]\nname = \"a\"\nkey_sha256 = \"" + hash + "\"\n[[api_key]]\nname = \"b\"\nkey_sha256 = \"" +
                 hash + "\"\n")
            .find("the same key as \"a\"") != std::string::npos);
  CHECK(error_of("[[api_key]]\nname = \"a\"\nkey_sha256 = \"" + hash + "\"\nsecret = \"x\"\n").find("unknown key") !=
        std::string::npos);
}

TEST_CASE("bounce listener, return paths, suppression, webhooks and the event log are read", "[config]") {
  const auto c = parsed(R"(
[log]
event_log_max_size = "64MiB"
event_log_keep = 3
[smtp_in]
listen = "127.0.0.1:2526"
hostname = "bounce.example.com"
domains = ["FBL.example.com."]
max_message_size = "2MiB"
max_connections = 50
timeout = "1m"
data_timeout = "5m"
tls_certificate = "/etc/volley/cert.pem"
tls_private_key = "/etc/volley/key.pem"
[[return_path]]
sender_domain = "*"
domain = "bounce.example.com"
[[return_path]]
sender_domain = "News.Example.org"
domain = "rp.example.org"
prefix = "b"
[suppression]
path = "/var/lib/volley/suppressions"
bounce_categories = ["bad-mailbox"]
complaints = false
[events]
webhook_queue = "/var/lib/volley/webhooks"
history_retention = "7d"
[[webhook]]
name = "app"
url = "https://app.example.com/hooks/volley"
secret = "0123456789abcdef0123"
events = ["bounced", "async_bounce", "complaint"]
tenants = ["acme"]
max_batch = 50
timeout = "5s"
retry_first = "500ms"
retry_max = "2m"
)");
  CHECK(c.log.event_log_max_size == 64u << 20);
  CHECK(c.log.event_log_keep == 3);
  REQUIRE(c.smtp_in.listen);
  CHECK(*c.smtp_in.listen == HostPort{"127.0.0.1", 2526});
  CHECK(c.smtp_in.domains == std::vector<std::string>{"fbl.example.com"});
  CHECK(c.smtp_in.max_message_size == 2u << 20);
  CHECK(c.smtp_in.max_connections == 50);
  CHECK(c.smtp_in.timeout == 60s);
  CHECK(c.smtp_in.data_timeout == 300s);
  CHECK(c.smtp_in.tls_private_key == "/etc/volley/key.pem");
  REQUIRE(c.return_paths.size() == 2);
  CHECK(c.return_paths[0].sender_domain == "*");
  CHECK(c.return_paths[0].prefix == "bounces");
  CHECK(c.return_paths[1].sender_domain == "news.example.org");
  CHECK(c.return_paths[1].prefix == "b");
  CHECK(c.suppression.bounce_categories == std::vector<std::string>{"bad-mailbox"});
  CHECK_FALSE(c.suppression.complaints);
  CHECK(c.events.webhook_queue == "/var/lib/volley/webhooks");
  CHECK(c.events.history_retention == std::chrono::hours(24 * 7));
  CHECK(Config{}.events.history_retention == std::chrono::hours(24 * 30));
  REQUIRE(c.webhooks.size() == 1);
  CHECK(c.webhooks[0].events == std::vector<std::string>{"bounced", "async_bounce", "complaint"});
  CHECK(c.webhooks[0].tenants == std::vector<std::string>{"acme"});
  CHECK(c.webhooks[0].max_batch == 50);
  CHECK(c.webhooks[0].retry_first == 500ms);
  CHECK(c.webhooks[0].retry_max == 120s);
  // Off unless configured.
  CHECK_FALSE(Config{}.smtp_in.listen);
  CHECK(Config{}.return_paths.empty());
}

TEST_CASE("mistakes in the feedback tables name file, line and key", "[config]") {
  CHECK(error_of("[smtp_in]\ntls_certificate = \"/c.pem\"\n") ==
        "volley.toml:2: [smtp_in] tls_certificate: STARTTLS needs both tls_certificate and tls_private_key");
  CHECK(error_of("[[return_path]]\ndomain = \"b.example.com\"\n").find(
            "[[return_path]] sender_domain: missing") != std::string::npos);
  CHECK(error_of("[[return_path]]\nsender_domain = \"*\"\ndomain = \"b.example.com\"\nprefix = \"a+b\"\n")
            .find("volley.toml:4: [[return_path]] prefix: expected 1 to 32 letters") != std::string::npos);
  CHECK(error_of("[[return_path]]\nsender_domain = \"*\"\ndomain = \"a.example\"\n"
                 "[[return_path]]\nsender_domain = \"*\"\ndomain = \"b.example\"\n")
            .find("\"*\" has a [[return_path]] already") != std::string::npos);
  CHECK(error_of("[[webhook]]\nname = \"a\"\nurl = \"ftp://x.example/\"\nsecret = \"0123456789abcdef\"\n")
            .find("volley.toml:3: [[webhook]] url: expected an http:// or https:// URL") != std::string::npos);
  CHECK(error_of("[[webhook]]\nname = \"a\"\nurl = \"http://x.example/\"\nsecret = \"short\"\n")
            .find("[[webhook]] secret: expected a secret of 16 to 512") != std::string::npos);
  CHECK(error_of("[[webhook]]\nname = \"a\"\nurl = \"http://x.example/\"\nsecret = \"0123456789abcdef\"\n"
                 "events = [\"delivered\", \"opened\"]\n")
            .find("[[webhook]] events: expected one of") != std::string::npos);
  CHECK(error_of("[[webhook]]\nname = \"a\"\nurl = \"http://x.example/\"\nsecret = \"0123456789abcdef\"\n"
                 "retry_first = \"10s\"\nretry_max = \"1s\"\n")
            .find("retry_max: must not be shorter than retry_first") != std::string::npos);
  CHECK(error_of("[events]\nhistory_retention = \"10m\"\n").find("[events] history_retention: expected a duration from") !=
        std::string::npos);
  CHECK(error_of("[suppression]\ncomplaints = \"yes\"\n") == "volley.toml:2: [suppression] complaints: expected true or false");
  CHECK(error_of("[smtp_inn]\n").find("did you mean [smtp_in]?") != std::string::npos);
}

TEST_CASE("the shipped systemd unit gives volleyd time to stop and lets it bind port 25") {
  std::ifstream in(VOLLEY_SOURCE_DIR "/deploy/volleyd.service");
  std::map<std::string, std::string> settings;
  for (std::string line; std::getline(in, line);) {
    const auto eq = line.find('=');
    if (!line.empty() && line[0] != '#' && eq != std::string::npos) settings[line.substr(0, eq)] = line.substr(eq + 1);
  }
  // volleyd's orderly stop may take up to 90 s (events to the webhook queue) + 10 s (closing it)
  // (daemon/main.cpp): a shorter stop timeout SIGKILLs it mid-way and repeats deliveries.
  REQUIRE(settings.count("TimeoutStopSec"));
  CHECK(std::stoi(settings["TimeoutStopSec"]) > 100);
  CHECK(settings["AmbientCapabilities"].find("CAP_NET_BIND_SERVICE") != std::string::npos);
  CHECK(settings["CapabilityBoundingSet"].find("CAP_NET_BIND_SERVICE") != std::string::npos);
}

TEST_CASE("[metrics] idle_series_ttl: how long an idle destination keeps its series, 0 keeps them", "[config]") {
  CHECK(Config{}.metrics.idle_series_ttl == std::chrono::hours(1));
  CHECK(parsed("[metrics]\nidle_series_ttl = \"2s\"\n").metrics.idle_series_ttl == 2s);
  CHECK(parsed("[metrics]\nidle_series_ttl = \"1d\"\n").metrics.idle_series_ttl == std::chrono::hours(24));
  CHECK(parsed("[metrics]\nidle_series_ttl = 0\n").metrics.idle_series_ttl == 0s);
  CHECK(error_of("[metrics]\nidle_series_ttl = \"500ms\"\n") ==
        "volley.toml:2: [metrics] idle_series_ttl: expected a whole number of seconds, got \"500ms\"");
  CHECK(error_of("[metrics]\nidle_series_ttl = \"soon\"\n").find("volley.toml:2: [metrics] idle_series_ttl: expected a duration") !=
        std::string::npos);
  CHECK(error_of("[metrics]\nidle_ttl = \"1h\"\n").find("[metrics] idle_ttl: unknown key") != std::string::npos);
}

TEST_CASE("[spool] min_free_space is a size or a percentage of the filesystem", "[config]") {
  CHECK_FALSE(Config{}.spool.min_free_bytes.has_value());  // automatic
  CHECK_FALSE(Config{}.spool.min_free_percent.has_value());
  const auto sized = parsed("[spool]\nmin_free_space = \"2GiB\"\n");
  CHECK(sized.spool.min_free_bytes == (std::uint64_t{2} << 30));
  CHECK_FALSE(sized.spool.min_free_percent.has_value());
  CHECK(parsed("[spool]\nmin_free_space = 0\n").spool.min_free_bytes == 0u);
  const auto share = parsed("[spool]\nmin_free_space = \"2.5%\"\n");
  CHECK(share.spool.min_free_percent == 2.5);
  CHECK_FALSE(share.spool.min_free_bytes.has_value());
  const std::string expected = "expected a size such as \"1GiB\" or \"512MiB\", a number of bytes, or a percentage "
                               "of the filesystem from \"0%\" to \"90%\" such as \"5%\", got ";
  CHECK(error_of("[spool]\nmin_free_space = \"95%\"\n") ==
        "volley.toml:2: [spool] min_free_space: " + expected + "\"95%\"");
  CHECK(error_of("[spool]\nmin_free_space = \"1GB\"\n") ==
        "volley.toml:2: [spool] min_free_space: " + expected + "\"1GB\"");
  CHECK(error_of("[spool]\nmin_free_space = -1\n") == "volley.toml:2: [spool] min_free_space: " + expected + "-1");
}
